"""Builders and checks the tests share (data, configs, files, models); fixtures stay in the conftest files."""

from __future__ import annotations

import csv
import io
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
# How long a test waits for a tiny training run or an AppTest run (the first imports TensorFlow and traces models;
# later runs take well under a second).
RUN_TIMEOUT = 60
# The model the `trained_models` fixture trains once per session.
TINY_MODEL = "tiny-model"
# Three Latin words in a row are an English phrase left untranslated; names such as "CSV UTF-8" or
# "Sentiment Studio" are at most two.
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")

_POSITIVE = ["great", "love", "excellent", "wonderful", "好", "喜欢", "棒", "满意"]
_NEGATIVE = ["awful", "hate", "terrible", "broken", "差", "讨厌", "烂", "失望"]
_FILLER = ["the", "phone", "film", "hotel", "service", "这个", "手机", "电影", "酒店", "really", "quite"]


def make_texts(count: int, seed: int = 0, classes: tuple[str, ...] = ("negative", "positive")) -> tuple[list[str], list[str]]:
    """Short English/Chinese texts whose label is given away by one sentiment word (neutral for 3 classes)."""
    rng = random.Random(seed)
    words = {"positive": _POSITIVE, "negative": _NEGATIVE, "neutral": ["ok", "average", "一般", "还行"]}
    texts, labels = [], []
    for index in range(count):
        label = classes[index % len(classes)]
        sentence = rng.sample(_FILLER, 3) + [rng.choice(words[label])]
        rng.shuffle(sentence)
        texts.append(" ".join(sentence) + f" {index}")
        labels.append(label)
    return texts, labels


def labelled_rows(count: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    """`make_texts` as (text, label) rows, ready for `csv_bytes`."""
    texts, labels = make_texts(count, seed=seed)
    return list(zip(texts, labels))


def csv_bytes(rows: Iterable[Sequence[str]], header: Sequence[str] = ("text", "label"), delimiter: str = ",",
              encoding: str = "utf-8", line_end: str = "\n", quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    """A small delimited file, each row a line ending in `line_end` ("\\r\\n" is what Excel and Python's csv
    module write by default); by default only fields that hold the delimiter, a quote or a line break are quoted
    (`quoting`: one of csv.QUOTE_*)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def csv_file(path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = ("text", "label")) -> Path:
    """`csv_bytes(rows, header)` written to `path`, for code that reads a file (the CLI); returns `path`."""
    path.write_bytes(csv_bytes(rows, header))
    return path


def tiny_config(**overrides: Any) -> TrainConfig:
    """A bag-of-words mlp with one layer of 8 that trains on `make_texts` data in a second or two; `overrides`
    set any other field (or change these)."""
    return TrainConfig(**{"family": "mlp", "layer_sizes": [8], "vocab_size": 500, "epochs": 2, "batch_size": 16,
                          **overrides})


def wait_for(condition: Callable[[], object], seconds: float = RUN_TIMEOUT) -> None:
    """Polls `condition` every 50 ms until it is true; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def shared_dataset(name: str) -> Path:
    """A real corpus folder from ../shared/datasets, or a skip when this checkout has none beside it."""
    folder = SHARED_DATASETS / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available")
    return folder


def assert_same_model(loaded: Any, original: Any) -> None:
    """`loaded` is `original` back from disk: the same outputs on random inputs of the original's input width."""
    width = original.inputs[0].shape[-1]
    inputs = np.random.default_rng(0).normal(size=(5, width)).astype("float32")
    np.testing.assert_array_equal(np.asarray(loaded(inputs)), np.asarray(original(inputs)))


def assert_chinese(text: str, *details: str) -> None:
    """`text` names each of `details` and is Chinese apart from them: no English phrase is left in it."""
    for detail in details:
        assert detail in text, text
    assert CJK.search(text), text
    rest = text
    for detail in details:
        rest = rest.replace(detail, " ")
    assert not ENGLISH_PHRASE.search(rest), (ENGLISH_PHRASE.search(rest), text)
