"""Tests for core/data.py: encodings, delimiters, column inference, cleaning, every refusal message, and splits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import Dataset, load_dataset, load_test_dataset, load_text_table, split_dataset
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
from tests.support import csv_bytes, shared_dataset

ENGLISH_ROWS = [
    ("A lovely film, warm and funny", "positive"),  # a quoted comma
    ("The café scene alone is worth the ticket", "positive"),
    ("First line of praise\nsecond line of praise", "positive"),  # an embedded newline
    ("Great acting and a clever plot", "positive"),
    ("Dull, slow and far too long", "negative"),
    ("I walked out after twenty minutes", "negative"),
    ("The dialogue is wooden and the jokes fall flat", "negative"),
]
CHINESE_ROWS = [
    ("好评，物流很快，包装也很好", "positive"),
    ("房间干净，服务热情，下次还来", "positive"),
    ("第一行是好评\n第二行也是好评", "positive"),
    ("质量很差，用了两天就坏了", "negative"),
    ("差评，客服态度恶劣", "negative"),
    ("酒店位置偏僻，早餐难吃", "negative"),
]
ROWS_BY_ENCODING = {
    "utf-8": ENGLISH_ROWS + CHINESE_ROWS,
    "utf-8-sig": ENGLISH_ROWS + CHINESE_ROWS,
    "utf-16": ENGLISH_ROWS + CHINESE_ROWS,
    "gb18030": CHINESE_ROWS * 2,  # repeated texts get a suffix below, so they stay distinct
    "cp1252": ENGLISH_ROWS,
}


def _distinct(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Makes repeated texts unique so duplicate removal does not shrink a test table."""
    seen: set[str] = set()
    unique = []
    for number, (text, label) in enumerate(rows):
        unique.append((f"{text} {number}" if text in seen else text, label))
        seen.add(text)
    return unique


def _reviews(n_per_class: int = 6, labels: tuple[str, ...] = ("positive", "negative")) -> list[tuple[str, str]]:
    """Tiny generated reviews, each text distinct and longer than any label."""
    return [
        (f"review number {number} of a film that felt {label} overall", label)
        for label in labels
        for number in range(n_per_class)
    ]


def _load(content: bytes, **kwargs) -> Dataset:
    return load_dataset(content, name="reviews.csv", **kwargs)


# --- encodings and delimiters -------------------------------------------------------------------------------------


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])  # "\r\n" as spreadsheets and Windows tools write it
@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
@pytest.mark.parametrize("encoding", list(ROWS_BY_ENCODING))
def test_every_encoding_and_delimiter_loads_the_same_rows(tmp_path: Path, encoding: str, delimiter: str,
                                                          line_end: str) -> None:
    rows = _distinct(ROWS_BY_ENCODING[encoding])
    path = tmp_path / "mixed.csv"
    path.write_bytes(csv_bytes(rows, delimiter=delimiter, encoding=encoding, line_end=line_end))

    dataset = load_dataset(path, min_rows=5)

    assert list(zip(dataset.texts, dataset.labels)) == rows
    assert dataset.report.encoding == encoding
    assert dataset.report.delimiter == delimiter
    assert dataset.report.source == "mixed.csv"


def test_utf16_without_bom_is_recognised() -> None:
    content = csv_bytes(_reviews(), encoding="utf-16-le")
    assert _load(content).report.encoding == "utf-16-le"


def test_uploaded_file_objects_are_read_from_the_start_and_named() -> None:
    class UploadedFile(io.BytesIO):  # what Streamlit hands over: a BytesIO with .name and .size
        name = "upload.tsv"
        size = 0

    upload = UploadedFile(csv_bytes(_reviews(), delimiter="\t"))
    upload.read()  # a previous rerun consumed it
    assert load_dataset(upload).report.source == "upload.tsv"
    assert len(load_dataset(io.BytesIO(csv_bytes(_reviews())), name="shown.csv")) == 12
    assert load_dataset(io.BytesIO(csv_bytes(_reviews())), name="shown.csv").report.source == "shown.csv"


# --- columns and labels -------------------------------------------------------------------------------------------


