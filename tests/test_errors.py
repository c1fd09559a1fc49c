"""Core errors speak the user's language (issue 14.6): each carries a core.i18n.Message, which renders in Chinese
with the file, row and column it names, while str() stays the English sentence the CLI and logs show."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest

from core.config import TrainConfig, parse_layer_sizes, preset
from core.data import load_dataset, load_test_dataset, split_dataset
from core.errors import (
    ClassError,
    ColumnError,
    ConfigError,
    CsvFormatError,
    DataError,
    EmptyFileError,
    EncodingError,
    InvalidModelNameError,
    LimitError,
    NotTextError,
    StudioError,
    TooFewRowsError,
    UnknownLabelError,
)
from core.evaluate import check_threshold
from core.i18n import Listing, Message
from core.limits import check_training
from core.registry import sanitize_name
from tests.support import CJK, assert_chinese, csv_bytes, labelled_rows


def _raised(action: Callable[[], object], error_type: type[StudioError]) -> StudioError:
    with pytest.raises(error_type) as caught:
        action()
    return caught.value


def _chinese(error: StudioError, *details: str) -> str:
    """The error in Chinese, checked to be Chinese apart from the names and values it gives."""
    assert error.translated, str(error)
    chinese = error.text("zh")
    assert chinese != str(error)
    assert_chinese(chinese, *details)
    return chinese


def _ragged() -> bytes:
    rows = labelled_rows(20)
    return csv_bytes([*rows[:3], ("one text", "positive", "an extra field"), *rows[3:]])


# (what is wrong, how to get the error, its type, what the English says, details the Chinese must name)
CASES = [
    ("missing label column",
     lambda: load_dataset(csv_bytes(labelled_rows(20)), name="reviews.csv", label_column="sentiment"),
     ColumnError, "no column named 'sentiment'", ("reviews.csv", "sentiment", "“text”", "“label”")),
    ("empty file", lambda: load_dataset(b"", name="empty.csv"), EmptyFileError, "is empty (0 bytes)",
     ("empty.csv", "0")),
    ("header only", lambda: load_dataset(b"text,label\n", name="header.csv"), EmptyFileError,
     "has a header row (text, label) but no data rows", ("header.csv", "text、label")),
    ("bad encoding", lambda: load_dataset("text,label\n好评,positive\n".encode() + b"\xff\xfe bad,negative\n",
                                           name="broken.csv"), EncodingError,
     "byte 0xFF at byte offset 27 (line 3) is not valid", ("broken.csv", "0xFF", "27", "第 3 行", "UTF-8")),
    ("binary file", lambda: load_dataset(b"PK\x03\x04" + bytes(100), name="book.xlsx"), NotTextError,
     "looks like an Excel workbook or a zip archive", ("book.xlsx", "Excel", "zip", "CSV UTF-8")),
    ("duplicate header", lambda: load_dataset(csv_bytes([(f"review {n} words", f"note {n} words") for n in range(60)],
                                                        header=("text", "text")), name="twice.csv"), ColumnError,
     "'text.1' has 60 different values", ("twice.csv", "“text.1”", "60", "positive/negative")),
    ("one column", lambda: load_dataset(b"text\nhello\nworld\n", name="single.csv"), ColumnError,
     "has only one column ('text')", ("single.csv", "“text”", "Sentiment Studio", "|")),
    ("one class", lambda: load_dataset(csv_bytes([(f"text number {n}", "positive") for n in range(20)]),
                                       name="one.csv"), ClassError,
     "has the label 'positive'", ("one.csv", "“label”", "“positive”")),
    ("small class", lambda: load_dataset(csv_bytes(labelled_rows(20)[:19] + [("a lonely text", "neutral")]),
                                         name="small.csv"), ClassError,
     "'neutral' has 1 row, but each class needs at least 2", ("small.csv", "“neutral”", "1 行", "2 行")),
    ("too few rows", lambda: load_dataset(csv_bytes(labelled_rows(6) + [("", "positive")] * 3), name="few.csv"),
     TooFewRowsError, "only 6 usable rows out of 9 (dropped 3 with empty text or label",
     ("few.csv", "9 行", "6 行", "10 行", "3 行")),
    ("bad row number", lambda: load_dataset(_ragged(), name="ragged.csv"), CsvFormatError,
     "Line 5 of 'ragged.csv' has 3 fields but the header has 2", ("ragged.csv", "第 5 行", "3", "2", "逗号")),
    ("unclosed quote",
     lambda: load_dataset(csv_bytes(labelled_rows(20)) + b'"never closed,positive\n', name="quote.csv"),
     CsvFormatError, "quote opened on line 22 that is never closed", ("quote.csv", "第 22 行")),
    ("unknown test label", lambda: load_test_dataset(csv_bytes([("a fine phone overall", "positive"),
                                                                ("nothing special about it", "neutral"),
                                                                ("it broke after one day", "negative")]),
                                                     classes=("negative", "positive"), name="test.csv"),
     UnknownLabelError, "labels the model was not trained on: 'neutral' (1 row)",
     ("test.csv", "“neutral”（1 行）", "“negative”、“positive”")),
    ("config out of range", lambda: TrainConfig(dropout=0.95), ConfigError,
     "Setting dropout=0.95 is out of range: use 0 to 0.9.", ("dropout=0.95", "0 到 0.9")),
    ("config open range", lambda: TrainConfig(clipnorm=0.0), ConfigError,
     "use above 0 and at most 100", ("clipnorm=0.0", "大于 0", "不大于 100")),
    ("config wrong kind", lambda: TrainConfig(epochs="ten"), ConfigError,
     "Setting epochs='ten' is not a whole number: use 1 to 1000.", ("epochs='ten'", "整数", "1 到 1000")),
    ("config choice", lambda: TrainConfig(family="bert"), ConfigError, "use one of mlp, lstm, gru, cnn",
     ("family='bert'", "mlp、lstm、gru、cnn")),
    ("layer sizes", lambda: parse_layer_sizes("64, wide"), ConfigError, "Layer sizes '64, wide' must be whole",
     ("'64, wide'", "64, 128")),
    ("unknown preset", lambda: preset("huge"), ConfigError, "Unknown preset 'huge'; choose one of default",
     ("'huge'", "default、article-lstm")),
    ("split fraction", lambda: split_dataset(load_dataset(csv_bytes(labelled_rows(20))), validation_fraction=0.7,
                                              test_fraction=0.1, seed=0), ConfigError,
     "validation_fraction must be between 0 and 0.5, got 0.7", ("validation_fraction", "0.7", "0.5")),
    ("threshold", lambda: check_threshold(1.5, ("negative", "positive")), ConfigError,
     "Decision threshold 1.5 is out of range", ("1.5",)),
    ("public cap", lambda: check_training(TrainConfig(epochs=500), classes=2, public=True), LimitError,
     "Setting epochs=500 is over the limit of 100 on this shared server", ("epochs=500", "100", "Sentiment Studio")),
    ("model name", lambda: sanitize_name("CON"), InvalidModelNameError, "'CON' is reserved by Windows",
     ("'CON'", "Windows", "'CON-model'")),
]


@pytest.mark.parametrize(("case", "action", "error_type", "english", "details"), CASES, ids=[case[0] for case in CASES])
def test_each_error_names_its_details_in_chinese_and_keeps_its_english(
        case: str, action: Callable[[], object], error_type: type[StudioError], english: str,
        details: tuple[str, ...]) -> None:
    error = _raised(action, error_type)
    assert english in str(error)
    assert error.text("en") == str(error)
    assert not CJK.search(str(error))
    _chinese(error, *details)


def test_a_message_is_kept_through_pickling_so_a_copied_error_still_translates() -> None:
    error = _raised(lambda: load_dataset(b"", name="empty.csv"), EmptyFileError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is EmptyFileError and copy.text("zh") == error.text("zh") and str(copy) == str(error)


def test_an_english_only_error_says_so_and_is_shown_as_written() -> None:
    error = DataError("Cannot read 'x.csv' (Permission denied)")
    assert not error.translated and error.text("zh") == str(error)


def test_nested_messages_and_listings_take_the_language_of_the_sentence() -> None:
    columns = Listing((Message("quoted", name="a"), Message("quoted", name="b")))
    message = Message("data_no_such_column", file="f.csv", column="c", columns=columns)
    assert str(message) == "'f.csv' has no column named 'c'; its columns are 'a', 'b': pick one of those."
    assert message.render("zh") == "“f.csv”没有名为“c”的列；它的列是 “a”、“b”：请从中选择一列。"
    assert message == Message("data_no_such_column", file="f.csv", column="c", columns=columns)
