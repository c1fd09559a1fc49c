from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.cli import _config_from_args, _flag_help, _metavar, _parser, main
from core.config import SETTINGS, TrainConfig, preset
from core.errors import ConfigError
from core.i18n import t
from tests.support import REPO, csv_file, make_texts


@pytest.fixture
def train_csv(tmp_path: Path) -> Path:
    texts, labels = make_texts(80)
    return csv_file(tmp_path / "reviews.csv", zip(texts, labels), header=("review", "sentiment"))


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
        (["train", "{csv}", "--dropout", "0.95"], "use 0 to 0.9"),
        (["train", "{csv}", "--vocab-size", "lots"], "vocab_size='lots' is not a whole number"),
        (["train", "{csv}", "--layer-sizes", "64 x"], "must be whole numbers"),
        (["train", "{csv}", "--preset", "bert"], "bert"),
        (["suspects", "{csv}", "--seed", "soon"], "seed='soon' is not a whole number: use 0 to 2147483647"),
        (["suspects", "missing.csv", "--seed", "-1"], "seed=-1 is out of range"),  # before the data are read
        (["train", "{csv}", "--text-column", "body"], "body"),
        # Checked before the data is read and long before training (the one line below would follow progress).
        (["train", "{csv}", "--name", "CON"], "reserved by Windows"),
        (["train", "{csv}", "--name", "../.."], "has no letters or digits"),
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


# --- one flag per TrainConfig setting, generated from its description ------------------------------------------------
def _config(*flags: str):
    """The config `python -m core train data.csv FLAGS` would train, without reading data or training."""
    return _config_from_args(_parser().parse_args(["train", "data.csv", *flags]))


def _train_parser() -> argparse.ArgumentParser:
    commands = next(action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
    return commands.choices["train"]


def _train_flags() -> dict[str, list[str]]:
    """Each train option's destination -> its flags, as argparse knows them."""
    return {action.dest: action.option_strings for action in _train_parser()._actions if action.option_strings}


def _words_and_value(name: str, current: object) -> tuple[list[str], object]:
    """Command-line words that change setting `name` away from `current`, and the value they should give."""
    setting, flag = SETTINGS[name], "--" + name.replace("_", "-")
    if setting.kind == "bool":
        return [f"--no-{flag[2:]}" if current else flag], not current
    if setting.kind == "sizes":
        return [flag, f"{setting.maximum} {setting.minimum}"], [setting.maximum, setting.minimum]
    if setting.kind == "choice":
        value = next(option for option in setting.options if option != current)
    else:
        value = setting.maximum if current != setting.maximum else setting.minimum
    return [flag, str(value)], value


@pytest.mark.parametrize("name", [name for name in SETTINGS if name != "preset"])
def test_every_setting_has_a_flag_that_reaches_the_config(name: str) -> None:
    base = preset("default")
    words, value = _words_and_value(name, getattr(base, name))
    assert words[0] in _train_flags()[name]
    config = _config(*words)
    assert getattr(config, name) == value
    assert config.replace(**{name: getattr(base, name)}) == base  # nothing else changed


def test_the_preset_field_is_set_by_preset() -> None:
    assert "--preset" in _train_flags()["preset"]
    assert _config("--preset", "article-lstm") == preset("article-lstm")
    assert _config().preset == "default"
    assert _config("--preset", "custom") == TrainConfig()  # the Train page's Custom: every setting's own default


def test_suspects_seed_is_the_seed_settings_flag() -> None:
    commands = next(action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
    seed = next(action for action in commands.choices["suspects"]._actions if action.dest == "seed")
    assert seed.help == _flag_help(SETTINGS["seed"]) and seed.metavar == _metavar(SETTINGS["seed"])
    suspects = commands.choices["suspects"]
    assert _config_from_args(suspects.parse_args(["data.csv", "--seed", "7"])) == preset("default").replace(seed=7)
    assert _config_from_args(suspects.parse_args(["data.csv"])) == preset("default")


def test_flags_override_the_preset_only_when_given() -> None:
    config = _config("--preset", "article-lstm", "--dropout", "0.25", "--no-early-stopping")
    assert config == preset("article-lstm").replace(dropout=0.25, early_stopping=False)


@pytest.mark.parametrize("sizes", ["64 128", "64,128", "64; 128", "64, 128"])
def test_layer_sizes_are_read_as_the_train_page_reads_them(sizes: str) -> None:
    assert _config("--layer-sizes", sizes).layer_sizes == [64, 128]
    assert _config("--layers", sizes).layer_sizes == [64, 128]  # the older spelling still works


def test_none_is_spelled_auto_or_none() -> None:
    assert _config("--preset", "article-lstm", "--sequence-length", "auto").sequence_length is None
    assert _config("--sequence-length", "80").sequence_length == 80
    assert _config("--clipnorm", "none").clipnorm is None


def test_bad_flag_values_raise_config_errors_with_the_described_bounds() -> None:
    with pytest.raises(ConfigError, match=r"dropout=0\.95 is out of range: use 0 to 0\.9\."):
        _config("--dropout", "0.95")
    with pytest.raises(ConfigError, match="patience='soon' is not a whole number: use 1 to 100"):
        _config("--patience", "soon")


@pytest.mark.parametrize("name", [*SETTINGS])
def test_flag_help_is_the_train_pages_english_help(name: str) -> None:
    train = _train_parser()
    action = next(action for action in train._actions if action.dest == name)
    assert t(SETTINGS[name].help, "en").replace("%", "%%") in action.help
    assert "--" + name.replace("_", "-") in train.format_help()  # and the help renders (no stray % codes)
