"""A session's training data without a workspace: what a new file replaces, and what fixing suspect rows keeps."""

from __future__ import annotations

import pytest

from core.errors import EmptyFileError, NotTextError
from core.session_data import SessionData
from core.suspects import Suspect
from tests.support import csv_bytes, labelled_rows


def _suspect(position: int, label: str, suggested: str) -> Suspect:
    return Suspect(position, position, f"row {position}", label, suggested, confidence=0.9, label_probability=0.1)


def test_a_new_file_replaces_the_rows_test_file_and_suspects_and_a_bad_one_changes_nothing() -> None:
    data = SessionData()
    data.load_upload(csv_bytes(labelled_rows(20)), name="first.csv")
    data.load_test_upload(csv_bytes(labelled_rows(10, seed=1)))
    data.suspects = []
    first, version = data.dataset, data.version
    with pytest.raises(NotTextError):
        data.load_upload(b"%PDF-1.7 binary", name="report.pdf")
    assert data.dataset is first and data.version == version and data.test_dataset is not None
    data.load_upload(csv_bytes(labelled_rows(30)), name="second.csv")
    assert len(data.dataset) == 30 and data.version == version + 1
    assert data.test_dataset is None and data.suspects is None and data.can_change_columns


def test_fixing_suspects_replaces_the_rows_but_keeps_the_test_file() -> None:
    data = SessionData()
    data.load_upload(csv_bytes(labelled_rows(20)), name="a.csv")
    test = data.load_test_upload(csv_bytes(labelled_rows(10, seed=1)))
    version, label = data.version, data.dataset.labels[0]
    other = next(name for name in data.dataset.classes if name != label)
    data.fix_suspects([_suspect(0, label, other)], relabel=True)
    assert data.dataset.labels[0] == other and len(data.dataset) == 20
    data.fix_suspects([_suspect(0, other, label)], relabel=False)
    assert len(data.dataset) == 19 and data.dataset.file_rows[0] == 1
    assert data.test_dataset is test and data.version == version + 2 and data.suspects is None


def test_suspects_need_data() -> None:
    with pytest.raises(EmptyFileError, match="Load training data first"):
        SessionData().fix_suspects([], relabel=True)
    with pytest.raises(EmptyFileError, match="Load training data first"):
        SessionData().find_suspects()
