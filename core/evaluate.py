"""Scores a trained model on held-out data: the numbers, curves and mistakes the Evaluate page shows.

Pure numpy on purpose: scikit-learn is a development dependency only (tests cross-check against it), and
this module never imports TensorFlow, so evaluating saved predictions stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.errors import ConfigError, DataError
from core.i18n import Listing, Message

MAX_ROC_POINTS = 200
# The decision thresholds a two-class evaluation is scored at, for the Evaluate page's slider: 0.01 to 0.99.
THRESHOLDS = tuple(round(step / 100, 2) for step in range(1, 100))
# A model has memorised its training rows when it gets nearly all of them right (at least this share) but at
# least MEMORISED_GAP fewer of the held-out rows: it learnt the rows rather than what makes a text positive.
MEMORISED_TRAIN_ACCURACY = 0.97
MEMORISED_GAP = 0.10
# Above this many classes the Evaluate page lists the commonest confusions instead of the whole matrix: a cell
# row per class made 50 classes a chart about 3,500 px tall, too big to read or to find the mistakes in.
MAX_MATRIX_CLASSES = 12
# Confusions listed in that case: every pair of classes mistaken for each other a meaningful number of times.
TOP_CONFUSIONS = 20


@dataclass(frozen=True)
class ClassMetrics:
    """How well one class is recognised; precision and recall are 0 when undefined (nothing predicted/true)."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int  # number of true examples of this class


@dataclass(frozen=True)
class Evaluation:
    """Everything measured on one evaluation set, in plain Python types so it can go into metadata.json."""

    accuracy: float
    macro_f1: float  # unweighted mean of per-class F1, so a rare class counts as much as a common one
    classes: tuple[str, ...]
    per_class: list[ClassMetrics]
    confusion: list[list[int]]  # rows = true class, columns = predicted class, both in `classes` order
    roc_auc: float | None  # binary only: positive class is classes[1]; None when a class is absent
    roc_curve: list[tuple[float, float]] | None  # (false positive rate, true positive rate), binary only
    misclassified: list[dict]  # {"text", "true", "predicted", "confidence", "p_<label>"...}, worst first
    # Binary only: (threshold, precision, recall, F1) of the positive class classes[1] when it is predicted at
    # P(classes[1]) >= threshold, for each of THRESHOLDS; None for more classes and for older saved models.
    threshold_curve: list[tuple[float, float, float, float]] | None = None

    def to_dict(self) -> dict:
        """Returns a JSON-able dict (tuples become lists) for saving beside the model."""
        result = asdict(self)
        result["classes"] = list(self.classes)
        for curve in ("roc_curve", "threshold_curve"):
            if getattr(self, curve) is not None:
                result[curve] = [list(point) for point in getattr(self, curve)]
        return result

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Evaluation:
        """Rebuilds an evaluation from `to_dict()` output, e.g. the metrics saved in a model's metadata.json.

        Raises:
            DataError: a required field is missing or has the wrong shape (a damaged or foreign metadata file).
        """
        try:
            curve, thresholds = values.get("roc_curve"), values.get("threshold_curve")
            return cls(
                accuracy=float(values["accuracy"]),
                macro_f1=float(values["macro_f1"]),
                classes=tuple(values["classes"]),
                per_class=[ClassMetrics(**metrics) for metrics in values["per_class"]],
                confusion=[list(row) for row in values["confusion"]],
                roc_auc=None if values.get("roc_auc") is None else float(values["roc_auc"]),
                roc_curve=[tuple(point) for point in curve] if curve else None,
                misclassified=list(values.get("misclassified", [])),
                threshold_curve=[tuple(map(float, point)) for point in thresholds] if thresholds else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"The saved evaluation cannot be read ({type(error).__name__}: {error}).") from error


def accuracy(true_indices: np.ndarray, predicted_indices: np.ndarray) -> float:
    """Fraction of examples whose predicted class equals the true class."""
    return float(np.mean(true_indices == predicted_indices))


