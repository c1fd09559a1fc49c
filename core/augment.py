"""Data augmentation for small training sets: extra copies of each text with a few tokens deleted or swapped.

The two label-preserving edits of Wei & Zou's "EDA" (2019) that need no word list or network: random
deletion and random swap. English is edited word by word; Chinese (any CJK script) character by character,
since it is written without spaces and the models read it as characters. Only the training part is ever
augmented, so validation and test scores stay scores on real text.
"""

from __future__ import annotations

import random
import re

from core.data import Dataset

# Share of a text's tokens deleted (each with this probability) or swapped (this share of pairs) per copy:
# EDA's alpha=0.1, the value its authors found safe for every training-set size they tried.
EDIT_RATE = 0.1
# The same scripts core.text splits into characters (Python's re has no \p{Han}, hence the ranges).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ebef"
# A token is one CJK character or a run of anything else that is not a space (a word, "!!", "，").
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def tokens(text: str) -> list[str]:
    """The units augmentation edits: words, and single characters of CJK text."""
    return _TOKEN.findall(text)


def join(units: list[str]) -> str:
    """Tokens back into text: a space between two non-CJK tokens only, so Chinese stays unspaced."""
    pieces: list[str] = []
    for index, unit in enumerate(units):
        if index and not (_IS_CJK.match(unit) or _IS_CJK.match(units[index - 1])):
            pieces.append(" ")
        pieces.append(unit)
    return "".join(pieces)


def random_deletion(units: list[str], rng: random.Random, rate: float = EDIT_RATE) -> list[str]:
    """Each token dropped with probability `rate`; one random token survives if all would go."""
    kept = [unit for unit in units if rng.random() >= rate]
    return kept or ([rng.choice(units)] if units else [])


def random_swap(units: list[str], rng: random.Random, rate: float = EDIT_RATE) -> list[str]:
    """`rate` of the tokens (at least one pair) swapped with another random token."""
    swapped = list(units)
    if len(swapped) < 2:
        return swapped
    for _ in range(max(1, round(rate * len(swapped)))):
        first, second = rng.sample(range(len(swapped)), 2)
        swapped[first], swapped[second] = swapped[second], swapped[first]
    return swapped


def augment(dataset: Dataset, copies: int, seed: int) -> Dataset:
    """The rows of `dataset` followed by `copies` edited copies of each, with the same labels.

    Each copy gets deletion or swap, chosen at random; one `seed` gives the same copies every time. With
    `copies` 0 the dataset itself comes back, so "off" costs nothing and changes nothing.
    """
    if copies <= 0:
        return dataset
    rng = random.Random(seed)
    edits = (random_deletion, random_swap)
    texts, labels = list(dataset.texts), list(dataset.labels)
    for _ in range(copies):
        for text, label in zip(dataset.texts, dataset.labels):
            texts.append(join(rng.choice(edits)(tokens(text), rng)))
            labels.append(label)
    return Dataset(texts, labels, dataset.report)
