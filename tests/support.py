"""Builders and checks the tests share (data, configs, files, models); fixtures stay in the conftest files."""

from __future__ import annotations

from typing import Any

import numpy as np


def assert_same_model(loaded: Any, original: Any) -> None:
    """`loaded` is `original` back from disk: the same outputs on random inputs of the original's input width."""
    width = original.inputs[0].shape[-1]
    inputs = np.random.default_rng(0).normal(size=(5, width)).astype("float32")
    np.testing.assert_array_equal(np.asarray(loaded(inputs)), np.asarray(original(inputs)))