def test_columns_are_inferred_from_values_and_name_hints() -> None:
    rows = [
        (str(number), text, "web" if number % 2 else "app", label) for number, (text, label) in enumerate(_reviews())
    ]
    dataset = _load(csv_bytes(rows, header=("id", "review", "channel", "sentiment")))
    assert (dataset.report.text_column, dataset.report.label_column) == ("review", "sentiment")
    assert dataset.report.columns == ["id", "review", "channel", "sentiment"]


def test_columns_without_telling_names_are_inferred_from_values() -> None:
    rows = [(label, text) for text, label in _reviews()]
    dataset = _load(csv_bytes(rows, header=("a", "b")))
    assert (dataset.report.text_column, dataset.report.label_column) == ("b", "a")
    assert dataset.classes == ("negative", "positive")


def test_columns_can_be_chosen_by_name() -> None:
    rows = [(f"title {number}", text, label) for number, (text, label) in enumerate(_reviews())]
    dataset = _load(csv_bytes(rows, header=("title", "body", "label")), text_column="title", label_column="label")
    assert dataset.texts[0] == "title 0"
    assert dataset.report.text_column == "title"


def test_numeric_labels_become_plain_strings_sorted_numerically() -> None:
    rows = [(f"a review worth {stars} stars, take {take}", f"{stars}.0") for stars in range(1, 11) for take in range(2)]
    dataset = _load(csv_bytes(rows, header=("text", "rating")))
    assert dataset.classes == tuple(str(stars) for stars in range(1, 11))
    assert dataset.labels[0] == "1"
    assert dataset.report.label_merges["10"] == ["10.0"]


def test_label_case_variants_merge_into_the_most_frequent_spelling() -> None:
    rows = _reviews(4) + [("shouting about a great film", "POSITIVE"), ("quiet praise for a film", "Positive ")]
    dataset = _load(csv_bytes(rows))
    assert dataset.classes == ("negative", "positive")
    assert dataset.report.label_merges == {"positive": ["POSITIVE", "Positive "]}


def test_missing_duplicate_and_conflicting_rows_are_dropped_and_counted() -> None:
    rows = _reviews() + [
        ("   ", "positive"),  # blank text
        ("a review without a label", ""),
        _reviews()[0],  # exact duplicate
        _reviews()[1],
        ("the same words, two verdicts", "positive"),
        ("the same words, two verdicts", "negative"),
    ]
    report = _load(csv_bytes(rows)).report
    assert (report.rows_read, report.rows_kept) == (18, 12)
    assert (report.dropped_missing, report.dropped_duplicates, report.dropped_conflicting) == (2, 2, 2)


def test_each_kept_row_knows_its_data_row_in_the_file_after_rows_were_dropped() -> None:
    rows = [("   ", "positive"), _reviews()[0], _reviews()[0], ("same words", "positive"), ("same words", "negative"),
            *_reviews()[1:]]
    dataset = _load(csv_bytes(rows))
    assert dataset.file_rows == (1, *range(5, 5 + len(_reviews()) - 1))
    assert all(rows[dataset.file_row(i)] == (text, label) for i, (text, label) in enumerate(zip(dataset.texts,
                                                                                                  dataset.labels)))
    assert dataset.subset([2, 0]).file_rows == (dataset.file_rows[2], dataset.file_rows[0])
    assert Dataset(("a",), ("x",)).file_row(0) == 0


def test_trailing_delimiters_and_blank_lines_are_tolerated() -> None:
    content = b"text,label,\n" + b"\n".join(f"{text},{label},".encode() for text, label in _reviews()) + b"\n\n\n"
    dataset = _load(content)
    assert len(dataset) == 12
    assert dataset.report.label_column == "label"


def test_invisible_characters_are_stripped_from_labels_and_counted() -> None:
    rows = _reviews()
    rows[0] = (rows[0][0], "positive\u200b")  # looks like "positive" but would be a class of its own
    rows[1] = (rows[1][0], "\u202enegative\u2069")
    dataset = _load(csv_bytes(rows))
    assert dataset.classes == ("negative", "positive")
    assert dataset.report.labels_with_invisible == 2


# --- refusals: each names the file and the culprit ----------------------------------------------------------------


def _refusal(error_type: type[DataError], content: bytes, **kwargs) -> str:
    with pytest.raises(error_type) as caught:
        _load(content, **kwargs)
    message = str(caught.value)
    assert "reviews.csv" in message
    return message


