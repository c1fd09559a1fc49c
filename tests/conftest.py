"""Shared fixtures: tiny generated sentiment data (seconds to train on) and paths to the real corpora."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"

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


@pytest.fixture
def tiny_dataset():
    from core.data import Dataset

    texts, labels = make_texts(120)
    return Dataset(tuple(texts), tuple(labels))


def shared_dataset(name: str) -> Path:
    """A real corpus folder from ../shared/datasets, or a skip when this checkout has none beside it."""
    folder = SHARED_DATASETS / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available")
    return folder
