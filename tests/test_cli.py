from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.cli import main
from tests.conftest import REPO, make_texts


@pytest.fixture
def train_csv(tmp_path: Path) -> Path:
    texts, labels = make_texts(80)
    path = tmp_path / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        writer.writerows(zip(texts, labels))
    return path


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_train_predict_evaluate_and_list_round_trip(train_csv, tmp_path, capsys):
    models = tmp_path / "models"
    args = ["train", str(train_csv), "--models-dir", str(models), "--layers", "16,8", "--epochs", "3",
            "--learning-rate", "0.02", "--name", "cli model", "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    trained = _last_json(captured.out)
    assert {"model_dir", "test_accuracy", "epochs_run", "train_seconds", "device"} <= set(trained)
    assert trained["name"] == "cli-model" and trained["epochs_run"] == 3
    assert "Epoch 1/3" in captured.err  # progress goes to stderr, not into the JSON on stdout

    assert main(["predict", trained["model_dir"], "what a wonderful phone", "这个 很差", "--json"]) == 0
    predictions = _last_json(capsys.readouterr().out)["predictions"]
    assert [p["text"] for p in predictions] == ["what a wonderful phone", "这个 很差"]
    assert all(set(p["probabilities"]) == {"negative", "positive"} for p in predictions)

    assert main(["evaluate", trained["model_dir"], str(train_csv), "--json"]) == 0
    assert 0.0 <= _last_json(capsys.readouterr().out)["accuracy"] <= 1.0

    assert main(["list", "--models-dir", str(models), "--json"]) == 0
    assert [m["name"] for m in _last_json(capsys.readouterr().out)["models"]] == ["cli-model"]

    assert main(["export", trained["model_dir"], str(tmp_path / "served"), "--json"]) == 0
    assert (tmp_path / "served" / "saved_model.pb").is_file()
    assert main(["export", trained["model_dir"], str(tmp_path / "served.zip")]) == 0
    assert "cli-model/saved_model.pb" in zipfile.ZipFile(tmp_path / "served.zip").namelist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "missing.csv"], "missing.csv"),
        (["train", "{csv}", "--epochs", "0"], "epochs=0"),
        (["train", "{csv}", "--preset", "bert"], "bert"),
        (["train", "{csv}", "--text-column", "body"], "body"),
        (["predict", "{tmp}/no-such-model", "hello"], "no-such-model"),
        (["export", "{tmp}/no-such-model", "{tmp}/out"], "no-such-model"),
        (["export", "{tmp}/no-such-model", "{csv}"], "exists already"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, message, train_csv, tmp_path):
    args = [arg.format(csv=train_csv, tmp=tmp_path) for arg in args]
    result = subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
