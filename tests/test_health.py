"""Data health checks (core/health.py): each one is shown data that should trip it and data that should not."""

from __future__ import annotations

import time

import pytest

from core.config import TrainConfig, preset
from core.data import Dataset, load_dataset, load_test_dataset
from core.experiment import split_for_run
import core.health
from core.health import (
    IMBALANCE_RATIO,
    LONG_TOKENS,
    check_health,
    label_typos,
    language_of_each,
    near_duplicate_groups,
)
from tests.support import make_texts, shared_dataset

REVIEW = ("the battery lasts all day and the screen is bright enough to read in the sun, "
          "shipping was quick and the seller answered every question")
# The same review with one word changed: a near-duplicate, not an equal text.
REVIEW_EDITED = REVIEW.replace("quick", "fast")
OTHER_REVIEW = "the hotel room smelled of smoke, the staff ignored us and breakfast was cold every single morning"


def _dataset(texts: list[str], labels: list[str] | None = None) -> Dataset:
    labels = labels or ["positive" if index % 2 else "negative" for index in range(len(texts))]
    return Dataset(tuple(texts), tuple(labels))


def _base(count: int = 40, seed: int = 0) -> tuple[list[str], list[str]]:
    """Distinct short texts, with no near-duplicates among them (each carries its own number)."""
    return make_texts(count, seed=seed)


def test_texts_equal_after_normalising_form_one_exact_group() -> None:
    groups, complete = near_duplicate_groups(["Great film!!", "great  film", "ＧＲＥＡＴ ｆｉｌｍ", "awful film"])
    assert groups == [([0, 1, 2], True)] and complete


def test_a_review_with_one_word_changed_is_a_near_duplicate_and_unrelated_reviews_are_not() -> None:
    assert near_duplicate_groups([REVIEW, OTHER_REVIEW, REVIEW_EDITED]) == ([([0, 2], False)], True)
    assert near_duplicate_groups([REVIEW, OTHER_REVIEW, "the screen is bright enough to read in the sun"]) == ([], True)


def test_short_texts_are_compared_only_by_equality() -> None:
    # "good film" and "good films" share most shingles, but a few shingles are too few to call them copies.
    assert near_duplicate_groups(["good film", "good films", "bad film"]) == ([], True)


def test_duplicates_in_the_data_are_reported_with_their_rows_and_whether_labels_differ() -> None:
    texts, labels = _base()
    texts += [REVIEW, REVIEW_EDITED]
    labels += ["positive", "negative"]
    report = check_health(_dataset(texts, labels), preset("default"))
    [group] = report.duplicates
    assert [row.row for row in group.rows] == [40, 41] and not group.exact and group.labels_differ
    assert report.duplicate_rows == 1
    assert check_health(_dataset(*_base()), preset("default")).duplicates == ()


def test_a_test_file_text_that_copies_a_training_text_is_a_leak() -> None:
    texts, labels = _base()
    train = _dataset([*texts, REVIEW], [*labels, "positive"])
    leaking = _dataset([REVIEW_EDITED, OTHER_REVIEW, "the staff were lovely"], ["positive", "negative", "positive"])
    report = check_health(train, preset("default"), test_file=leaking)
    [leak] = report.leaks
    assert [(row.part, row.row) for row in leak.rows] == [("train", 40), ("test_file", 0)]
    assert report.leak_source == "test_file" and report.test_rows == 3
    assert report.duplicates == ()  # the test file's copy is a leak, not a duplicate within the training data
    clean = _dataset([OTHER_REVIEW, "the staff were lovely"], ["negative", "positive"])
    assert check_health(train, preset("default"), test_file=clean).leaks == ()


def test_near_duplicates_split_between_training_and_test_rows_are_leaks() -> None:
    texts, labels = _base(60)
    pairs = [(f"{REVIEW} number {word}", f"{REVIEW_EDITED} number {word}") for word in ("one", "two", "three", "four",
                                                                                         "five", "six", "seven", "eight")]
    texts += [text for pair in pairs for text in pair]
    labels += ["positive"] * len(pairs) * 2
    dataset = _dataset(texts, labels)
    config = TrainConfig(test_split=0.5, validation_split=0.1, seed=3)
    test_texts = set(split_for_run(dataset, config).test.texts)
    straddling = {pair for pair in pairs if len({text in test_texts for text in pair}) == 2}
    assert straddling, "the seed should split at least one pair across train and test"
    report = check_health(dataset, config)
    leaked = {tuple(sorted(row.text for row in group.rows)) for group in report.leaks}
    # The edited copies of one review are near-duplicates of each other's pair too, so groups may merge: every
    # straddling pair must be inside a leaking group, and every leaking group must straddle.
    assert all(any(set(pair) <= set(group) for group in leaked) for pair in straddling)
    assert all({row.part for row in group.rows} == {"train", "test"} for group in report.leaks)
    assert report.leak_source == "split" and report.test_rows == len(test_texts)
    assert check_health(_dataset(*_base(60)), config).leaks == ()


