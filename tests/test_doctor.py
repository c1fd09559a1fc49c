"""core.doctor and `python -m core doctor`: the setup facts are this process's real ones, in text and JSON."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import keras
import tensorflow as tf

from core.cli import main
from core.doctor import APP_FOLDER, diagnose, short_folder, writable


def test_diagnosis_reports_this_process(tmp_path: Path) -> None:
    facts = diagnose(tmp_path / "models")
    assert (facts.python, facts.tensorflow, facts.keras) == (platform.python_version(), tf.__version__,
                                                             keras.__version__)
    assert facts.built_with_cuda == tf.test.is_built_with_cuda()
    assert bool(facts.cuda_version) == facts.built_with_cuda
    assert [gpu.name for gpu in facts.gpus] == [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    assert all(gpu.memory_growth for gpu in facts.gpus)  # training turns it on before any job
    assert facts.precision_policy == keras.mixed_precision.global_policy().name
    assert facts.models_dir == str(tmp_path / "models") and facts.models_dir_writable


def test_writable_tries_the_nearest_existing_folder(tmp_path: Path) -> None:
    assert writable(tmp_path / "not" / "made" / "yet")
    assert not list(tmp_path.iterdir())  # the try leaves nothing behind
    assert not writable(Path("/proc/sentiment-studio/models"))  # /proc takes no files, even from root


def test_cli_doctor_prints_text_and_json(tmp_path: Path, capsys) -> None:
    assert main(["doctor", "--models-dir", str(tmp_path), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    facts = json.loads(lines[-1])
    assert facts["tensorflow"] == tf.__version__ and facts["models_dir_writable"] is True
    assert f"tensorflow: {tf.__version__}" in lines
    assert f"visible GPUs: {len(facts['gpus'])}" in lines
    assert f"models folder: {tmp_path} (writable)" in lines
    assert main(["doctor", "--models-dir", "/proc/sentiment-studio"]) == 0
    assert "models folder: /proc/sentiment-studio (NOT writable)" in capsys.readouterr().out


def test_short_folder_hides_where_the_app_lives_on_the_server() -> None:
    assert short_folder(APP_FOLDER / "models") == "models"
    assert short_folder(APP_FOLDER / "models" / "sessions" / "abc") == "models/sessions/abc"
    assert short_folder("/mount/src/elsewhere/models") == ".../models"
    assert short_folder("/models") == "/models"  # one folder under the root says nothing about the server