def confusion_matrix(true_indices: np.ndarray, predicted_indices: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (true, predicted) pairs; rows are true classes, columns predicted classes."""
    flat = true_indices * n_classes + predicted_indices
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


@dataclass(frozen=True)
class Confusion:
    """One kind of mistake: rows of class `true` predicted as `predicted`."""

    true: str
    predicted: str
    count: int
    share: float  # of the rows whose true class is `true`


def top_confusions(confusion: Sequence[Sequence[int]], classes: Sequence[str],
                   limit: int = TOP_CONFUSIONS) -> list[Confusion]:
    """The `limit` commonest mistakes of a confusion matrix (rows true, columns predicted), most rows first.

    Ties go to the larger share of the true class (the same count hurts a small class more), then to class
    order, so the list is the same on every run. Cells of no rows are not mistakes and are left out.
    """
    matrix = np.asarray(confusion, dtype=np.int64).reshape(len(classes), len(classes))
    support = np.maximum(matrix.sum(axis=1), 1)
    true, predicted = np.nonzero(matrix * (1 - np.eye(len(classes), dtype=np.int64)))
    counts = matrix[true, predicted]
    shares = counts / support[true]
    order = np.lexsort((predicted, true, -shares, -counts))[:limit]
    return [Confusion(str(classes[true[i]]), str(classes[predicted[i]]), int(counts[i]), float(shares[i]))
            for i in order]


def per_class_metrics(confusion: np.ndarray, classes: Sequence[str]) -> list[ClassMetrics]:
    """Precision, recall and F1 per class from a confusion matrix, 0 where a ratio has no denominator.

    Computed with guarded divisions rather than numpy's nan-producing ones, so no RuntimeWarning is emitted
    for a class that is never predicted or never present.
    """
    true_positives = np.diag(confusion).astype(float)
    predicted_counts = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    precision = _safe_divide(true_positives, predicted_counts)
    recall = _safe_divide(true_positives, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return [
        ClassMetrics(str(label), float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(classes, precision, recall, f1, support)
    ]


def roc_auc(is_positive: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve via the Mann-Whitney rank formula; tied scores count half.

    Returns:
        The probability that a random positive scores above a random negative, or None when the data has
        only positives or only negatives (the area is undefined then).
    """
    n_positive = int(np.count_nonzero(is_positive))
    n_negative = len(is_positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        return None
    positive_rank_sum = _average_ranks(scores)[is_positive].sum()
    return float((positive_rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def roc_curve(
    is_positive: np.ndarray, scores: np.ndarray, max_points: int = MAX_ROC_POINTS
) -> list[tuple[float, float]] | None:
    """(fpr, tpr) points from (0, 0) to (1, 1), one per distinct threshold, thinned to `max_points` for charts.

    Returns:
        The points, or None when positives or negatives are missing (a rate would divide by zero).
    """
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_positive = scores[order], is_positive[order]
    # A threshold sits after the last example of each group of equal scores.
    threshold_ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    true_positives = np.r_[0, np.cumsum(sorted_positive)[threshold_ends]]
    false_positives = np.r_[0, np.cumsum(~sorted_positive)[threshold_ends]]
    n_positive, n_negative = true_positives[-1], false_positives[-1]
    if n_positive == 0 or n_negative == 0:
        return None
    keep = np.unique(np.linspace(0, len(true_positives) - 1, min(max_points, len(true_positives))).round())
    keep = keep.astype(int)
    return [
        (float(fp / n_negative), float(tp / n_positive))
        for fp, tp in zip(false_positives[keep], true_positives[keep])
    ]


def threshold_curve(is_positive: np.ndarray, scores: np.ndarray) -> list[tuple[float, float, float, float]]:
    """(threshold, precision, recall, F1) of the positive class at each of THRESHOLDS, predicting positive when
    the score reaches the threshold; a ratio without a denominator is 0, as in `per_class_metrics`."""
    thresholds = np.array(THRESHOLDS)
    predicted = scores[None, :] >= thresholds[:, None]
    true_positives = (predicted & is_positive[None, :]).sum(axis=1).astype(float)
    precision = _safe_divide(true_positives, predicted.sum(axis=1))
    recall = _safe_divide(true_positives, np.full_like(true_positives, np.count_nonzero(is_positive)))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return [tuple(map(float, point)) for point in zip(thresholds, precision, recall, f1)]


def decide(probabilities: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """The predicted class of each row: the likeliest, or with two classes and a threshold, classes[1] exactly
    when its probability reaches the threshold (a stricter or looser bar for the positive class)."""
    probabilities = np.asarray(probabilities)
    if threshold is None or probabilities.shape[1] != 2:
        return probabilities.argmax(axis=1)
    return (probabilities[:, 1] >= threshold).astype(int)


def check_threshold(threshold: float, classes: Sequence[str]) -> None:
    """Refuses a threshold a model cannot use.

    Raises:
        ConfigError: the model has more than two classes, or the threshold is not strictly between 0 and 1.
    """
    if len(classes) != 2:
        raise ConfigError(Message("threshold_two_classes", count=len(classes), classes=Listing(tuple(classes))))
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ConfigError(Message("threshold_out_of_range", value=repr(threshold)))


def memorised_accuracy(history: Sequence[dict], held_out_accuracy: float) -> float | None:
    """The training accuracy of the last epoch in `history` (the per-epoch rows saved with a model) when it shows
    that the model memorised its training data (see MEMORISED_TRAIN_ACCURACY); None when it did not, or when the
    history records no training accuracy."""
    train_accuracy = next((row["accuracy"] for row in reversed(history) if row.get("accuracy") is not None), None)
    if train_accuracy is None:
        return None
    train_accuracy = float(train_accuracy)
    memorised = train_accuracy >= MEMORISED_TRAIN_ACCURACY and train_accuracy - held_out_accuracy >= MEMORISED_GAP
    return train_accuracy if memorised else None


def probability_column(label: str) -> str:
    """The name of the column holding the probability of class `label` ("p_positive"), in misclassified rows
    (saved in metadata.json, so the spelling must not change) and in every table of probabilities."""
    return f"p_{label}"


def misclassified_examples(
    texts: Sequence[str],
    true_indices: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
    threshold: float | None = None,
) -> list[dict]:
    """Wrong predictions, most confident first, because confident mistakes are the most telling to read."""
    predicted_indices = decide(probabilities, threshold)
    confidence = probabilities[np.arange(len(predicted_indices)), predicted_indices]
    wrong = np.flatnonzero(predicted_indices != true_indices)
    wrong = wrong[np.argsort(-confidence[wrong], kind="mergesort")]
    return [
        {
            "text": texts[i],
            "true": classes[true_indices[i]],
            "predicted": classes[predicted_indices[i]],
            "confidence": float(confidence[i]),
            **{probability_column(label): float(p) for label, p in zip(classes, probabilities[i])},
        }
        for i in wrong
    ]


def evaluate_probabilities(
    texts: Sequence[str],
    true_labels: Sequence[str],
    probabilities: np.ndarray,
    classes: Sequence[str],
    threshold: float | None = None,
) -> Evaluation:
    """Scores class probabilities against the true labels; the predicted class is the most probable one, or for
    two classes the one `decide` picks with the model's decision `threshold`.

    Args:
        texts: The evaluated texts, shown for misclassified examples.
        true_labels: The true label of each text; every one must be among `classes`.
        probabilities: Array of shape (len(texts), len(classes)), columns in `classes` order.
        classes: The model's classes.
        threshold: The model's decision threshold for classes[1] (two classes only); None predicts the likeliest.

    Raises:
        DataError: The set is empty, sizes disagree, or a label is unknown to the model.
    """
    classes = tuple(str(label) for label in classes)
    probabilities = np.asarray(probabilities, dtype=float)
    true_indices = _label_indices(true_labels, classes)
    _check_shapes(texts, true_indices, probabilities, classes)
    predicted_indices = decide(probabilities, threshold)
    confusion = confusion_matrix(true_indices, predicted_indices, len(classes))
    per_class = per_class_metrics(confusion, classes)
    auc, curve, thresholds = _binary_curves(true_indices, probabilities) if len(classes) == 2 else (None,) * 3
    return Evaluation(
        accuracy=accuracy(true_indices, predicted_indices),
        macro_f1=float(np.mean([metrics.f1 for metrics in per_class])),
        classes=classes,
        per_class=per_class,
        confusion=confusion.tolist(),
        roc_auc=auc,
        roc_curve=curve,
        misclassified=misclassified_examples(list(texts), true_indices, probabilities, classes, threshold),
        threshold_curve=thresholds,
    )


def evaluate(predictor: Any, dataset: Any) -> Evaluation:
    """Runs a predictor (anything with `classes` and `predict_proba`) over a Dataset and scores it.

    Raises:
        DataError: The dataset is empty or has labels the model was not trained on.
    """
    _require_rows(len(dataset.texts))
    _label_indices(dataset.labels, tuple(predictor.classes))  # fail before spending time on predictions
    probabilities = predictor.predict_proba(list(dataset.texts))
    return evaluate_probabilities(dataset.texts, dataset.labels, probabilities, predictor.classes,
                                  getattr(predictor, "threshold", None))


def _label_indices(labels: Sequence[str], classes: tuple[str, ...]) -> np.ndarray:
    """Maps labels to class positions, naming every label the model does not know."""
    position = {label: index for index, label in enumerate(classes)}
    unknown = sorted({str(label) for label in labels} - position.keys())
    if unknown:
        raise DataError(Message("evaluation_unknown_labels", unknown=Listing(tuple(map(repr, unknown))),
                                known=Listing(tuple(map(repr, classes)))))
    return np.array([position[str(label)] for label in labels], dtype=int)


def _check_shapes(
    texts: Sequence[str], true_indices: np.ndarray, probabilities: np.ndarray, classes: tuple[str, ...]
) -> None:
    """Refuses empty sets and probability arrays that do not line up with the texts and classes."""
    _require_rows(len(true_indices))
    expected = (len(true_indices), len(classes))
    if len(texts) != len(true_indices) or probabilities.shape != expected:
        raise DataError(
            f"Got {len(texts)} texts, {len(true_indices)} labels and probabilities of shape "
            f"{probabilities.shape}, expected shape {expected}; the predictions do not match this data."
        )


def _require_rows(count: int) -> None:
    """Refuses an empty evaluation set, where every metric would be undefined."""
    if count == 0:
        raise DataError(Message("evaluation_empty"))


def _binary_curves(
    true_indices: np.ndarray, probabilities: np.ndarray
) -> tuple[float | None, list[tuple[float, float]] | None, list[tuple[float, float, float, float]]]:
    """ROC area, ROC curve and threshold curve for two classes, scoring by the probability of classes[1]."""
    is_positive, scores = true_indices == 1, probabilities[:, 1]
    return roc_auc(is_positive, scores), roc_curve(is_positive, scores), threshold_curve(is_positive, scores)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division that yields 0 where the denominator is 0, without warnings."""
    result = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return result


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, tied values sharing the mean of their ranks (as in the Mann-Whitney U test)."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts_group = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group_of_sorted = np.cumsum(starts_group) - 1
    group_starts = np.flatnonzero(starts_group)
    group_ends = np.r_[group_starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = ((group_starts + 1 + group_ends) / 2)[group_of_sorted]
    return ranks