def test_very_short_and_very_long_texts_are_flagged_and_ordinary_ones_are_not() -> None:
    texts, labels = _base()
    long_text = " ".join(f"word{index}" for index in range(LONG_TOKENS + 1))
    texts += ["ok", "...", long_text]
    labels += ["positive", "negative", "positive"]
    report = check_health(_dataset(texts, labels), preset("default"))
    assert [row.text for row in report.short] == ["...", "ok"]  # "..." reads as no token at all
    assert [row.row for row in report.long] == [42]
    ordinary = check_health(_dataset(*_base()), preset("default"))
    assert ordinary.short == () and ordinary.long == ()


def test_languages_are_told_apart_by_their_characters() -> None:
    texts = ["I love this phone", "iPhone很好用", "I love 北京", "质量太差了", "Привет мир", "123 😀", "très bien"]
    assert language_of_each(texts) == ["en", "zh", "en", "zh", "other", "other", "en"]


def test_a_file_of_two_languages_is_mixed_and_one_of_one_language_is_not() -> None:
    english = [f"english review number {index}" for index in range(20)]
    chinese = [f"中文评论第{index}条" for index in range(20)]
    mixed = check_health(_dataset(english + chinese), preset("default"))
    assert mixed.languages == {"en": 20, "zh": 20, "other": 0} and mixed.mixed_languages
    assert mixed.language_examples["zh"][0] == "中文评论第0条"
    assert not check_health(_dataset(english + chinese[:1]), preset("default")).mixed_languages


@pytest.mark.parametrize(("small", "flagged"), [(4, True), (5, False)])
def test_class_imbalance_is_flagged_from_the_ratio(small: int, flagged: bool) -> None:
    large = 20
    texts = [f"text {index}" for index in range(large + small)]
    labels = ["common"] * large + ["rare"] * small
    imbalance = check_health(_dataset(texts, labels), preset("default")).imbalance
    assert (imbalance.largest, imbalance.smallest) == ("common", "rare")
    assert imbalance.ratio == large / small and imbalance.flagged is flagged
    assert (large / small >= IMBALANCE_RATIO) is flagged


def test_labels_that_look_like_typos_point_at_the_commoner_spelling() -> None:
    counts = {"positive": 50, "postive": 2, "negative": 48, "ｎｅｇａｔｉｖｅ": 1, "very_good": 3, "very good": 9}
    found = {(typo.label, typo.likely, typo.reason) for typo in label_typos(counts)}
    assert found == {("postive", "positive", "spelling"), ("ｎｅｇａｔｉｖｅ", "negative", "variant"),
                     ("very_good", "very good", "variant")}


@pytest.mark.parametrize("labels", [("positive", "negative"), ("pos", "neg"), ("1", "2"), ("4 stars", "5 stars"),
                                    ("relevant", "irrelevant"), ("like", "dislike"), ("joy", "sadness", "anger")])
def test_distinct_classes_are_not_called_typos(labels: tuple[str, ...]) -> None:
    assert label_typos(dict.fromkeys(labels, 10)) == ()


@pytest.mark.slow
def test_the_checks_run_in_seconds_on_fifty_thousand_real_rows() -> None:
    # online_shopping: 42,191 training rows and a 10,550-row test file. Measured 1.6 s on the shared 2-core
    # machine under load (1.1 s for near-duplicates), and 7.1 s once when it was busier still; the bound leaves
    # room for that (bench/health.py measures the time).
    folder = shared_dataset("online_shopping")
    dataset = load_dataset(folder / "train.csv")
    test = load_test_dataset(folder / "test.csv", classes=dataset.classes)
    started = time.perf_counter()
    report = check_health(dataset, preset("default"), test_file=test)
    assert time.perf_counter() - started < 20.0
    assert report.rows + report.test_rows > 50_000
    # Templated shop reviews ("好好好…", "质量非常好，与卖家描述的完全一致…") recur within and across the files.
    assert report.duplicates and report.leaks and report.languages["zh"] > 0.99 * report.rows


def _few_word_rows(count: int, seed: int = 0) -> list[str]:
    """Rows built from five repeated words (issue 16.3's crafted file): nearly every pair is a near-duplicate
    candidate, which took the unbounded search 85 s on 4.4 MB."""
    import random

    rng = random.Random(seed)
    words = ["great", "phone", "love", "the", "battery"]
    return [" ".join(rng.choice(words) for _ in range(12)) + f" {index}" for index in range(count)]


def test_the_near_duplicate_search_stops_at_its_budget_and_says_so_while_exact_duplicates_stay_complete(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _few_word_rows(3_000) + [REVIEW, REVIEW]
    monkeypatch.setattr(core.health, "NEAR_DUPLICATE_SECONDS", 0.2)
    started = time.monotonic()
    report = check_health(_dataset(texts), preset("default"))
    assert time.monotonic() - started < 20  # the unbounded search checks every candidate pair
    assert not report.near_complete
    assert any(group.exact and [row.text for row in group.rows] == [REVIEW, REVIEW] for group in report.duplicates)


def test_real_looking_data_is_searched_completely() -> None:
    texts, labels = _base(200)
    assert check_health(_dataset(texts, labels), preset("default")).near_complete
