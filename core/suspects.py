"""Rows whose given label looks wrong: a model that never saw the row confidently says another class.

Every row is scored by a model trained without it (k-fold out-of-fold probabilities, with the fast `default`
preset), then judged as in confident learning (Northcutt, Jiang and Chuang, "Confident Learning", JAIR 2021):
each class gets a threshold, the average probability the models give it on rows labelled with it, and a row is
suspect when the likeliest class whose probability reaches its own threshold is not the row's label. Per-class
thresholds keep a class the models are shy of (a minority) from never being suggested.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import TrainConfig, preset
from core.data import Dataset, split_dataset
from core.errors import ClassError, ConfigError, TrainingError
from core.i18n import Listing, Message

DEFAULT_FOLDS = 5
MIN_FOLDS, MAX_FOLDS = 2, 10


@dataclass(frozen=True)
class Suspect:
    """One row whose label the out-of-fold models doubt, and the class they suggest instead."""

    position: int  # index of the row in the dataset scored
    row: int  # its 0-based data row in the file, header excluded
    text: str
    label: str
    suggested: str
    confidence: float  # the out-of-fold probability of `suggested`
    label_probability: float  # the out-of-fold probability of `label`: the lower, the likelier a mistake

    def to_dict(self) -> dict[str, Any]:
        """The fields the CLI's JSON and the download promise: row, text, label, suggested, confidence."""
        return {"row": self.row, "text": self.text, "label": self.label, "suggested": self.suggested,
                "confidence": round(self.confidence, 4)}


def find_suspects(dataset: Dataset, folds: int = DEFAULT_FOLDS, config: TrainConfig | None = None,
                  on_fold: Callable[[int, int], None] | None = None) -> list[Suspect]:
    """The rows of `dataset` whose label is likely wrong, likeliest first.

    Args:
        dataset: labelled rows; at least `folds` rows in every class.
        folds: how many models are trained, each without one fold; more folds train on more data but cost more.
        config: the settings each fold's model is trained with; the `default` preset when None.
        on_fold: called with (fold done, folds) after each fold, to show progress.

    Raises:
        ConfigError: `folds` is outside MIN_FOLDS to MAX_FOLDS.
        ClassError: a class has fewer rows than folds.
        TrainingError: a fold's training failed.
    """
    probabilities = out_of_fold_probabilities(dataset, folds, config, on_fold)
    return rank_suspects(dataset, probabilities)


def out_of_fold_probabilities(dataset: Dataset, folds: int = DEFAULT_FOLDS, config: TrainConfig | None = None,
                              on_fold: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Class probabilities for every row from the model of the one fold that left it out, in `classes` order.

    Raises:
        ConfigError, ClassError, TrainingError: as `find_suspects`.
    """
    config = config or preset("default")
    assignment = fold_assignment(dataset, folds, config.seed)
    probabilities = np.zeros((len(dataset), len(dataset.classes)), dtype=np.float32)
    for fold in range(folds):
        held = np.flatnonzero(assignment == fold)
        probabilities[held] = _fold_model(dataset.subset(np.flatnonzero(assignment != fold)), config) \
            .predict_proba(dataset.subset(held).texts)
        if on_fold is not None:
            on_fold(fold + 1, folds)
    return probabilities


def fold_assignment(dataset: Dataset, folds: int, seed: int) -> np.ndarray:
    """Each row's fold, dealt class by class in a seeded random order, so every fold keeps the class balance.

    Raises:
        ConfigError: `folds` is outside MIN_FOLDS to MAX_FOLDS.
        ClassError: a class has fewer rows than folds, so some fold's model would never see it.
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or not MIN_FOLDS <= folds <= MAX_FOLDS:
        raise ConfigError(Message("suspects_folds_out_of_range", value=repr(folds), least=MIN_FOLDS, most=MAX_FOLDS))
    small = {label: count for label, count in dataset.class_counts().items() if count < folds}
    if small:
        listed = Listing(tuple(Message("suspects_class_rows", label=label, count=count) for label, count in small.items()))
        raise ClassError(Message("suspects_class_too_small", folds=folds, listed=listed))
    rng = np.random.default_rng(seed)
    labels = np.array(dataset.labels, dtype=object)
    assignment = np.empty(len(dataset), dtype=np.int64)
    for label in dataset.classes:
        rows = rng.permutation(np.flatnonzero(labels == label))
        assignment[rows] = np.arange(len(rows)) % folds
    return assignment


def _fold_model(train: Dataset, config: TrainConfig) -> Any:
    """A predictor trained on `train`, with part of it held out for early stopping as a Train page run does.

    Raises:
        TrainingError: training failed.
    """
    from core.predict import Predictor
    from core.training import JobStatus, TrainingJob

    split = split_dataset(train, validation_fraction=config.validation_split, test_fraction=0.0, seed=config.seed)
    job = TrainingJob(config, split.train, split.validation).start()
    if job.wait() == JobStatus.FAILED:
        raise TrainingError(job.snapshot().error or "Training a fold's model failed.")
    return Predictor.of_config(job.model, job.classes, config)


def rank_suspects(dataset: Dataset, probabilities: np.ndarray) -> list[Suspect]:
    """The confident-learning suspects among `dataset`'s rows, given out-of-fold `probabilities`, lowest
    probability of the given label first.

    A row counts for the likeliest class whose probability reaches that class's threshold (the mean
    probability of the class over rows labelled with it); it is suspect when that class is not its label.
    """
    classes = dataset.classes
    given = np.array([classes.index(label) for label in dataset.labels])
    thresholds = np.array([probabilities[given == index, index].mean() for index in range(len(classes))])
    confident = np.where(probabilities >= thresholds, probabilities, -1.0)
    chosen = confident.argmax(axis=1)
    flagged = np.flatnonzero((confident.max(axis=1) >= 0) & (chosen != given))
    suspects = [
        Suspect(position=int(position), row=dataset.file_row(int(position)), text=dataset.texts[position],
                label=dataset.labels[position], suggested=classes[chosen[position]],
                confidence=float(probabilities[position, chosen[position]]),
                label_probability=float(probabilities[position, given[position]]))
        for position in flagged
    ]
    return sorted(suspects, key=lambda suspect: (suspect.label_probability, suspect.position))


def corrected(dataset: Dataset, drop: Collection[int] = (), relabel: dict[int, str] | None = None) -> Dataset:
    """`dataset` without the rows at positions `drop` and with the rows in `relabel` given their new label.

    Raises:
        ClassError: a new label is not one of the dataset's classes, or fewer than two classes would remain.
    """
    relabel, drop = relabel or {}, set(drop)
    unknown = sorted(set(relabel.values()) - set(dataset.classes))
    if unknown:
        raise ClassError(Message("suspects_unknown_relabel", unknown=Listing(tuple(map(repr, unknown))),
                                 classes=Listing(tuple(map(repr, dataset.classes)))))
    kept = [position for position in range(len(dataset)) if position not in drop]
    labels = tuple(relabel.get(position, dataset.labels[position]) for position in kept)
    fixed = Dataset(tuple(dataset.texts[position] for position in kept), labels, dataset.report,
                    tuple(dataset.file_row(position) for position in kept))
    if len(fixed.classes) < 2:
        raise ClassError(Message("suspects_too_few_classes"))
    return fixed
