"""Tests for core.experiment: the split a run trains, validates and is scored on, the same from app and CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.config import TrainConfig
from core.data import Dataset
from core.experiment import held_out, split_for_run
from tests.support import make_texts

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = TrainConfig(validation_split=0.2, test_split=0.3, seed=3)


def _dataset(count: int, seed: int = 0) -> Dataset:
    texts, labels = make_texts(count, seed=seed)
    return Dataset(tuple(texts), tuple(labels))


def test_without_a_test_file_validation_and_test_are_held_out_of_the_data() -> None:
    dataset = _dataset(100)
    split = split_for_run(dataset, CONFIG)
    assert (len(split.train), len(split.validation), len(split.test)) == (50, 20, 30)
    assert sorted(split.train.texts + split.validation.texts + split.test.texts) == sorted(dataset.texts)
    assert split_for_run(dataset, CONFIG) == split  # the seed decides
    assert held_out(split) == ("test", split.test)


def test_an_uploaded_test_file_replaces_the_test_part() -> None:
    dataset, test_file = _dataset(100), _dataset(12, seed=9)
    split = split_for_run(dataset, CONFIG, test_file)
    assert split.test is test_file
    assert (len(split.train), len(split.validation)) == (80, 20)  # nothing else is held out of the data
    assert sorted(split.train.texts + split.validation.texts) == sorted(dataset.texts)


def test_importing_it_does_not_import_tensorflow() -> None:
    # The CLI splits the data before TensorFlow's slow import, so a bad split is reported at once.
    code = "import sys, core.experiment; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT).returncode == 0
