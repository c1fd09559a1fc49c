"""A catalogue of bad and strange input: each case is built here and must end in one typed error whose message names
the file and the problem, or must load and work unchanged."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest

import core.data
from core.data import _header_names, load_dataset, split_dataset
from core.errors import (
    ClassError,
    ColumnError,
    CsvFormatError,
    DataError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    InvalidModelNameError,
    NotTextError,
    TooFewRowsError,
)
from core.limits import MAX_CELL_CHARACTERS, MAX_COLUMNS
from core.predict import MAX_TEXT_CHARACTERS, Predictor
from core.registry import MAX_NAME_LENGTH, ModelRegistry
from core.safety import to_safe_csv
from core.text import tokenize
from core.training import JobStatus, TrainingJob
from tests.support import csv_bytes, labelled_rows, tiny_config

FAST = tiny_config(early_stopping=False)


def _refused(data: bytes, name: str, error_type: type[DataError], *phrases: str, **options) -> str:
    """Loads `data` as file `name`, expecting `error_type` with a message naming the file and every phrase."""
    with pytest.raises(error_type) as caught:
        load_dataset(data, name=name, **options)
    message = str(caught.value)
    assert f"'{name}'" in message
    for phrase in phrases:
        assert phrase in message, message
    return message


def _png() -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    pixels = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _xlsx() -> bytes:
    """The skeleton of a real .xlsx: a zip whose first entry is [Content_Types].xml."""
    return _zip({
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"/>',
        "xl/workbook.xml": "<workbook/>",
        "xl/worksheets/sheet1.xml": "<worksheet><sheetData/></worksheet>",
    })


# --- files that are not tables -----------------------------------------------------------------------------------


def test_empty_file() -> None:
    _refused(b"", "empty.csv", EmptyFileError, "empty (0 bytes)")


def test_blank_lines_only() -> None:
    _refused(b"\n\n  \r\n", "blank.csv", EmptyFileError, "only blank lines")


def test_header_only() -> None:
    _refused(b"text,label\n", "header.csv", EmptyFileError, "no data rows")


@pytest.mark.parametrize(
    ("make", "name", "kind"),
    [(_png, "photo.csv", "a PNG image"), (lambda: _zip({"a.csv": "text,label\n"}), "archive.csv", "zip archive"),
     (_xlsx, "reviews.csv", "an Excel workbook")],
)
def test_binary_file_renamed_csv(make, name: str, kind: str) -> None:
    _refused(make(), name, NotTextError, kind, "save it as CSV UTF-8")


def test_wrong_delimiter_gives_one_column() -> None:
    lines = ["text label"] + [f"{text.replace(' ', '_')} {label}" for text, label in labelled_rows(20)]
    data = "\n".join(lines).encode()
    _refused(data, "spaces.csv", ColumnError, "only one column", "commas, tabs, semicolons or |")


def test_mixed_delimiters_name_the_first_bad_line() -> None:
    rows = enumerate(labelled_rows(20))
    lines = ["text,label"] + [f"{text}{',' if row < 10 else ';'}{label}" for row, (text, label) in rows]
    _refused("\n".join(lines).encode(), "mixed.csv", CsvFormatError, "Line 12", "1 fields but the header has 2")


def test_header_and_rows_with_different_delimiters() -> None:
    lines = ["text;label"] + [f"{text},{label}" for text, label in labelled_rows(20)]
    _refused("\n".join(lines).encode(), "semicolons.csv", CsvFormatError, "Line 2", "header has 2")


def test_unclosed_quote_names_its_line() -> None:
    rows = [f"{text},{label}" for text, label in labelled_rows(20)]
    rows.insert(5, '"this quote never ends,positive')
    data = "\n".join(["text,label", *rows]).encode()
    _refused(data, "quote.csv", CsvFormatError, "quote opened on line 7", "never closed")


def test_invalid_bytes_after_a_utf8_byte_order_mark_name_the_real_offset() -> None:
    good = "\ufefftext,label\ngood,pos\n".encode("utf-8")
    data = good + b"\xff\xfe broken,neg\n"
    _refused(data, "bom.csv", EncodingError, "utf-8-sig", f"byte 0xFF at byte offset {len(good)}", "(line 3)")


# --- tables whose labels or texts cannot train a model ---------------------------------------------------------------


def test_one_class_only() -> None:
    data = csv_bytes([(text, "positive") for text, _ in labelled_rows(20)])
    _refused(data, "one-class.csv", ClassError, "has the label 'positive'", "at least one other label")


def test_label_column_of_free_text_is_found_out() -> None:
    rows = [(f"a review number {row}", f"free comment {row}") for row in range(3_000)]
    _refused(csv_bytes(rows, header=("text", "notes")), "free.csv", ColumnError, "3,000 different values", "free text")


def test_chosen_label_column_of_free_text_is_refused() -> None:
    rows = [(f"a review number {row}", f"free comment {row}") for row in range(3_000)]
    _refused(csv_bytes(rows), "free.csv", ClassError, "3,000 different labels", "at most 50", label_column="label")


def test_all_empty_text_column() -> None:
    rows = [("", label) for _, label in labelled_rows(20)]
    _refused(csv_bytes(rows), "no-text.csv", TooFewRowsError, "0 usable rows out of 20", "20 with empty text or label")


@pytest.mark.parametrize(
    ("rows", "kept", "dropped"),
    [([("same text", "positive")] * 100_000, "only 1 usable row", "99,999 duplicates"),
     ([("same text", "positive"), ("same text", "negative")] * 50_000, "only 0 usable rows", "2 with contradicting")],
)
def test_one_text_repeated_100k_times(rows, kept: str, dropped: str) -> None:
    _refused(csv_bytes(rows), "repeated.csv", TooFewRowsError, kept, "out of 100,000", dropped)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    data = csv_bytes(labelled_rows(20))
    _refused(data, "big.csv", FileTooLargeError, "over the", "limit", max_bytes=len(data) - 1)
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    with pytest.raises(FileTooLargeError, match="'big.csv' is"):
        load_dataset(path, max_bytes=100)


def test_upload_over_the_size_limit_is_refused_before_reading() -> None:
    class Upload(io.BytesIO):
        name, size = "upload.csv", 10**9

        def getvalue(self) -> bytes:
            raise AssertionError("a too-large upload must be refused before it is read")

    with pytest.raises(FileTooLargeError, match="'upload.csv' is 953.7 MB"):
        load_dataset(Upload())


# --- files built to cost time: refused within a bound, never worked through ---------------------------------------


@pytest.mark.timeout(10)
def test_fifty_thousand_repeated_header_names_are_numbered_in_linear_time() -> None:
    names = _header_names(["text"] * 50_000)
    assert names[:3] == ["text", "text.1", "text.2"] and names[-1] == "text.49999"
    assert len(set(names)) == 50_000
    # Numbering skips names the file already has, as pandas does.
    assert _header_names(["a", "a", "a.1", "a", " "]) == ["a", "a.1", "a.1.1", "a.2", "column 5"]


@pytest.mark.timeout(10)
def test_a_header_of_fifty_thousand_duplicate_columns_is_refused_quickly() -> None:
    header = ",".join(["text"] * 50_000).encode()
    data = header + b"\n" + b"\n".join(f"review {n},positive".encode() for n in range(20)) + b"\n"
    _refused(data, "wide.csv", FileTooLargeError, "50,000 fields", f"limit of {MAX_COLUMNS:,} columns")


@pytest.mark.timeout(10)
def test_a_row_wider_than_the_column_limit_is_refused_before_it_is_kept() -> None:
    data = csv_bytes(labelled_rows(20)) + b"," * (MAX_COLUMNS + 5) + b"x\n"
    _refused(data, "ragged.csv", FileTooLargeError, "Line 22", f"{MAX_COLUMNS + 6:,} fields")


@pytest.mark.timeout(20)
def test_a_cell_over_the_cell_limit_is_refused() -> None:
    data = csv_bytes(labelled_rows(20) + [("x" * (MAX_CELL_CHARACTERS + 1), "positive")])
    _refused(data, "cell.csv", FileTooLargeError, "line 22", f"{MAX_CELL_CHARACTERS:,} characters")


def test_reading_a_file_has_a_time_limit(monkeypatch) -> None:
    monkeypatch.setattr(core.data, "PARSE_SECONDS", -1.0)  # already spent: the first look at the clock refuses
    _refused(csv_bytes(labelled_rows(20)), "slow.csv", FileTooLargeError, "longer than the -1 s limit")


# --- strange but valid data loads unchanged ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_cell_run() -> tuple:
    """A file with one 1,000,000-character review, loaded and trained on (a tiny MLP, two epochs)."""
    long_text = ("good " * 200_000).strip() + "!"
    rows = labelled_rows(40) + [(long_text, "positive")]
    dataset = load_dataset(csv_bytes(rows), name="long.csv")
    split = split_dataset(dataset, validation_fraction=0.1, test_fraction=0.0, seed=0)
    job = TrainingJob(FAST, split.train, split.validation).start()
    job.wait(timeout=120)
    return long_text, dataset, job


def test_a_million_character_cell_loads_whole(long_cell_run) -> None:
    long_text, dataset, _ = long_cell_run
    assert len(long_text) == 1_000_000 and long_text in dataset.texts


def test_a_million_character_cell_trains(long_cell_run) -> None:
    _, _, job = long_cell_run
    assert job.status == JobStatus.FINISHED, job.snapshot().error


@pytest.fixture(scope="module")
def predictor(long_cell_run) -> Predictor:
    job = long_cell_run[2]
    return Predictor(job.model, job.classes)


@pytest.mark.parametrize("text", ["", "   \t\n ", "x" * 100_000, "good " * 200_000])
def test_predictor_answers_for_empty_blank_and_huge_texts(predictor: Predictor, text: str) -> None:
    [prediction] = predictor.predict([text])
    assert prediction.label in predictor.classes
    assert set(prediction.probabilities) == set(predictor.classes)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-4)


def test_predictor_reads_only_the_first_characters_of_a_huge_text(predictor: Predictor) -> None:
    head = "good " * (MAX_TEXT_CHARACTERS // 5)
    probabilities = predictor.predict_proba([head, head + "awful " * 100_000])
    assert probabilities[0] == pytest.approx(probabilities[1], abs=1e-6)


def test_numeric_only_texts_load() -> None:
    rows = [(str(4_815_162_342 + 37 * row), "positive" if row % 2 else "negative") for row in range(20)]
    dataset = load_dataset(csv_bytes(rows), name="numbers.csv")
    assert dataset.texts == tuple(text for text, _ in rows)
    assert dataset.report.text_column == "text"


def test_numeric_only_texts_with_numeric_labels_load() -> None:
    rows = [(str(4_815_162_342 + 37 * row), str(row % 2)) for row in range(20)]
    dataset = load_dataset(csv_bytes(rows), name="numbers.csv")
    assert (dataset.report.text_column, dataset.classes) == ("text", ("0", "1"))


EMOJI_AND_RTL = [
    ("😀 great phone 👍", "positive"), ("😡 broken again 👎", "negative"),
    ("المنتج رائع جدا", "positive"), ("الخدمة سيئة للغاية", "negative"),
    ("הסרט היה מצוין", "positive"), ("השירות היה גרוע", "negative"),
    ("mixed עברית and العربية 🙂", "positive"), ("\u200fرسالة من اليمين\u200f", "negative"),
]


def test_emoji_and_right_to_left_text_load_unchanged_and_tokenize() -> None:
    rows = EMOJI_AND_RTL * 2 + [(f"{text} {copy}", label) for copy in range(2) for text, label in EMOJI_AND_RTL]
    dataset = load_dataset(csv_bytes(rows), name="scripts.csv")
    assert dataset.texts[: len(EMOJI_AND_RTL)] == tuple(text.strip() for text, _ in EMOJI_AND_RTL)
    tokens = tokenize([text for text, _ in EMOJI_AND_RTL])
    assert tokens[0] == ["😀", "great", "phone", "👍"]
    assert tokens[2] == ["المنتج", "رائع", "جدا"]
    assert tokens[4] == ["הסרט", "היה", "מצוין"]
    assert all(tokens)


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A9)", "=cmd|' /C calc'!A0"]


def test_formula_cells_stay_data_on_load_and_are_escaped_on_download() -> None:
    rows = [(formula, label) for formula, label in zip(FORMULAS, ["positive", "negative"] * 3)] + labelled_rows(10)
    dataset = load_dataset(csv_bytes(rows), name="formulas.csv")
    assert dataset.texts[: len(FORMULAS)] == tuple(FORMULAS)
    download = to_safe_csv(pd.DataFrame({"text": list(dataset.texts), "label": list(dataset.labels)}))
    assert download.startswith(b"\xef\xbb\xbf")
    cells = list(csv.reader(io.StringIO(download.decode("utf-8-sig"))))
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in cells for cell in row)
    assert [row[0] for row in cells[1 : len(FORMULAS) + 1]] == ["'" + formula for formula in FORMULAS]


def test_html_and_script_in_texts_stay_plain_data() -> None:
    html = ['<script>alert("x")</script> great film', '<img src=x onerror=alert(1)> awful film',
            "<b>bold</b> love it", "&lt;escaped&gt; hate it"]
    rows = [(text, label) for text, label in zip(html * 3, ["positive", "negative"] * 6)]
    rows = [(f"{text} {row}", label) for row, (text, label) in enumerate(rows)]
    dataset = load_dataset(csv_bytes(rows), name="html.csv")
    assert dataset.texts == tuple(text for text, _ in rows)
    assert "script" not in tokenize([html[0]])[0]  # the model reads the words, not the markup


# --- model names ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])


@pytest.mark.parametrize(
    ("name", "saved_as"),
    [("../../x", "x"), ("a/../../b", "a-.-.-b"), ("C:\\Windows\\evil", "C-Windows-evil"),
     ("n" * 300, "n" * MAX_NAME_LENGTH)],
)
def test_model_names_are_sanitized_into_the_models_folder(tmp_path: Path, tiny_model, name: str, saved_as: str) -> None:
    root = tmp_path / "models"
    info = ModelRegistry(root).save(tiny_model, {"classes": ["a", "b"]}, name=name)
    assert info.name == saved_as and info.path.parent == root
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_dir()) == [
        "models", f"models/{saved_as}"
    ]


@pytest.mark.parametrize(("name", "phrase"), [("", "no letters or digits"), ("...", "no letters or digits"),
                                              ("CON", "reserved by Windows"), ("com1.txt", "reserved by Windows")])
def test_unusable_model_names_are_refused(tmp_path: Path, tiny_model, name: str, phrase: str) -> None:
    with pytest.raises(InvalidModelNameError, match=phrase) as caught:
        ModelRegistry(tmp_path).save(tiny_model, {"classes": ["a", "b"]}, name=name)
    assert repr(name) in str(caught.value)
    assert list(tmp_path.iterdir()) == []
