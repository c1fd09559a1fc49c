"""The training data one session has loaded: the dataset, a separate test file, and the suspect labels found.

The uploaded file's bytes are kept so it can be read again with other columns. Each new dataset bumps
`version`, so widgets about the old one (column choices) start afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from core.data import Dataset, load_dataset, load_test_dataset
from core.errors import ColumnError, EmptyFileError
from core.i18n import Message
from core.samples import DEFAULT_SAMPLE, load_sample
from core.suspects import DEFAULT_FOLDS, Suspect, corrected, find_suspects


@dataclass(frozen=True)
class _Upload:
    """The bytes and name of the uploaded training file, kept to reload it with other columns."""

    content: bytes
    name: str


class SessionData:
    """A session's training set, its optional test file and its suspect labels; one dataset at a time."""

    def __init__(self) -> None:
        self.dataset: Dataset | None = None
        # Goes up with every dataset loaded, so widgets about the old one (column choices) start afresh.
        self.version = 0
        self.test_dataset: Dataset | None = None
        # Rows of the current dataset whose label looks wrong (core.suspects), once the user asked for them.
        self.suspects: list[Suspect] | None = None
        self._upload: _Upload | None = None

    @property
    def can_change_columns(self) -> bool:
        """Columns can be re-chosen for an uploaded file; the bundled samples have just text and label."""
        return self._upload is not None

    def load_upload(self, file: BinaryIO | bytes, text_column: str | None = None,
                    label_column: str | None = None, name: str | None = None) -> Dataset:
        """Loads an uploaded training file; on any error the dataset loaded before stays.

        Raises:
            DataError: the file cannot be used; the message says why and what to do.
        """
        content = file if isinstance(file, bytes) else _read_bytes(file)
        upload = _Upload(content, name or getattr(file, "name", None) or "uploaded file")
        dataset = load_dataset(upload.content, name=upload.name, text_column=text_column, label_column=label_column)
        self._upload = upload
        self._use(dataset)
        return dataset

    def reload_columns(self, text_column: str, label_column: str) -> Dataset:
        """Reads the uploaded file again with the columns the user chose.

        Raises:
            DataError: no file was uploaded, or the chosen columns cannot be used.
        """
        if self._upload is None:
            raise ColumnError(Message("columns_need_upload"))
        return self.load_upload(self._upload.content, text_column, label_column, name=self._upload.name)

    def load_sample(self, name: str = DEFAULT_SAMPLE) -> Dataset:
        """Loads a bundled sample as the training data.

        Raises:
            DataError: there is no sample by that name.
        """
        dataset = load_sample(name)
        self._upload = None
        self._use(dataset)
        return dataset

    def load_test_upload(self, file: BinaryIO | bytes) -> Dataset:
        """Loads a separate test file for the current training data, used instead of a random test split.

        Raises:
            DataError: no training data yet, or the file is unusable or has labels the data lacks.
        """
        if self.dataset is None:
            raise EmptyFileError(Message("test_file_needs_data"))
        self.test_dataset = load_test_dataset(file, classes=self.dataset.classes, name=getattr(file, "name", None))
        return self.test_dataset

    def find_suspects(self, folds: int = DEFAULT_FOLDS,
                      on_fold: Callable[[int, int], None] | None = None) -> list[Suspect]:
        """Scores every row with models trained without it and keeps the rows whose label looks wrong.

        Raises:
            EmptyFileError: no data is loaded.
            ConfigError, ClassError, TrainingError: as `core.suspects.find_suspects`.
        """
        dataset = self.dataset
        if dataset is None:
            raise EmptyFileError(Message("suspects_need_data"))
        suspects = find_suspects(dataset, folds, on_fold=on_fold)
        if self.dataset is dataset:  # another file loaded meanwhile keeps its own (no) suspects
            self.suspects = suspects
        return suspects

    def fix_suspects(self, chosen: Sequence[Suspect], relabel: bool) -> Dataset:
        """Drops the chosen rows, or gives them their suggested label; the fixed rows become the dataset and
        the test file stays (its labels are still the data's).

        Raises:
            EmptyFileError: no data is loaded.
            ClassError: fixing would leave fewer than two classes.
        """
        if self.dataset is None:
            raise EmptyFileError(Message("suspects_need_data"))
        if relabel:
            fixed = corrected(self.dataset, relabel={suspect.position: suspect.suggested for suspect in chosen})
        else:
            fixed = corrected(self.dataset, drop=[suspect.position for suspect in chosen])
        self._replace(fixed)
        return fixed

    def clear_test_dataset(self) -> None:
        """Goes back to testing on a split of the training data."""
        self.test_dataset = None

    def clear(self) -> None:
        """Lets go of every row (the session ended)."""
        self.dataset = self.test_dataset = self._upload = self.suspects = None

    def _use(self, dataset: Dataset) -> None:
        """A new training set makes the old test file meaningless (its labels may differ)."""
        self._replace(dataset)
        self.test_dataset = None

    def _replace(self, dataset: Dataset) -> None:
        """Suspects found in the old rows point at rows that may be gone."""
        self.dataset = dataset
        self.version += 1
        self.suspects = None


def _read_bytes(file: BinaryIO) -> bytes:
    """All bytes of an upload; `getvalue` first, since an UploadedFile read once before is at its end."""
    data = file.getvalue() if hasattr(file, "getvalue") else file.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)
