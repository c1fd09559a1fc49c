"""Strings in both languages (core/i18n.py): English counts agree in number, Chinese ones have no plural."""

from __future__ import annotations

import re

import pytest

from core.i18n import PLURAL_FORM, STRINGS, fill, t
from tests.support import REPO


def test_one_row_is_a_row_and_two_are_rows():
    # "1 rows had an empty text or label" (issue 10).
    assert t("dropped_missing", count=1) == "1 row had an empty text or label."
    assert t("dropped_missing", count=2) == "2 rows had an empty text or label."
    assert t("dropped_duplicates", count=1) == "1 row was an exact duplicate."
    assert t("batch_caption", shown=1, total=1) == "Showing 1 of 1 row."
    assert t("embedding_estimate", texts="1,200", eta="2m") .startswith("First the encoder turns 1,200 texts ")
    assert t("dropped_missing", "zh", count=1) == "1 行的文本或标签为空。"


@pytest.mark.parametrize("key", [key for key, (english, _) in STRINGS.items() if PLURAL_FORM.search(english)])
def test_every_plural_names_a_value_the_string_is_given(key: str):
    english, chinese = STRINGS[key]
    fields = set(re.findall(r"\{(\w+)[:}]", english)) | set(re.findall(r"\{(\w+)[:}]", chinese))
    assert {match[1] for match in PLURAL_FORM.finditer(english)} <= fields
    assert not PLURAL_FORM.search(chinese)


_NOUNS = r"(rows|labels|texts|mistakes|epochs|models|classes|columns|words|batches|settings)\b"
_COUNTED_NOUN = re.compile(r"\{(\w+)(:,)?\} " + _NOUNS)
# A count in Python code (an f-string's "{len(dataset)} rows" or a template's "{rows} rows") before a plural noun.
_COUNTED_NOUN_IN_CODE = re.compile(r"\{[^{}|]+\} " + _NOUNS)


def test_no_english_count_is_written_in_the_plural_only():
    # New strings must say "{count:,} {count|row|rows}", or one row reads "1 rows".
    unmarked = {key: match[0] for key, (english, _) in STRINGS.items() for match in _COUNTED_NOUN.finditer(english)}
    assert not unmarked


def test_no_english_string_hedges_its_number_with_s_in_brackets():
    # "Unknown training setting(s)" (issue 10): a count picks "setting" or "settings" instead.
    assert not [key for key, (english, _) in STRINGS.items() if "(s)" in english]
    assert t("config_unknown_settings", count=1, unknown="a", known="b") == "1 unknown training setting: a; known: b."
    assert t("config_unknown_settings", count=2, unknown="a, c", known="b").startswith("2 unknown training settings:")


def test_the_clis_english_progress_lines_mark_their_counts_too():
    # "loaded 1 rows from reviews.csv" (issue 10): the CLI's lines are templates for fill, which t uses.
    lines = (REPO / "core" / "cli.py").read_text(encoding="utf-8").splitlines()
    assert not [line.strip() for line in lines if _COUNTED_NOUN_IN_CODE.search(line)]
    assert fill("loaded {rows} {rows|row|rows} from {data}", rows=1, data="a{b}.csv") == "loaded 1 row from a{b}.csv"