def test_refuses_a_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(csv_bytes(_reviews()))
    with pytest.raises(FileTooLargeError, match="reviews.csv") as caught:
        load_dataset(path, max_bytes=100)
    assert f"{path.stat().st_size:,} bytes" in str(caught.value)
    assert "100 bytes limit" in str(caught.value)


def test_refuses_an_empty_file() -> None:
    assert "0 bytes" in _refusal(EmptyFileError, b"")


def test_refuses_a_header_without_rows() -> None:
    assert "no data rows" in _refusal(EmptyFileError, b"text,label\n")


def test_refuses_a_png_image() -> None:
    assert "PNG image" in _refusal(NotTextError, b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def test_refuses_an_excel_workbook_and_says_to_save_as_csv() -> None:
    message = _refusal(NotTextError, b"PK\x03\x04\x14\x00\x06\x00" + bytes(200))
    assert "Excel workbook" in message and "CSV UTF-8" in message


def test_refuses_nul_bytes_in_a_text_file() -> None:
    assert "NUL" in _refusal(NotTextError, b"text,label\nfine,positive\nbad\x00\x00\x01,negative\n")


def test_refuses_utf8_with_an_invalid_byte_naming_offset_and_line() -> None:
    content = csv_bytes(_distinct(CHINESE_ROWS * 2))
    broken = content.replace("差评".encode(), b"\xff\xfe\xfd")
    offset = content.index("差评".encode())
    message = _refusal(EncodingError, broken)
    assert f"byte offset {offset:,}" in message
    line = content[:offset].count(b"\n") + 1
    assert f"line {line}" in message
    assert "save it as UTF-8" in message


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("euc_kr", "이 영화는 정말 재미있어요"),
        ("euc_jp", "これは映画のレビューです"),
        ("cp1251", "Это отличный фильм"),
    ],
)
def test_refuses_legacy_encodings_rather_than_garbling_them(encoding: str, text: str) -> None:
    rows = [(f"{text} {number}", label) for number, (_, label) in enumerate(_reviews())]
    assert "save it as UTF-8" in _refusal(EncodingError, csv_bytes(rows, encoding=encoding))


def test_refuses_an_unclosed_quote_naming_its_line() -> None:
    content = csv_bytes(_reviews()) + b'"an unclosed review,positive\nanother review,negative\n'
    assert "line 14" in _refusal(CsvFormatError, content)


def test_refuses_an_unclosed_quote_in_the_label_column() -> None:
    content = csv_bytes(_reviews()) + b'a review,"positive\nanother review,negative\n'
    assert "line 14" in _refusal(CsvFormatError, content)


def test_refuses_ragged_rows_naming_the_line() -> None:
    content = csv_bytes(_reviews()) + b"a review, with a comma,positive\n"
    message = _refusal(CsvFormatError, content)
    assert "Line 14" in message and "3 fields" in message


def test_refuses_a_single_column_file() -> None:
    content = "text\n".encode() + "\n".join(text for text, _ in _reviews()).encode()
    message = _refusal(ColumnError, content)
    assert "'text'" in message and "a text column and a label column" in message


def test_refuses_a_missing_column_name_listing_the_columns() -> None:
    message = _refusal(ColumnError, csv_bytes(_reviews()), label_column="stars")
    assert "'stars'" in message and "'text', 'label'" in message


def test_refuses_a_label_column_of_free_text() -> None:
    rows = [(f"title number {number}", text) for number, (text, _) in enumerate(_reviews(40))]
    message = _refusal(ColumnError, csv_bytes(rows, header=("title", "body")))
    assert "'title' has 80 different values" in message and "free text" in message


def test_refuses_a_chosen_label_column_with_too_many_classes() -> None:
    rows = [(f"title number {number}", text) for number, (text, _) in enumerate(_reviews(40))]
    message = _refusal(ClassError, csv_bytes(rows, header=("title", "body")), label_column="title")
    assert "'title'" in message and "80 different labels" in message


def test_a_chosen_id_column_is_called_an_id_column_in_one_short_sentence() -> None:
    # 28 ids: under MAX_CLASSES, so each would otherwise be listed as a class with too few rows (issue 15.9).
    rows = [(str(number), text, label) for number, (text, label) in enumerate(_reviews(14))]
    message = _refusal(ClassError, csv_bytes(rows, header=("id", "text", "label")), label_column="id")
    assert "'id'" in message and "looks like an ID column" in message and "28 of its 28 labels" in message
    assert "has 1 row" not in message and message.count(",") < 5


