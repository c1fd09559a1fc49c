"""Loads a user's CSV/TSV of texts and labels into a clean `Dataset`, and splits it for training.

Every way a file can be unusable ends in one `DataError` subclass whose message names the file and says what to do;
the message is a `core.i18n.Message`, worded in English and Chinese in core/i18n.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import math
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import charset_normalizer
import numpy as np

from core.errors import (
    ClassError,
    ColumnError,
    ConfigError,
    CsvFormatError,
    DataError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    NotTextError,
    TooFewRowsError,
    UnknownLabelError,
)
from core.i18n import Listing, Message
from core.limits import (
    MAX_CELL_CHARACTERS,
    MAX_COLUMNS,
    MAX_UPLOAD_BYTES,
    PARSE_SECONDS,
    Deadline,
    check_parse_memory,
    max_upload_bytes,
    size_words,
)
from core.safety import INVISIBLE_CHARACTERS, public_mode

DEFAULT_MAX_BYTES = MAX_UPLOAD_BYTES
MIN_ROWS = 10
MAX_CLASSES = 50
# Labels from which a column where most labels occur once reads as an ID column (core.data._looks_like_ids).
ID_LIKE_MIN_LABELS = 10

_DELIMITERS = (",", "\t", ";", "|")
# Each delimiter's name in core/i18n.py, for messages and the Data page.
DELIMITER_KEYS = {",": "delimiter_comma", "\t": "delimiter_tab", ";": "delimiter_semicolon", "|": "delimiter_bar"}
_SNIFF_CHARS = 64 * 1024
# csv.Sniffer's regular expressions take seconds on 64 KB full of stray quotes; its hint needs far less.
_SNIFFER_CHARS = 4 * 1024
# Enough bytes to judge an encoding by; checking all of a 200 MB file would be slow and no more telling.
_ENCODING_SAMPLE_BYTES = 1024 * 1024
_TEXT_HINTS = frozenset({"text", "review", "sentence", "content", "comment", "tweet", "body", "message", "document"})
_LABEL_HINTS = frozenset({"label", "sentiment", "class", "target", "rating", "stars", "polarity", "category"})

# Checked before decoding: such files decode "successfully" as cp1252 into garbage. Each names its kind's key.
_MAGIC_NUMBER_KEYS = (
    (b"PK\x03\x04", "file_kind_zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "file_kind_xls"),
    (b"\x89PNG\r\n\x1a\n", "file_kind_png"),
    (b"GIF87a", "file_kind_gif"),
    (b"GIF89a", "file_kind_gif"),
    (b"\xff\xd8\xff", "file_kind_jpeg"),
    (b"%PDF", "file_kind_pdf"),
    (b"\x1f\x8b", "file_kind_gzip"),
)
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_INVISIBLE_TABLE = dict.fromkeys(map(ord, INVISIBLE_CHARACTERS))
_SAVE_AS_CSV = Message("data_save_as_csv")

# csv refuses fields over 131,072 characters, but one long review in a cell is legitimate data; core.limits bounds it.
csv.field_size_limit(MAX_CELL_CHARACTERS)


@dataclass(frozen=True)
class LoadReport:
    """What the loader found and changed, so the Data page can show it and the user can trust the numbers."""

    source: str  # file name shown to the user
    encoding: str  # e.g. "utf-8", "utf-8-sig", "utf-16", "gb18030", "cp1252"
    delimiter: str  # ",", "\t", ";", "|"
    columns: list[str]
    text_column: str
    label_column: str
    rows_read: int
    rows_kept: int
    dropped_missing: int  # empty/missing text or label
    dropped_duplicates: int  # exact duplicate (text, label) rows removed
    dropped_conflicting: int  # rows whose text appears with different labels
    label_merges: dict[str, list[str]]  # kept label -> variants merged into it
    dropped_unknown: int = 0  # rows of a test file left out because the model does not know their label
    # Labels that held zero-width or text-direction characters, removed so "positive" and "positive\u200b"
    # are one class rather than two that look the same.
    labels_with_invisible: int = 0


@dataclass(frozen=True)
class Dataset:
    """Texts with one string label each; immutable so a split or a saved fingerprint can never drift."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    report: LoadReport | None = None
    # The 0-based data row (header excluded, blank lines skipped as pandas does) each row came from in its file,
    # so a row can be pointed at after duplicates were dropped; None for data built in code. Not part of
    # equality: the same texts and labels are the same data wherever they stood.
    file_rows: tuple[int, ...] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Accepts any sequences but stores tuples, so equal data compares and hashes the same.

        Raises:
            ValueError: texts and labels (or file rows) differ in length.
        """
        object.__setattr__(self, "texts", tuple(self.texts))
        object.__setattr__(self, "labels", tuple(self.labels))
        if len(self.texts) != len(self.labels):
            raise ValueError(
                f"Dataset needs one label per text, got {len(self.texts)} texts and {len(self.labels)} labels."
            )
        if self.file_rows is not None:
            object.__setattr__(self, "file_rows", tuple(int(row) for row in self.file_rows))
            if len(self.file_rows) != len(self.texts):
                raise ValueError(f"Dataset needs one file row per text, got {len(self.file_rows)} for "
                                 f"{len(self.texts)} texts.")

    def file_row(self, position: int) -> int:
        """The data row in the file that row `position` came from; the position itself for data built in code."""
        return self.file_rows[position] if self.file_rows is not None else position

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def classes(self) -> tuple[str, ...]:
        """The distinct labels, sorted; numerically when all are numbers so "10" follows "9"."""
        return tuple(sorted(set(self.labels), key=_label_sort_key(self.labels)))

    def class_counts(self) -> dict[str, int]:
        """Rows per class, in `classes` order."""
        counts = Counter(self.labels)
        return {label: counts[label] for label in self.classes}

    def fingerprint(self) -> str:
        """A sha256 hex digest of texts and labels in order, saved with a model to tell which data trained it."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels):
            # Separators outside normal text keep ("ab", "c") and ("a", "bc") apart.
            digest.update(text.encode("utf-8", "surrogatepass") + b"\x1f" + label.encode("utf-8") + b"\x1e")
        return digest.hexdigest()

    def subset(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        """The rows at `indices`, in that order, keeping the load report of the whole file and their file rows."""
        positions = [int(index) for index in indices]
        return Dataset(
            tuple(self.texts[i] for i in positions), tuple(self.labels[i] for i in positions), self.report,
            None if self.file_rows is None else tuple(self.file_rows[i] for i in positions),
        )


@dataclass(frozen=True)
class Split:
    """Disjoint train, validation and test parts of one dataset."""

    train: Dataset
    validation: Dataset
    test: Dataset


@dataclass(frozen=True)
class _Rules:
    """What a loaded file must satisfy: a training file needs more than a test file."""

    min_rows: int
    min_per_class: int
    min_classes: int
    known_classes: tuple[str, ...] | None = None
    drop_unknown: bool = False  # leave out rows with a label outside known_classes instead of refusing the file


@dataclass(frozen=True)
class _Table:
    """A parsed file: header names and rows of strings, all as long as the header, and the time left to read it."""

    encoding: str
    delimiter: str
    header: list[str]
    rows: list[list[str]]
    deadline: Deadline

    def column(self, name: str) -> list[str]:
        position = self.header.index(name)
        return [row[position] for row in self.rows]


def load_dataset(
    source: str | os.PathLike | bytes | BinaryIO,
    *,
    name: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    max_bytes: int | None = None,
    min_rows: int = MIN_ROWS,
) -> Dataset:
    """Reads a training file: detects encoding, delimiter and columns, cleans labels, drops unusable rows.

    Args:
        source: a path, raw bytes, or a file-like object (a Streamlit UploadedFile or BytesIO).
        name: the file name to show in messages; defaults to the path's or upload's name.
        text_column: the text column's name; inferred when None.
        label_column: the label column's name; inferred when None.
        max_bytes: files larger than this are refused before they are read; None: the upload limit
            (core.limits.max_upload_bytes, smaller in public mode).
        min_rows: the fewest usable rows accepted.

    Returns:
        The cleaned dataset, with a `LoadReport` of what was found and dropped.

    Raises:
        DataError: a subclass naming the file and the problem; no other exception escapes for bad input.
    """
    rules = _Rules(min_rows=min_rows, min_per_class=2, min_classes=2)
    return _load(source, name, text_column, label_column, max_bytes, rules)


def load_test_dataset(
    source: str | os.PathLike | bytes | BinaryIO,
    *,
    classes: Sequence[str],
    text_column: str | None = None,
    label_column: str | None = None,
    name: str | None = None,
    drop_unknown: bool = False,
) -> Dataset:
    """Reads a separate test file for a model trained on `classes`; any row counts, but no unknown label.

    Labels differing only in case or number format ("Positive", "1.0") are mapped onto the known classes.

    Args:
        drop_unknown: leave out the rows whose label is not among `classes` (counted in the report's
            `dropped_unknown`) instead of refusing the file.

    Raises:
        UnknownLabelError: the file has labels not among `classes` (and `drop_unknown` is off); the message lists
            them and the known ones.
        DataError: any other problem with the file, as for `load_dataset`, or no row with a known label is left.
    """
    rules = _Rules(min_rows=1, min_per_class=1, min_classes=1, known_classes=tuple(classes), drop_unknown=drop_unknown)
    return _load(source, name, text_column, label_column, None, rules)


@dataclass(frozen=True)
class TextTable:
    """A file to predict, every column and row as read, so predictions can be joined back to its other columns."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_column: str

    @property
    def texts(self) -> list[str]:
        """The text of every row in file order, blank ones included."""
        position = self.header.index(self.text_column)
        return [row[position] for row in self.rows]


def load_text_table(
    source: str | os.PathLike | bytes | BinaryIO,
    *,
    text_column: str | None = None,
    name: str | None = None,
    max_bytes: int | None = None,
) -> TextTable:
    """Reads a file to predict: a one-column file of texts, or a wider table with a text column.

    Decoding, size limit and CSV parsing are the training loader's, so a bad file gets the same message
    everywhere. Every row is kept, blank texts too, and every field exactly as written.

    Args:
        source: a path, raw bytes, or a file-like object (a Streamlit UploadedFile or BytesIO).
        text_column: the column to read; inferred when None (a name like "text" or "review", else the longest).
        name: the file name to show in messages; defaults to the path's or upload's name.
        max_bytes: files larger than this are refused before they are read; None: the upload limit
            (core.limits.max_upload_bytes, smaller in public mode).

    Raises:
        DataError: the file cannot be read, holds no texts, or `text_column` is not among its columns.
    """
    data, display_name = _read_source(source, name, max_bytes)
    try:
        table = _parse_table(data, display_name)
    except ColumnError:  # a single column: every line below the header is one text
        table = _single_column_table(data, display_name)
    column = _choose_text_column(table, text_column, display_name)
    texts = TextTable(tuple(table.header), tuple(map(tuple, table.rows)), column)
    if not any(text.strip() for text in texts.texts):
        raise EmptyFileError(Message("data_no_texts", file=display_name, column=column))
    return texts


def split_dataset(dataset: Dataset, *, validation_fraction: float, test_fraction: float, seed: int) -> Split:
    """Splits each class separately so every part keeps the class balance; the same seed gives the same split.

    Each class keeps at least one training row; rows within each part stay in file order.

    Raises:
        ConfigError: a fraction is outside [0, 0.5], or together they leave under 10% for training.
    """
    _check_fraction("validation_fraction", validation_fraction)
    _check_fraction("test_fraction", test_fraction)
    if validation_fraction + test_fraction >= 0.9:
        raise ConfigError(Message("split_fractions_too_large", validation=validation_fraction, test=test_fraction))
    rng = np.random.default_rng(seed)
    labels = np.array(dataset.labels, dtype=object)
    parts: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
    for label in dataset.classes:
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_validation, n_test = _holdout_sizes(len(rows), validation_fraction, test_fraction)
        parts["validation"].extend(rows[:n_validation])
        parts["test"].extend(rows[n_validation : n_validation + n_test])
        parts["train"].extend(rows[n_validation + n_test :])
    return Split(**{part: dataset.subset(sorted(rows)) for part, rows in parts.items()})


def _check_fraction(setting: str, value: float) -> None:
    """Raises ConfigError unless value is a number in [0, 0.5] (NaN fails the comparison too)."""
    if not 0 <= value <= 0.5:
        raise ConfigError(Message("split_fraction_out_of_range", setting=setting, value=value))


def _holdout_sizes(n_rows: int, validation_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Validation and test row counts for one class, rounded half up, leaving at least one row to train on."""
    n_validation = math.floor(n_rows * validation_fraction + 0.5)
    n_test = math.floor(n_rows * test_fraction + 0.5)
    while n_validation + n_test > n_rows - 1 and n_validation + n_test > 0:
        if n_validation >= n_test:
            n_validation -= 1
        else:
            n_test -= 1
    return n_validation, n_test


def _load(
    source: str | os.PathLike | bytes | BinaryIO,
    name: str | None,
    text_column: str | None,
    label_column: str | None,
    max_bytes: int | None,
    rules: _Rules,
) -> Dataset:
    """The pipeline both public loaders share: bytes -> text -> table -> columns -> cleaned rows -> checks."""
    data, display_name = _read_source(source, name, max_bytes)
    table = _parse_table(data, display_name)
    text_name, label_name = _choose_columns(table, display_name, text_column, label_column, rules.known_classes)
    cleaned = _clean(table.column(text_name), table.column(label_name), rules.known_classes)
    report = LoadReport(
        source=display_name,
        encoding=table.encoding,
        delimiter=table.delimiter,
        columns=list(table.header),
        text_column=text_name,
        label_column=label_name,
        rows_read=len(table.rows),
        rows_kept=len(cleaned.texts),
        dropped_missing=cleaned.dropped_missing,
        dropped_duplicates=cleaned.dropped_duplicates,
        dropped_conflicting=cleaned.dropped_conflicting,
        label_merges=cleaned.label_merges,
        labels_with_invisible=cleaned.labels_with_invisible,
    )
    dataset = Dataset(tuple(cleaned.texts), tuple(cleaned.labels), report, tuple(cleaned.rows))
    if rules.drop_unknown and rules.known_classes is not None:
        dataset = _without_unknown(dataset, rules.known_classes)
    _check_dataset(dataset, rules)
    return dataset


def _without_unknown(dataset: Dataset, known_classes: tuple[str, ...]) -> Dataset:
    """The rows whose label is among `known_classes`; the report counts the others as dropped."""
    keep = [row for row, label in enumerate(dataset.labels) if label in known_classes]
    left_out = len(dataset) - len(keep)
    return replace(dataset.subset(keep), report=replace(dataset.report, rows_kept=len(keep), dropped_unknown=left_out))


# --- reading bytes ------------------------------------------------------------------------------------------------


def _read_source(source: str | os.PathLike | bytes | BinaryIO, name: str | None,
                 max_bytes: int | None) -> tuple[bytes, str]:
    """Returns the raw bytes and the name to show, refusing files over max_bytes (None: the upload limit), or
    too big to parse in the memory left, before reading them whole.

    Raises:
        FileTooLargeError: the file is larger than max_bytes, or parsing it would not fit in memory.
        DataError: the path cannot be read, or the source is of an unsupported type.
    """
    if max_bytes is None:
        max_bytes = max_upload_bytes(public_mode())
    if isinstance(source, (bytes, bytearray, memoryview)):
        display_name = name or "uploaded data"
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        display_name = name or path.name
        data = _read_path(path, display_name, max_bytes)
    elif hasattr(source, "getvalue") or hasattr(source, "read"):
        display_name = name or Path(str(getattr(source, "name", "") or "uploaded file")).name
        data = _read_file_object(source, display_name, max_bytes)
    else:
        raise DataError(Message("data_unsupported_source", kind=type(source).__name__))
    _check_size(len(data), max_bytes, display_name)
    return data, display_name


def _read_path(path: Path, display_name: str, max_bytes: int) -> bytes:
    try:
        _check_size(path.stat().st_size, max_bytes, display_name)
        return path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(Message("data_path_unreadable", file=display_name, reason=reason)) from error


def _read_file_object(source: BinaryIO, display_name: str, max_bytes: int) -> bytes:
    """Reads an upload or stream; `.getvalue()` first, since an UploadedFile read once before is at its end."""
    size = getattr(source, "size", None)
    if isinstance(size, int):
        _check_size(size, max_bytes, display_name)
    try:
        data = source.getvalue() if hasattr(source, "getvalue") else source.read(max_bytes + 1)
    except (OSError, ValueError) as error:
        raise DataError(Message("data_upload_unreadable", file=display_name, reason=str(error))) from error
    # A file opened in text mode hands back str; its characters are what the user meant, so keep them.
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _check_size(size: int, max_bytes: int, display_name: str) -> None:
    if size > max_bytes:
        raise FileTooLargeError(Message("data_too_large", file=display_name, size=size_words(size),
                                        limit=size_words(max_bytes)))
    check_parse_memory(size, display_name)


# --- decoding -----------------------------------------------------------------------------------------------------


def _decode(data: bytes, display_name: str) -> tuple[str, str]:
    """Returns the text and the encoding used; refuses binary files and bytes no encoding reads cleanly.

    Order: byte-order marks, strict UTF-8, GB18030 when the result reads as Chinese, then cp1252 when the result
    reads as Western text. charset-normalizer only vetoes GB18030 for Korean or Japanese bytes: its guesses on
    short files are too often wrong to decode by, and a refusal is better than silently garbled text.

    Raises:
        EmptyFileError, NotTextError, EncodingError.
    """
    if not data:
        raise EmptyFileError(Message("data_empty", file=display_name))
    _refuse_binary(data, display_name)
    encoding = _detect_encoding(data, display_name)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise _encoding_error(data, error, encoding, display_name) from error
    if "\x00" in text:
        offset = text.index("\x00")
        raise NotTextError(Message("data_nul", file=display_name, line=text.count("\n", 0, offset) + 1,
                                   save=_SAVE_AS_CSV))
    return text, encoding


def _refuse_binary(data: bytes, display_name: str) -> None:
    for magic, kind_key in _MAGIC_NUMBER_KEYS:
        if data.startswith(magic):
            raise NotTextError(Message("data_binary", file=display_name, kind=Message(kind_key), save=_SAVE_AS_CSV))


def _detect_encoding(data: bytes, display_name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    bomless_utf16 = _bomless_utf16(data)
    if bomless_utf16:
        return bomless_utf16
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = error
    sample = data[:_ENCODING_SAMPLE_BYTES]
    guess = charset_normalizer.from_bytes(sample).best()
    # Korean and Japanese legacy bytes also decode as common Chinese characters; only a detector tells them apart.
    other_east_asian = guess is not None and guess.language in ("Korean", "Japanese")
    if not other_east_asian and _reads_as_chinese(sample) and _decodes(data, "gb18030"):
        return "gb18030"
    if not _looks_like_broken_utf8(sample) and _reads_as_western(sample) and _decodes(data, "cp1252"):
        return "cp1252"
    raise _encoding_error(data, utf8_error, "utf-8", display_name)


def _bomless_utf16(data: bytes) -> str | None:
    """Spots UTF-16 without a byte-order mark: mostly-ASCII text then has a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _reads_as_chinese(sample: bytes) -> bool:
    """True when GB18030 decoding gives common (GB2312) characters, not rare ones from misread Latin bytes."""
    text = sample.decode("gb18030", errors="ignore")
    non_ascii = [char for char in text if ord(char) > 127]
    if not non_ascii:
        return False
    common = sum(1 for char in non_ascii if _encodes(char, "gb2312"))
    return common >= 0.9 * len(non_ascii)


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _looks_like_broken_utf8(sample: bytes) -> bool:
    """True when the bytes are mostly valid UTF-8 with a few bad ones: reading them as cp1252 would garble."""
    decoded = sample.decode("utf-8", errors="replace")
    invalid = decoded.count("\ufffd")
    valid_multibyte = sum(1 for char in decoded if ord(char) > 127) - invalid
    return valid_multibyte > invalid


def _reads_as_western(sample: bytes) -> bool:
    """True when non-ASCII bytes mostly stand alone (an accent within a word), as in Western European text.

    Legacy Cyrillic, Greek or East Asian encodings use runs of high bytes, which cp1252 would turn into nonsense.
    """
    high = [index for index, byte in enumerate(sample) if byte > 127]
    high_set = set(high)
    in_runs = sum(1 for index in high if index - 1 in high_set or index + 1 in high_set)
    return in_runs <= 0.5 * len(high)


def _encoding_error(data: bytes, error: UnicodeDecodeError, encoding: str, display_name: str) -> EncodingError:
    # utf-8-sig reports positions after the byte-order mark it stripped; count from the start of the file.
    offset = error.start + len(data) - len(error.object)
    line = data[:offset].decode(encoding, errors="replace").count("\n") + 1
    return EncodingError(Message("data_bad_encoding", file=display_name, encoding=encoding, byte=data[offset],
                                 offset=offset, line=line))


# --- parsing ------------------------------------------------------------------------------------------------------


def _parse_table(data: bytes, display_name: str) -> _Table:
    """Decodes the bytes and parses them as a delimited table with a header row.

    Raises:
        EmptyFileError: no bytes, only whitespace, or a header without rows.
        NotTextError, EncodingError, CsvFormatError, ColumnError (a single column).
    """
    deadline = Deadline(PARSE_SECONDS, display_name)
    text, encoding = _decode(data, display_name)
    if not text.strip():
        raise EmptyFileError(Message("data_blank_lines", file=display_name))
    delimiter = _sniff_delimiter(text)
    records = _read_records(text, delimiter, display_name, deadline)
    if not records:
        raise EmptyFileError(Message("data_empty_fields", file=display_name))
    header = _header_names(records[0][1])
    if len(header) < 2:
        raise ColumnError(Message("data_one_column", file=display_name, column=header[0]))
    rows = [_fit_row(fields, len(header), line, delimiter, display_name) for line, fields in records[1:]]
    if not rows:
        raise EmptyFileError(Message("data_header_only", file=display_name, columns=Listing(tuple(header))))
    return _Table(encoding, delimiter, header, rows, deadline)


def _single_column_table(data: bytes, display_name: str) -> _Table:
    """Reads a file of one column: quoted fields may hold commas and line breaks, nothing splits a line."""
    deadline = Deadline(PARSE_SECONDS, display_name)
    text, encoding = _decode(data, display_name)
    # \x1f (unit separator) never occurs in text, so no line is split into fields.
    records = _read_records(text, "\x1f", display_name, deadline)
    if not records:
        raise EmptyFileError(Message("data_blank_lines_texts", file=display_name))
    header = _header_names(records[0][1][:1])
    return _Table(encoding, "\x1f", header, [fields[:1] for _, fields in records[1:]], deadline)


def _sniff_delimiter(text: str) -> str:
    """Picks the delimiter that splits the header and most sample rows into the same number (>= 2) of fields.

    csv.Sniffer's answer is taken when it is as consistent as the best; it is not trusted alone because free text
    full of commas or semicolons fools it.
    """
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    scores = {delimiter: _consistency(sample, delimiter, truncated) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: scores[delimiter])
    try:
        sniffed = csv.Sniffer().sniff(sample[:_SNIFFER_CHARS], delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    return sniffed if sniffed in scores and scores[sniffed] == scores[best] else best


def _consistency(sample: str, delimiter: str, truncated: bool) -> tuple[float, int]:
    """(share of rows as wide as the header, header width); (0, 1) when the header does not split at all."""
    try:
        records = [row for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if row]
    except csv.Error:
        return (0.0, 1)
    if truncated and len(records) > 1:
        records = records[:-1]  # the sample may end mid-row
    width = len(records[0]) if records else 1
    if width < 2:
        return (0.0, 1)
    rows = records[1:] or records
    return (sum(1 for row in rows if len(row) == width) / len(rows), width)


def _read_records(text: str, delimiter: str, display_name: str, deadline: Deadline) -> list[tuple[int, list[str]]]:
    """Every non-blank record with the line it starts on, so errors can point at the right line.

    Raises:
        CsvFormatError: a quote is never closed.
        FileTooLargeError: a record is wider than MAX_COLUMNS, a cell longer than MAX_CELL_CHARACTERS, or reading
            takes longer than the deadline allows.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    start_line = 1
    try:
        for fields in reader:
            deadline.check()
            if len(fields) > MAX_COLUMNS:
                raise _too_many_columns_error(display_name, start_line, len(fields))
            if any(field.strip() for field in fields):
                records.append((start_line, fields))
            start_line = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise _cell_too_long_error(display_name, start_line) from error
        raise _unclosed_quote_error(display_name, start_line, str(error)) from error
    if records:
        _check_last_record_closed(text, delimiter, start_of_last=records[-1][0], display_name=display_name)
    return records


def _check_last_record_closed(text: str, delimiter: str, start_of_last: int, display_name: str) -> None:
    """The lenient reader silently ends an unclosed quote at the end of the file; re-read the last record strictly."""
    tail = "".join(itertools.islice(io.StringIO(text, newline=""), start_of_last - 1, None))
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise _unclosed_quote_error(display_name, start_of_last) from error


def _too_many_columns_error(display_name: str, line: int, width: int) -> FileTooLargeError:
    return FileTooLargeError(Message("data_too_many_columns", file=display_name, line=line, width=width,
                                     limit=MAX_COLUMNS))


def _cell_too_long_error(display_name: str, line: int) -> FileTooLargeError:
    return FileTooLargeError(Message("data_cell_too_long", file=display_name, line=line, limit=MAX_CELL_CHARACTERS))


def _unclosed_quote_error(display_name: str, line: int, reason: str | None = None) -> CsvFormatError:
    """`reason` is the csv module's own words, when it gave some."""
    if reason is None:
        return CsvFormatError(Message("data_unclosed_quote", file=display_name, line=line))
    return CsvFormatError(Message("data_unclosed_quote_reason", file=display_name, line=line, reason=reason))


def _header_names(fields: list[str]) -> list[str]:
    """Header names stripped of spaces and stray BOMs, blanks named by position, repeats numbered like pandas does.

    Each base name remembers the last number it handed out, so a header of n repeats costs O(n), not the O(n^3)
    of searching a list for every candidate (a 24 KB header of 4,000 repeats once took minutes).
    """
    names: list[str] = []
    used: set[str] = set()
    last_repeat: dict[str, int] = {}
    for position, field in enumerate(fields, start=1):
        base = field.strip().lstrip("\ufeff") or f"column {position}"
        candidate, repeat = base, last_repeat.get(base, 0)
        if candidate in used:
            repeat += 1
            candidate = f"{base}.{repeat}"
            while candidate in used:
                repeat += 1
                candidate = f"{base}.{repeat}"
        last_repeat[base] = repeat
        used.add(candidate)
        names.append(candidate)
    return names


def _fit_row(fields: list[str], width: int, line: int, delimiter: str, display_name: str) -> list[str]:
    """Returns the row as wide as the header; extra empty trailing fields (a trailing delimiter) are dropped.

    Raises:
        CsvFormatError: the row has a different number of fields than the header.
    """
    if len(fields) > width and not any(field.strip() for field in fields[width:]):
        fields = fields[:width]
    if len(fields) != width:
        raise CsvFormatError(Message("data_ragged_row", file=display_name, line=line, fields=len(fields), width=width,
                                     delimiter=Message(DELIMITER_KEYS[delimiter])))
    return fields


# --- choosing columns ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnProfile:
    """What column inference needs to know about one column."""

    name: str
    distinct: int  # distinct non-empty values, ignoring case and spaces
    filled: int  # non-empty values
    average_length: float
    numeric: bool  # every non-empty value is a number
    known_share: float  # share of non-empty values that are known classes (test files only)

    def name_matches(self, hints: frozenset[str]) -> bool:
        words = self.name.casefold().replace("-", "_").replace(" ", "_").split("_")
        return any(word in hints for word in words)

    def could_be_labels(self) -> bool:
        """Few repeated values: at most MAX_CLASSES and at most half as many as rows (or mostly known classes)."""
        if self.known_share >= 0.5:
            return True
        return self.distinct <= MAX_CLASSES and self.distinct <= max(2, self.filled // 2)


def _profile(name: str, values: list[str], known_classes: tuple[str, ...] | None, deadline: Deadline) -> _ColumnProfile:
    """Measures one column; each column of a big file takes a while, so the clock is read before each.

    Raises:
        FileTooLargeError: the file's time to be read is spent.
    """
    deadline.check_now()
    filled = [value.strip() for value in values if value.strip()]
    known = {_label_key(label) for label in known_classes or ()}
    return _ColumnProfile(
        name=name,
        distinct=len({_label_key(value) for value in filled}),
        filled=len(filled),
        average_length=sum(map(len, filled)) / len(filled) if filled else 0.0,
        numeric=bool(filled) and all(_as_number(value) is not None for value in filled),
        known_share=sum(1 for value in filled if _label_key(value) in known) / len(filled) if known and filled else 0.0,
    )


def _choose_columns(
    table: _Table,
    display_name: str,
    text_column: str | None,
    label_column: str | None,
    known_classes: tuple[str, ...] | None,
) -> tuple[str, str]:
    """Returns (text column, label column): the names given, else inferred from the values.

    Text is the non-numeric column (or a numeric one named e.g. "text") with the longest average value (a hinted
    name wins a tie); labels are a column with few repeated values, preferring names like "label" or "sentiment",
    then the fewest distinct values.

    Raises:
        ColumnError: a named column does not exist, both names are the same, or no column can serve.
    """
    for given in (text_column, label_column):
        if given is not None and given not in table.header:
            raise _no_such_column(table, given, display_name)
    if text_column is not None and text_column == label_column:
        raise ColumnError(Message("data_same_columns", file=display_name, column=text_column))
    profiles = {name: _profile(name, table.column(name), known_classes, table.deadline) for name in table.header}
    text_name = text_column or _infer_text_column(profiles, exclude=label_column, display_name=display_name)
    label_name = label_column or _infer_label_column(profiles, exclude=text_name, display_name=display_name)
    return text_name, label_name


def _infer_text_column(profiles: dict[str, _ColumnProfile], exclude: str | None, display_name: str) -> str:
    # Numbers are ids or ratings, unless the column's whole name says it holds texts (a file of numeric texts).
    candidates = [
        p for p in profiles.values()
        if p.name != exclude and p.filled and (not p.numeric or p.name.strip().casefold() in _TEXT_HINTS)
    ]
    if not candidates:
        raise ColumnError(Message("data_no_text_column", file=display_name, columns=_quoted(list(profiles))))
    return max(candidates, key=lambda p: (p.average_length, p.name_matches(_TEXT_HINTS))).name


def _choose_text_column(table: _Table, text_column: str | None, display_name: str) -> str:
    """The named column, else the longest column named like texts ("review"), else the longest text column.

    A name wins over length here because a file to predict has no label column to tell texts from labels.

    Raises:
        ColumnError: the named column does not exist, or no column holds text.
    """
    if text_column is not None:
        if text_column not in table.header:
            raise _no_such_column(table, text_column, display_name)
        return text_column
    profiles = {name: _profile(name, table.column(name), None, table.deadline) for name in table.header}
    hinted = [p for p in profiles.values() if p.name_matches(_TEXT_HINTS)]
    if hinted:
        return max(hinted, key=lambda p: (p.filled > 0, p.average_length)).name
    return _infer_text_column(profiles, exclude=None, display_name=display_name)


def _infer_label_column(profiles: dict[str, _ColumnProfile], exclude: str, display_name: str) -> str:
    others = [p for p in profiles.values() if p.name != exclude]
    candidates = [p for p in others if p.could_be_labels()]
    if not candidates:
        described = Listing(tuple(Message("data_column_values", column=p.name, count=p.distinct) for p in others),
                            "list_semicolon")
        raise ColumnError(Message("data_no_label_column", file=display_name, columns=described, most=MAX_CLASSES))
    return max(
        candidates,
        key=lambda p: (p.known_share, p.name_matches(_LABEL_HINTS), p.filled > 0, p.distinct >= 2, -p.distinct),
    ).name


def _no_such_column(table: _Table, name: str, display_name: str) -> ColumnError:
    return ColumnError(Message("data_no_such_column", file=display_name, column=name, columns=_quoted(table.header)))


def _quoted(names: Sequence[str]) -> Listing:
    """Names as a list, each in the quotes of the language it is shown in ('a', 'b' or “a”、“b”)."""
    return Listing(tuple(Message("quoted", name=name) for name in names))


# --- cleaning rows ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cleaned:
    texts: list[str]
    labels: list[str]
    rows: list[int]  # each kept row's index among the table's data rows
    dropped_missing: int
    dropped_duplicates: int
    dropped_conflicting: int
    label_merges: dict[str, list[str]]
    labels_with_invisible: int


def _clean(texts: list[str], raw_labels: list[str], known_classes: tuple[str, ...] | None) -> _Cleaned:
    """Drops rows without text or label, unifies label spellings, drops duplicates and contradictory texts.

    Texts lose surrounding spaces, so "great film " and "great film" count as the same text.
    """
    visible_labels = [strip_invisible(label) for label in raw_labels]
    filled = [(row, text.strip(), label) for row, (text, label) in enumerate(zip(texts, visible_labels))
              if text.strip() and label.strip()]
    labels, merges = _normalize_labels([label for _, _, label in filled], known_classes)
    pairs = list(zip((text for _, text, _ in filled), labels))
    # The first row of each (text, label) pair is the one kept, and the one its file row points at.
    first_row = dict(reversed(list(zip(pairs, (row for row, _, _ in filled)))))
    unique = list(dict.fromkeys(pairs))
    labels_by_text: dict[str, set[str]] = defaultdict(set)
    for text, label in unique:
        labels_by_text[text].add(label)
    kept = [(text, label) for text, label in unique if len(labels_by_text[text]) == 1]
    return _Cleaned(
        texts=[text for text, _ in kept],
        labels=[label for _, label in kept],
        rows=[first_row[pair] for pair in kept],
        dropped_missing=len(texts) - len(filled),
        dropped_duplicates=len(pairs) - len(unique),
        dropped_conflicting=len(unique) - len(kept),
        label_merges=merges,
        labels_with_invisible=sum(1 for raw, visible in zip(raw_labels, visible_labels) if raw != visible),
    )


def strip_invisible(text: str) -> str:
    """`text` without zero-width characters and text-direction controls (core.safety.INVISIBLE_CHARACTERS)."""
    return text.translate(_INVISIBLE_TABLE)


def _normalize_labels(
    raw_labels: list[str], known_classes: tuple[str, ...] | None
) -> tuple[list[str], dict[str, list[str]]]:
    """Strips labels, writes numbers one way ("1.0" -> "1"), and merges case variants into the commonest spelling.

    A test file's variants merge into the known class spelling instead. Returns the labels and, for each kept
    label, the raw variants that became it.
    """
    stripped = [label.strip() for label in raw_labels]
    if stripped and all(_as_number(label) is not None for label in stripped):
        stripped = [_number_text(label) for label in stripped]
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for label in stripped:
        spellings[label.casefold()][label] += 1
    chosen = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    chosen.update({_label_key(known): known for known in known_classes or () if _label_key(known) in chosen})
    labels = [chosen[label.casefold()] for label in stripped]
    merges: dict[str, set[str]] = defaultdict(set)
    for raw, label in zip(raw_labels, labels):
        if raw != label:
            merges[label].add(raw)
    return labels, {label: sorted(variants) for label, variants in sorted(merges.items())}


def _label_key(label: str) -> str:
    """How two spellings of one label compare: by number if numeric, else ignoring case and surrounding spaces."""
    label = label.strip()
    return _number_text(label) if _as_number(label) is not None else label.casefold()


def _as_number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _number_text(value: str) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _label_sort_key(labels: Sequence[str]) -> Callable[[str], object]:
    """Sorts numerically when every label is a number, else as text."""
    if labels and all(_as_number(label) is not None for label in set(labels)):
        return lambda label: (float(label), label)
    return lambda label: label


# --- final checks -------------------------------------------------------------------------------------------------


def _check_dataset(dataset: Dataset, rules: _Rules) -> None:
    """Refuses data that cannot train or test a model; every message says which rows or labels to add.

    Raises:
        ClassError: too many classes, too few classes, a class too small, or labels a test file should not have.
        TooFewRowsError: fewer than rules.min_rows usable rows.
    """
    report = dataset.report
    counts = dataset.class_counts()
    where = {"file": report.source, "column": report.label_column}  # every message names the column and the file
    if len(counts) > MAX_CLASSES:
        raise ClassError(Message("data_too_many_classes", **where, count=len(counts), most=MAX_CLASSES))
    if _looks_like_ids(counts):
        once = sum(count == 1 for count in counts.values())
        raise ClassError(Message("data_id_column", **where, once=once, count=len(counts)))
    if rules.known_classes is not None:
        _check_known_classes(counts, rules.known_classes, where)
    if len(dataset) < rules.min_rows:
        raise TooFewRowsError(Message("data_too_few_rows", file=report.source, count=len(dataset),
                                      read=report.rows_read, dropped=_dropped_summary(report), least=rules.min_rows))
    if len(counts) < rules.min_classes:
        raise ClassError(Message("data_one_class", **where, label=next(iter(counts))))
    small = {label: count for label, count in counts.items() if count < rules.min_per_class}
    if small:
        listed = Listing(tuple(Message("data_class_rows", label=label, count=count) for label, count in small.items()))
        raise ClassError(Message("data_small_classes", **where, listed=listed, least=rules.min_per_class))


def _looks_like_ids(counts: dict[str, int]) -> bool:
    """Many labels, most of them on one row only: identifiers (an "id" column), not classes. Listing every
    label as a class too small would make a sentence of dozens of parts."""
    once = sum(count == 1 for count in counts.values())
    return len(counts) >= ID_LIKE_MIN_LABELS and 2 * once > len(counts)


def _check_known_classes(counts: dict[str, int], known_classes: tuple[str, ...], where: dict[str, str]) -> None:
    unknown = {label: count for label, count in counts.items() if label not in known_classes}
    if unknown:
        listed = Listing(tuple(Message("data_label_rows", label=label, count=count) for label, count in unknown.items()))
        raise UnknownLabelError(Message("data_unknown_labels", **where, listed=listed, known=_quoted(known_classes)))


def _dropped_summary(report: LoadReport) -> Message:
    counts = {"missing": report.dropped_missing, "duplicates": report.dropped_duplicates,
              "conflicting": report.dropped_conflicting}
    if report.dropped_unknown:
        return Message("data_dropped_unknown", **counts, unknown=report.dropped_unknown)
    return Message("data_dropped", **counts)
