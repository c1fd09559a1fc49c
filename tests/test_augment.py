from __future__ import annotations

import random
from collections import Counter

import pytest

from core.augment import augment, join, random_deletion, random_swap, tokens
from core.data import Dataset
from core.training import JobStatus, TrainingJob
from tests.support import make_texts, tiny_config

ENGLISH = "the acting was great but the plot made no sense at all"
CHINESE = "房间很干净，服务也很好，下次还来"


def _dataset() -> Dataset:
    texts, labels = make_texts(30)
    return Dataset(tuple(texts) + (CHINESE,), tuple(labels) + ("positive",))


def test_off_returns_the_training_data_unchanged():
    dataset = _dataset()
    assert augment(dataset, copies=0, seed=1) is dataset


def test_copies_follow_the_originals_and_keep_their_labels():
    dataset = _dataset()
    augmented = augment(dataset, copies=3, seed=7)
    assert len(augmented) == 4 * len(dataset)
    assert augmented.texts[: len(dataset)] == dataset.texts
    assert augmented.labels == dataset.labels * 4
    assert Counter(augmented.labels) == Counter({label: 4 * count for label, count in dataset.class_counts().items()})
    copies = augmented.texts[len(dataset):]
    assert sum(copy not in dataset.texts for copy in copies) > len(copies) / 2  # most copies really are edited


def test_the_same_seed_gives_the_same_copies_and_another_seed_others():
    dataset = _dataset()
    assert augment(dataset, copies=2, seed=3) == augment(dataset, copies=2, seed=3)
    assert augment(dataset, copies=2, seed=3).texts != augment(dataset, copies=2, seed=4).texts


def test_english_is_edited_word_by_word():
    words = ENGLISH.split()
    for seed in range(20):
        rng = random.Random(seed)
        deleted = random_deletion(words, rng, rate=0.3)
        assert deleted and set(deleted) <= set(words)
        assert Counter(random_swap(words, rng)) == Counter(words)  # the same words, reordered
    assert tokens(ENGLISH) == words and join(words) == ENGLISH


def test_chinese_is_edited_character_by_character_and_stays_unspaced():
    assert tokens(CHINESE) == list(CHINESE)
    assert join(tokens(CHINESE)) == CHINESE
    assert tokens("很好 very good!") == ["很", "好", "very", "good!"]
    assert join(tokens("很好 very good!")) == "很好very good!"
    swapped = join(random_swap(tokens(CHINESE), random.Random(0), rate=0.2))
    assert sorted(swapped) == sorted(CHINESE) and swapped != CHINESE and " " not in swapped


def test_deletion_never_leaves_a_text_empty():
    rng = random.Random(0)
    assert all(len(random_deletion(["好"], rng, rate=1.0)) == 1 for _ in range(10))
    assert random_deletion([], rng) == [] and random_swap(["好"], rng) == ["好"]


@pytest.mark.parametrize("copies", [0, 2])
def test_the_setting_reaches_training_and_only_the_training_part(copies: int):
    texts, labels = make_texts(48)
    train = Dataset(tuple(texts), tuple(labels))
    validation = Dataset(*map(tuple, make_texts(16, seed=1)))
    config = tiny_config(batch_size=8, epochs=1, early_stopping=False, augment_copies=copies)
    job = TrainingJob(config, train, validation).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED
    assert job.snapshot().batches_per_epoch == 48 * (1 + copies) // 8
    assert job.train is train and job.validation is validation  # the job's own data are left as given