def test_refuses_a_single_class_naming_it() -> None:
    assert "'positive'" in _refusal(ClassError, csv_bytes(_reviews(12, labels=("positive",))))


def test_refuses_a_class_with_one_row_naming_it_and_its_count() -> None:
    rows = _reviews() + [("the only neutral review in the file", "neutral")]
    assert "'neutral' has 1 row" in _refusal(ClassError, csv_bytes(rows))


def test_refuses_too_few_rows() -> None:
    message = _refusal(TooFewRowsError, csv_bytes(_reviews(3)))
    assert "only 6 usable rows" in message and "at least 10" in message


def test_test_file_refuses_unknown_labels_listing_known_ones() -> None:
    rows = [("a fine film", "Positive"), ("a neutral film", "neutral"), ("a bad film", "negative")]
    with pytest.raises(UnknownLabelError) as caught:
        load_test_dataset(csv_bytes(rows), classes=("negative", "positive"), name="test.csv")
    message = str(caught.value)
    assert "test.csv" in message and "'neutral' (1 row)" in message and "'negative', 'positive'" in message


def test_test_file_can_leave_out_the_rows_with_unknown_labels_and_counts_them() -> None:
    rows = [("a fine film", "Positive"), ("a neutral film", "neutral"), ("a bad film", "negative"), ("meh", "mixed")]
    dataset = load_test_dataset(csv_bytes(rows), classes=("negative", "positive"), name="test.csv", drop_unknown=True)
    assert dataset.texts == ("a fine film", "a bad film") and dataset.labels == ("positive", "negative")
    assert (dataset.report.rows_kept, dataset.report.dropped_unknown) == (2, 2)


def test_test_file_with_no_known_label_left_says_so() -> None:
    with pytest.raises(TooFewRowsError, match="1 with labels the model does not know"):
        load_test_dataset(csv_bytes([("meh", "mixed")]), classes=("negative", "positive"), name="test.csv",
                          drop_unknown=True)


def test_test_file_accepts_few_rows_and_maps_spellings_onto_known_classes() -> None:
    dataset = load_test_dataset(csv_bytes([("a fine film", "1.0")]), classes=("0", "1"), name="test.csv")
    assert dataset.labels == ("1",)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.one_of(st.binary(max_size=300), st.text(alphabet='ab,;\t|"\n\r é好 ', max_size=300).map(str.encode))
)
def test_any_bytes_give_a_dataset_or_a_data_error(content: bytes) -> None:
    try:
        load_dataset(content, min_rows=1)
    except DataError:
        pass


# --- dataset and split --------------------------------------------------------------------------------------------


def test_dataset_counts_fingerprints_and_subsets() -> None:
    dataset = _load(csv_bytes(_reviews()))
    assert dataset.class_counts() == {"negative": 6, "positive": 6}
    assert dataset.fingerprint() == _load(csv_bytes(_reviews())).fingerprint()
    assert dataset.fingerprint() != dataset.subset(range(11)).fingerprint()
    assert dataset.subset([1, 0]).texts == (dataset.texts[1], dataset.texts[0])
    assert dataset.subset([0]).report is dataset.report


def test_split_is_stratified_disjoint_complete_and_deterministic() -> None:
    dataset = _load(csv_bytes(_reviews(40, labels=("negative", "neutral", "positive"))))
    split = split_dataset(dataset, validation_fraction=0.1, test_fraction=0.2, seed=7)

    for part, per_class in ((split.train, 28), (split.validation, 4), (split.test, 8)):
        assert set(part.class_counts().values()) == {per_class}
    texts = split.train.texts + split.validation.texts + split.test.texts
    assert sorted(texts) == sorted(dataset.texts)
    assert split_dataset(dataset, validation_fraction=0.1, test_fraction=0.2, seed=7) == split
    assert split_dataset(dataset, validation_fraction=0.1, test_fraction=0.2, seed=8) != split


def test_split_keeps_a_training_row_per_class_and_allows_no_test_set() -> None:
    dataset = Dataset(("a", "b", "c", "d", "e"), ("x", "x", "y", "y", "y"))
    split = split_dataset(dataset, validation_fraction=0.5, test_fraction=0.0, seed=0)
    assert len(split.test) == 0
    assert split.train.class_counts() == {"x": 1, "y": 1}
    assert split.validation.class_counts() == {"x": 1, "y": 2}


