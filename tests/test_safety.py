"""Tests for core.safety: formula-safe downloads and public-mode detection."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from core.errors import ConfigError
from core.safety import (
    FORMULA_CHARACTERS,
    PUBLIC_MODE_VARIABLE,
    WORD_JOINER,
    escape_formula,
    markdown_literal,
    public_mode,
    to_safe_csv,
    without_server_paths,
)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
     ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("\n@x", "'\n@x"), ("great", "great"), ("a=b", "a=b"), ("", "")],
)
def test_escape_formula(value: str, escaped: str) -> None:
    assert escape_formula(value) == escaped


def test_safe_csv_has_a_bom_keeps_chinese_and_numbers_and_escapes_text_and_headers() -> None:
    frame = pd.DataFrame({"text": ["好评 =)", "=HYPERLINK(1)"], "=label": ["-1", "+1"], "p": [-0.5, 0.25]})
    download = to_safe_csv(frame)
    assert download.startswith(b"\xef\xbb\xbf")
    assert download.decode("utf-8-sig").splitlines() == [
        "text,'=label,p", "好评 =),'-1,-0.5", "'=HYPERLINK(1),'+1,0.25",
    ]


@pytest.mark.parametrize("cell", ["nice product\r=IMPORTDATA(\"x\")", "fine\n@SUM(A1)", "ok\r\n+1", "a\r\r\t=1"])
def test_safe_csv_quotes_line_breaks_and_escapes_every_line_of_a_cell(cell: str) -> None:
    download = to_safe_csv(pd.DataFrame({"text": [cell], "label": ["positive"]})).decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(download, newline="")))
    assert len(records) == 2 and records[1][1] == "positive"  # the line break stayed inside its cell
    assert records[1][0].startswith(cell[:2])
    # Even a reader that splits on every CR or LF finds no line starting a formula.
    lines = re.split(r"\r\n|\r|\n", download)
    assert not any(line.lstrip(' "').startswith(FORMULA_CHARACTERS) for line in lines if line)


@pytest.mark.parametrize("cell", ["\r", "\r=1", "\r\n-2", "\rplain"])
def test_a_cell_that_starts_with_a_line_break_still_starts_with_no_formula_character(cell: str) -> None:
    # Found by test_properties: a cell starting with a CR has an empty first line, which left the CR in front.
    download = to_safe_csv(pd.DataFrame({"text": [cell], "label": ["positive"]})).decode("utf-8-sig")
    written = list(csv.reader(io.StringIO(download, newline="")))[1][0]
    assert written.startswith("'") and written[1:].replace("'", "") == cell.replace("'", "")


@pytest.mark.parametrize(("text", "broken"), [
    ("see https://evil.example/x", "https\\:" + WORD_JOINER + "//"),
    ("www.evil.example", "www" + WORD_JOINER + "\\."),
    ("WWW.evil.example", "WWW" + WORD_JOINER + "\\."),
    ("mail me@evil.example", "me" + WORD_JOINER + "@"),
    (":material/warning: :streamlit:", "\\:" + WORD_JOINER + "material"),
    (":red[alarm]", "\\:" + WORD_JOINER + "red"),
    ("&lt;b&gt;", "&" + WORD_JOINER + "lt;"),
])  # fmt: skip
def test_markdown_literal_breaks_links_icons_and_entities(text: str, broken: str) -> None:
    shown = markdown_literal(text)
    assert broken in shown
    assert shown.replace("\\", "").replace(WORD_JOINER, "") == text  # what the reader sees is what was written


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u200b", "\u200d",
                                     "\ufeff", WORD_JOINER])
def test_markdown_literal_shows_invisible_characters_as_their_code(control: str) -> None:
    shown = markdown_literal(f"txt{control}exe.csv").replace("\\", "")
    assert control not in shown and f"txt[U+{ord(control):04X}]exe.csv" == shown


def test_markdown_literal_leaves_everyday_text_readable() -> None:
    assert markdown_literal("has the label 'x': add rows & more") == "has the label 'x'\\: add rows & more"
    assert markdown_literal("好评 *很好*") == "好评 \\*很好\\*"


@pytest.mark.parametrize(("message", "shown"), [
    ("could not be saved in /mount/src/app/models/.sessions/4f2a: [Errno 28] No space left on device",
     "could not be saved in .../4f2a: [Errno 28] No space left on device"),
    ("Cannot read '/home/user/data/reviews.csv'", "Cannot read '.../reviews.csv'"),
    # Not paths: a URL, a ratio of labels, one folder.
    ("see https://example.org/a/b", "see https://example.org/a/b"),
    ("labels positive/negative", "labels positive/negative"),
    ("in /models", "in /models"),
])  # fmt: skip
def test_messages_lose_server_paths(message: str, shown: str) -> None:
    assert without_server_paths(message) == shown


@pytest.mark.parametrize(("setting", "expected"), [("1", True), ("true", True), ("TRUE", True), ("0", False),
                                                   ("false", False), (" off ", False)])
def test_public_mode_setting_wins(monkeypatch, setting: str, expected: bool) -> None:
    monkeypatch.setenv(PUBLIC_MODE_VARIABLE, setting)
    monkeypatch.setenv("HOSTNAME", "streamlit")
    assert public_mode() is expected


def test_public_mode_refuses_an_unknown_setting(monkeypatch) -> None:
    monkeypatch.setenv(PUBLIC_MODE_VARIABLE, "sometimes")
    with pytest.raises(ConfigError, match="STUDIO_PUBLIC_MODE is 'sometimes': set it to 1"):
        public_mode()


@pytest.mark.parametrize(("hostname", "expected"), [("streamlit", True), ("my-laptop", False)])
def test_public_mode_detects_community_cloud(monkeypatch, hostname: str, expected: bool) -> None:
    monkeypatch.delenv(PUBLIC_MODE_VARIABLE, raising=False)
    monkeypatch.setenv("HOSTNAME", hostname)
    assert public_mode() is expected  # this checkout is not under /mount/src
