"""Scoring the active model on an uploaded labelled file, and other saved models beside it on the same rows.

The Evaluate page's "Evaluate on another file" and "Compare models" both come from here, through the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from core.data import load_test_dataset
from core.errors import DataError
from core.evaluate import Evaluation, evaluate
from core.experiment import EvaluationResult
from core.i18n import Message

if TYPE_CHECKING:
    from core.active import ActiveModel
    from core.predict import Predictor
    from core.shelf import ModelShelf


def evaluate_file(predictor: Predictor, file: BinaryIO | bytes, known_labels_only: bool = False) -> EvaluationResult:
    """The predictor's evaluation on an uploaded labelled file, which it keeps so other models can be scored
    on the same rows.

    Args:
        known_labels_only: score only the rows whose label the model knows; the result's dataset report
            counts the others in `dropped_unknown`.

    Raises:
        UnknownLabelError: the file has labels the model does not know (and `known_labels_only` is off).
        DataError: the file is unusable, or no row has a label the model knows.
    """
    dataset = load_test_dataset(file, classes=predictor.classes, name=getattr(file, "name", None),
                                drop_unknown=known_labels_only)
    return EvaluationResult(evaluate(predictor, dataset), dataset.report.source, len(dataset), dataset)


def comparable(shelf: ModelShelf, active: ActiveModel | None) -> list[str]:
    """Saved models that can be scored beside the active one: usable, and with the same classes."""
    return [] if active is None else shelf.comparable(active.predictor.classes, besides=active.name)


def compare(shelf: ModelShelf, active: ActiveModel | None, result: EvaluationResult | None,
            names: Sequence[str]) -> list[tuple[str, Evaluation]]:
    """The active model and the models `names`, scored on the uploaded file of `result`, in that order.

    Raises:
        DataError: no labelled file was uploaded for the active model yet.
        ModelNotFoundError, RegistryError: as `ModelShelf.score`.
    """
    if active is None or result is None or result.dataset is None:
        raise DataError(Message("compare_needs_file", section=Message("evaluate_file")))
    evaluation = result.evaluation
    return [(active.name, evaluation), *shelf.score(names, result.dataset, evaluation.classes)]