@pytest.mark.parametrize(("validation", "test"), [(0.6, 0.1), (-0.1, 0.1), (0.5, 0.45), (float("nan"), 0.1)])
def test_split_refuses_fractions_out_of_range(validation: float, test: float) -> None:
    with pytest.raises(ConfigError, match="fraction"):
        split_dataset(Dataset(("a", "b"), ("x", "y")), validation_fraction=validation, test_fraction=test, seed=0)


# --- real corpora -------------------------------------------------------------------------------------------------


# folder -> (rows in the file, rows kept after duplicates and contradicting texts are dropped, classes)
REAL_CORPORA = {
    "mr": (9596, 9596, ("negative", "positive")),
    "chnsenticorp": (9600, 8225, ("negative", "positive")),
    "airline_tweets": (11693, 11522, ("negative", "neutral", "positive")),
}


@pytest.mark.parametrize("folder", list(REAL_CORPORA))
def test_real_corpora_load(folder: str) -> None:
    rows_read, rows_kept, classes = REAL_CORPORA[folder]
    dataset = load_dataset(shared_dataset(folder) / "train.csv")
    assert dataset.report.rows_read == rows_read
    assert abs(len(dataset) - rows_kept) <= rows_kept * 0.02
    assert dataset.classes == classes
    assert (dataset.report.encoding, dataset.report.delimiter) == ("utf-8", ",")
    assert dataset.report.source == "train.csv"


# --- texts to predict -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "texts"),
    [
        (b"text\nhello, world\n\"quoted, with\nline break\"\n", ["hello, world", "quoted, with\nline break"]),
        (b"id,review\n1,good one\n2,\"bad, really\"\n", ["good one", "bad, really"]),
        ("评论\n这个手机很好用，电池也耐用\n质量很差，不会再买了\n".encode("gb18030"),
         ["这个手机很好用，电池也耐用", "质量很差，不会再买了"]),
        (b"text\n\n  \nonly this\n", ["only this"]),
        # A name like "text" wins over a longer column: a file to predict has no label column to compare with.
        (b"text,label\nok,positive\nbad,negative\n", ["ok", "bad"]),
        # Without a telling name, the longest non-numeric column holds the texts.
        (b"id;a;b\n1;x;a long sentence here\n2;y;another one\n", ["a long sentence here", "another one"]),
    ],
)
def test_texts_are_read_from_one_column_or_a_table(content: bytes, texts: list[str]) -> None:
    assert load_text_table(content, name="texts.csv").texts == texts


def test_texts_come_from_the_named_column_of_an_upload() -> None:
    upload = io.BytesIO(b"title,body\nFine,Works well\nMeh,Broke in a week\n")
    upload.name = "folder/upload.csv"
    assert load_text_table(upload, text_column="title").texts == ["Fine", "Meh"]


def test_a_file_to_predict_keeps_every_column_and_row_in_order() -> None:
    # Predictions are joined back on the other columns (an id), so a row with an empty text must not vanish.
    table = load_text_table(b"id,review,stars\n7,great phone,5\n8,,3\n9,awful film,1\n", name="texts.csv")
    assert table.header == ("id", "review", "stars") and table.text_column == "review"
    assert table.rows == (("7", "great phone", "5"), ("8", "", "3"), ("9", "awful film", "1"))
    assert table.texts == ["great phone", "", "awful film"]


@pytest.mark.parametrize(
    ("content", "options", "error", "message"),
    [
        (b"", {}, EmptyFileError, "'texts.csv' is empty"),
        (b"id,review\n1,good\n", {"text_column": "body"}, ColumnError, "no column named 'body'"),
        (b"text\n \n\n", {}, EmptyFileError, "'texts.csv' has no texts in column 'text'"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), {}, NotTextError, "looks like a PNG image"),
        (b"text\n" + b"x" * 200, {"max_bytes": 100}, FileTooLargeError, "over the 100 bytes limit"),
        (b"id,text\n1,fine\n2,\"never closed\n", {}, CsvFormatError, "never closed"),
    ],
)
def test_unusable_texts_files_raise_a_data_error_saying_why(content, options, error, message) -> None:
    with pytest.raises(error, match=message):
        load_text_table(content, name="texts.csv", **options)
