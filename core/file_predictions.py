"""Predicting a whole uploaded file: every row kept as read, with its class probabilities beside it.

The Predict page shows and offers for download what `predict_file` returns (shaped by pages/_tables.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, NamedTuple

import numpy as np

from core.data import TextTable, load_text_table
from core.evaluate import decide

if TYPE_CHECKING:
    from core.predict import Predictor


class FilePredictions(NamedTuple):
    """A predicted file: every row as read, and its class probabilities, one column per class in `classes`
    order; a row with a blank text is not predicted and its probabilities are NaN."""

    table: TextTable
    probabilities: np.ndarray
    classes: tuple[str, ...]
    threshold: float | None = None  # the model's decision threshold (core.evaluate.decide)

    @property
    def predicted(self) -> np.ndarray:
        """True for the rows that have a prediction (a non-blank text)."""
        return ~np.isnan(self.probabilities).any(axis=1)

    @property
    def label_indices(self) -> np.ndarray:
        """Each row's predicted class, decided as the model decides (meaningless where `predicted` is False)."""
        return decide(np.nan_to_num(self.probabilities), self.threshold)


def predict_file(predictor: Predictor, file: BinaryIO | bytes, text_column: str | None = None) -> FilePredictions:
    """Predicts every non-blank text of an uploaded file, keeping every row and column.

    Raises:
        DataError: the file cannot be read or has no text column.
    """
    table = load_text_table(file, text_column=text_column, name=getattr(file, "name", None))
    filled = np.array([bool(text.strip()) for text in table.texts])
    probabilities = np.full((len(filled), len(predictor.classes)), np.nan, dtype=np.float32)
    probabilities[filled] = predictor.predict_proba([text for text in table.texts if text.strip()])
    return FilePredictions(table, probabilities, predictor.classes, predictor.threshold)
