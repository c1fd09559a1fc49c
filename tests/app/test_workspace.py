"""The per-session workspace without a browser: loading, parsing settings, reading texts, session lifetime."""

from __future__ import annotations

import threading

import pytest

from core.errors import ColumnError, ConfigError, EmptyFileError, NotTextError, RegistryError, TrainingError
from core.workspace import Workspace, filter_examples, parse_layer_sizes, read_texts
from tests.app.conftest import csv_bytes, labelled_rows


class _StubJob:
    """Stands in for a TrainingJob where only stopping matters."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()


@pytest.mark.parametrize(("text", "sizes"), [("64", [64]), ("64, 128", [64, 128]), (" 32 ;16 ", [32, 16])])
def test_layer_sizes_are_parsed(text: str, sizes: list[int]) -> None:
    assert parse_layer_sizes(text) == sizes


@pytest.mark.parametrize(("text", "message"), [("64, x", "whole numbers"), ("  ", "at least one layer size")])
def test_bad_layer_sizes_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_layer_sizes(text)


def test_failed_upload_keeps_the_loaded_dataset() -> None:
    workspace = Workspace()
    workspace.load_upload(csv_bytes(labelled_rows(20)), name="good.csv")
    with pytest.raises(NotTextError):
        workspace.load_upload(b"%PDF-1.7 binary", name="report.pdf")
    assert workspace.dataset.report.source == "good.csv"


def test_reload_columns_needs_an_upload() -> None:
    workspace = Workspace()
    workspace.load_sample("reviews-en")
    assert not workspace.can_change_columns
    with pytest.raises(ColumnError, match="upload a CSV file first"):
        workspace.reload_columns("text", "label")


def test_training_needs_data_and_predicting_needs_a_model() -> None:
    from core.config import TrainConfig

    workspace = Workspace()
    with pytest.raises(TrainingError, match="Load training data"):
        workspace.start_training(TrainConfig())
    with pytest.raises(RegistryError, match="No model is active"):
        workspace.predict(["hello"])


@pytest.mark.parametrize(
    ("content", "texts"),
    [
        (b"text\nhello, world\n\"quoted, with\nline break\"\n", ["hello, world", "quoted, with\nline break"]),
        (b"id,review\n1,good one\n2,\"bad, really\"\n", ["good one", "bad, really"]),
        ("评论\n这个手机很好用，电池也耐用\n质量很差，不会再买了\n".encode("gb18030"),
         ["这个手机很好用，电池也耐用", "质量很差，不会再买了"]),
        (b"text\n\n  \nonly this\n", ["only this"]),
    ],
)
def test_texts_are_read_from_one_column_or_a_table(content: bytes, texts: list[str]) -> None:
    assert read_texts(content, name="texts.csv") == texts


def test_reading_texts_reports_bad_files() -> None:
    with pytest.raises(EmptyFileError, match="'texts.csv' is empty"):
        read_texts(b"", name="texts.csv")
    with pytest.raises(ColumnError, match="no column named 'body'"):
        read_texts(b"id,review\n1,good\n", name="texts.csv", text_column="body")


def test_release_closes_after_the_grace_period_unless_held() -> None:
    workspace = Workspace()
    workspace.job = _StubJob()
    workspace.release(grace_seconds=0.05)
    workspace.hold()  # the browser reconnected in time
    assert not workspace.job.stopped.wait(0.3)
    workspace.release(grace_seconds=0.05)
    assert workspace.job.stopped.wait(2)


def test_filter_examples_by_text_and_label() -> None:
    rows = [{"text": "Great phone", "true": "positive"}, {"text": "great? no", "true": "negative"}]
    assert filter_examples(rows, contains="GREAT") == rows
    assert filter_examples(rows, contains="great", true_label="negative") == rows[1:]
    assert filter_examples(rows, contains="tablet") == []
