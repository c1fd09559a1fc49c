"""bench/gpu.py: its CPU path runs end to end on generated texts, and its cuDNN check names what breaks the kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import tensorflow as tf

from bench.gpu import cudnn_blockers, unwrapped

REPO = Path(__file__).resolve().parents[1]


def test_cpu_path_times_both_presets_and_finds_article_lstm_cudnn_ready(tmp_path: Path) -> None:
    results = tmp_path / "gpu.json"
    finished = subprocess.run(
        [sys.executable, "bench/gpu.py", "--quick", "--synthetic", "--rows", "200", "--json", str(results)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    tables = json.loads(results.read_text())["tables"]
    timing = {row["preset"]: row for row in tables["seconds per epoch"]}
    assert set(timing) == {"default", "article-lstm"}
    assert all(row["CPU epoch s"] > 0 and row["epochs"] == 1 and row["rows"] == 180 for row in timing.values())
    cpu_check = next(row for row in tables["article-lstm and cuDNN"] if row["run"].startswith("cpu"))
    assert (cpu_check["lstm layers"], cpu_check["qualifies"], cpu_check["blockers"]) == (2, True, "none")
    assert cpu_check["rows with no tokens"] == 0
    if not tf.config.list_physical_devices("GPU"):
        assert "No GPU visible" in finished.stdout
        assert timing["default"]["GPU epoch s"] == "no GPU" and cpu_check["fused kernel in graph"] == "n/a (no GPU)"


def test_cudnn_blockers_name_each_setting_that_sends_keras_to_its_generic_loop() -> None:
    assert cudnn_blockers(keras.layers.LSTM(4, name="plain")) == []
    blockers = cudnn_blockers(keras.layers.LSTM(4, activation="relu", recurrent_dropout=0.2, unroll=True,
                                                use_cudnn=False, name="slow"))
    assert blockers == ["slow: activation is relu, not tanh", "slow: recurrent_dropout is 0.2", "slow: unroll is on",
                        "slow: use_cudnn is False"]
    assert cudnn_blockers(keras.layers.LSTM(4, recurrent_activation="hard_sigmoid", use_bias=False, name="b")) == [
        "b: recurrent_activation is hard_sigmoid, not sigmoid", "b: no bias"]


def test_a_bidirectional_lstm_is_checked_through_its_wrapper() -> None:
    wrapper = keras.layers.Bidirectional(keras.layers.LSTM(4, recurrent_dropout=0.1))
    assert unwrapped(wrapper).__class__.__name__ == "LSTM"
    assert cudnn_blockers(unwrapped(wrapper))[0].endswith("recurrent_dropout is 0.1")
