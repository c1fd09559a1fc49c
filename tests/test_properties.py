"""Property tests: whatever bytes or tables a user uploads, the loader answers with a Dataset or a DataError, fast;
well-formed tables round-trip unchanged; formula escaping never lets a formula through and leaves plain text alone."""

from __future__ import annotations

import csv
import io
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import Dataset, load_dataset
from core.errors import DataError
from core.safety import FORMULA_CHARACTERS, escape_formula, to_safe_csv
from tests.support import csv_bytes

TIME_LIMIT_SECONDS = 5.0
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gb18030", "cp1252", "latin-1")
LOSSLESS_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16")
DELIMITERS = (",", "\t", ";", "|")

# Latin, CJK, Arabic, Hebrew, emoji, combining marks, control characters and NUL, delimiters and quotes.
_SCRIPTS = st.sampled_from(
    list("abcXYZ019 ,;|\t\"'\n\r=+-@<>&") + list("好差中文測試") + list("رائعسيء") + list("טובגרוע")
    + ["😀", "👍", "\U0001F3FD", "\u200f", "\u0301", "\x00", "\x1f", "\ufeff", "\u3000"]
)
_ANY_TEXT = st.text(st.one_of(_SCRIPTS, st.characters(exclude_categories=("Cs",))), max_size=40)
_CELLS = st.one_of(_ANY_TEXT, st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.none())


def _load_in_time(data: bytes, **options) -> Dataset | None:
    """Loads `data`; returns the Dataset, or None after a DataError. Any other exception fails the test."""
    started = time.perf_counter()
    try:
        return load_dataset(data, name="fuzz.csv", **options)
    except DataError as error:
        assert "'fuzz.csv'" in str(error) or "fuzz.csv" in str(error), str(error)
        return None
    finally:
        assert time.perf_counter() - started < TIME_LIMIT_SECONDS


def _check_dataset(dataset: Dataset | None) -> None:
    if dataset is None:
        return
    assert len(dataset) >= 10 and len(dataset.classes) >= 2
    assert all(isinstance(text, str) and text and text == text.strip() for text in dataset.texts)
    assert all(isinstance(label, str) and label for label in dataset.labels)


@FUZZ
@given(st.binary(max_size=4096))
def test_any_bytes_load_or_raise_a_data_error_in_time(data: bytes) -> None:
    _check_dataset(_load_in_time(data))


@st.composite
def _damaged_csv(draw: st.DrawFn) -> bytes:
    """A valid file with a few bytes overwritten, inserted or cut: closer to real damage than random bytes."""
    rows = [f"review number {row} was {('awful', 'great')[row % 2]},{('neg', 'pos')[row % 2]}" for row in range(30)]
    data = bytearray(("text,label\n" + "\n".join(rows)).encode("utf-8"))
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(("insert", "replace", "cut")))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if action == "insert":
            data[position:position] = chunk
        elif action == "replace":
            data[position : position + len(chunk)] = chunk
        else:
            del data[position : position + len(chunk)]
    return bytes(data)


@FUZZ
@given(_damaged_csv())
def test_damaged_files_load_or_raise_a_data_error_in_time(data: bytes) -> None:
    _check_dataset(_load_in_time(data))


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    n_columns = draw(st.integers(1, 4))
    names = draw(st.lists(_ANY_TEXT, min_size=n_columns, max_size=n_columns))
    n_rows = draw(st.integers(0, 30))
    columns = {f"{name}{position}": draw(st.lists(_CELLS, min_size=n_rows, max_size=n_rows))
               for position, name in enumerate(names)}
    return pd.DataFrame(columns, dtype=object)


@FUZZ
@given(_frames(), st.sampled_from(ENCODINGS), st.sampled_from(DELIMITERS))
def test_any_table_in_any_encoding_loads_or_raises_a_data_error_in_time(
    frame: pd.DataFrame, encoding: str, delimiter: str
) -> None:
    text = frame.to_csv(sep=delimiter, index=False)
    _check_dataset(_load_in_time(text.encode(encoding, errors="replace")))


_PLAIN_TEXT = st.text(st.one_of(_SCRIPTS, st.characters(exclude_categories=("Cs",))), min_size=1, max_size=60).filter(
    lambda text: "\x00" not in text and text.strip()
)


@FUZZ
@given(
    st.lists(_PLAIN_TEXT, min_size=12, max_size=40, unique_by=str.strip),
    st.sampled_from(LOSSLESS_ENCODINGS),
    st.sampled_from(DELIMITERS),
    st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL)),
)
def test_well_formed_tables_round_trip_their_texts(
    texts: list[str], encoding: str, delimiter: str, quoting: int
) -> None:
    labels = ["positive" if row % 2 else "negative" for row in range(len(texts))]
    # "\r\n" as spreadsheets write it: with a bare "\n" terminator Python's writer leaves a lone "\r" unquoted.
    data = csv_bytes(zip(texts, labels), delimiter=delimiter, encoding=encoding, line_end="\r\n", quoting=quoting)
    dataset = load_dataset(data, name="round.csv", text_column="text", label_column="label")
    assert dataset.texts == tuple(text.strip() for text in texts)
    assert dataset.labels == tuple(labels)


@given(st.text())
def test_escaped_cells_never_start_a_formula(value: str) -> None:
    escaped = escape_formula(value)
    assert not escaped.startswith(FORMULA_CHARACTERS)
    assert not escaped.lstrip().startswith(FORMULA_CHARACTERS)
    assert escaped in (value, "'" + value)


@given(st.text().filter(lambda value: not value.lstrip().startswith(FORMULA_CHARACTERS)
                        and not value.startswith(FORMULA_CHARACTERS)))
def test_plain_text_is_left_unchanged(value: str) -> None:
    assert escape_formula(value) == value


@pytest.mark.parametrize("value", ["great film", "好评", "😀 love it", "5 stars", "'quoted'", "a=b", "e-mail", ""])
def test_everyday_text_is_left_unchanged(value: str) -> None:
    assert escape_formula(value) == value


@settings(max_examples=100, deadline=None)
@given(_frames())
def test_safe_csv_escapes_every_text_cell_and_keeps_the_rest(frame: pd.DataFrame) -> None:
    download = to_safe_csv(frame)
    assert download.startswith("\ufeff".encode("utf-8"))
    cells = [cell for row in csv.reader(io.StringIO(download.decode("utf-8-sig"), newline="")) for cell in row]
    assert not any(cell.startswith(FORMULA_CHARACTERS) or cell.lstrip().startswith(FORMULA_CHARACTERS) for cell in cells
                   if not _is_number(cell))


def _is_number(cell: str) -> bool:
    """Numbers (-5, -inf) are written as numbers on purpose: escaping them would turn them into text."""
    try:
        float(cell)
    except ValueError:
        return False
    return True
