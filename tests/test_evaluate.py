"""Cross-checks core.evaluate against scikit-learn on random data, and its refusals of unusable input."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn import metrics as sk

from core.errors import DataError
from core.evaluate import (
    TOP_CONFUSIONS,
    Confusion,
    Evaluation,
    evaluate,
    evaluate_probabilities,
    memorised_accuracy,
    roc_auc,
    roc_curve,
    top_confusions,
)
from tests.support import REPO

SEEDS = range(6)


def _random_case(seed: int, n_classes: int, n: int = 60, *, tied: bool = False) -> tuple:
    """Random labels and probabilities; `tied` rounds scores to one decimal so many of them are equal."""
    rng = np.random.default_rng(seed)
    classes = tuple(f"c{i}" for i in range(n_classes))
    true_indices = rng.integers(0, n_classes, n)
    probabilities = rng.dirichlet(np.ones(n_classes), n)
    if tied:
        probabilities = probabilities.round(1)
    labels = [classes[i] for i in true_indices]
    texts = [f"text {i}" for i in range(n)]
    return texts, labels, probabilities, classes


def _check_against_sklearn(texts, labels, probabilities, classes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # undefined precision/recall must be 0 silently
        result = evaluate_probabilities(texts, labels, probabilities, classes)
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        labels, predicted, labels=list(classes), zero_division=0
    )
    assert result.accuracy == pytest.approx(sk.accuracy_score(labels, predicted))
    assert result.confusion == sk.confusion_matrix(labels, predicted, labels=list(classes)).tolist()
    assert [m.precision for m in result.per_class] == pytest.approx(precision)
    assert [m.recall for m in result.per_class] == pytest.approx(recall)
    assert [m.f1 for m in result.per_class] == pytest.approx(f1)
    assert [m.support for m in result.per_class] == support.tolist()
    assert result.macro_f1 == pytest.approx(sk.f1_score(labels, predicted, labels=list(classes), average="macro",
                                                        zero_division=0))
    if len(classes) == 2:
        is_positive = np.array(labels) == classes[1]
        assert result.roc_auc == pytest.approx(sk.roc_auc_score(is_positive, probabilities[:, 1]))
    else:
        assert result.roc_auc is None and result.roc_curve is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("tied", [False, True])
def test_metrics_match_sklearn(seed: int, n_classes: int, tied: bool) -> None:
    _check_against_sklearn(*_random_case(seed, n_classes, tied=tied))


@pytest.mark.parametrize("seed", SEEDS)
def test_class_never_predicted_scores_zero_without_warning(seed: int) -> None:
    texts, labels, probabilities, classes = _random_case(seed, 3)
    probabilities[:, 2] = 0.0  # the model never picks c2, so its precision is undefined
    _check_against_sklearn(texts, labels, probabilities, classes)
    result = evaluate_probabilities(texts, labels, probabilities, classes)
    assert result.per_class[2].precision == 0.0 and result.per_class[2].f1 == 0.0


def test_class_absent_from_data_scores_zero() -> None:
    probabilities = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])
    _check_against_sklearn(["a", "b"], ["c0", "c1"], probabilities, ("c0", "c1", "c2"))


def test_roc_auc_handles_ties_and_extremes() -> None:
    assert roc_auc(np.array([False, True]), np.array([0.5, 0.5])) == 0.5
    assert roc_auc(np.array([False, False, True, True]), np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(np.array([True, True, False, False]), np.array([0.1, 0.2, 0.3, 0.4])) == 0.0
    assert roc_auc(np.array([True, True]), np.array([0.1, 0.2])) is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tied", [False, True])
def test_roc_curve_matches_sklearn_and_is_thinned(seed: int, tied: bool) -> None:
    texts, labels, probabilities, classes = _random_case(seed, 2, n=20, tied=tied)
    is_positive = np.array(labels) == "c1"
    fpr, tpr, _ = sk.roc_curve(is_positive, probabilities[:, 1], drop_intermediate=False)
    np.testing.assert_allclose(roc_curve(is_positive, probabilities[:, 1]), np.column_stack([fpr, tpr]))

    large = _random_case(seed, 2, n=5000)
    points = evaluate_probabilities(*large).roc_curve
    assert len(points) <= 200
    assert points[0] == (0.0, 0.0) and points[-1] == (1.0, 1.0)
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(points, points[1:]))


def test_roc_undefined_when_one_class_missing() -> None:
    result = evaluate_probabilities(["a", "b"], ["c1", "c1"], np.array([[0.3, 0.7], [0.6, 0.4]]), ("c0", "c1"))
    assert result.roc_auc is None and result.roc_curve is None


def test_misclassified_most_confident_first_with_probabilities() -> None:
    probabilities = np.array([[0.6, 0.4], [0.1, 0.9], [0.95, 0.05], [0.3, 0.7]])
    result = evaluate_probabilities(["a", "b", "c", "d"], ["neg", "neg", "pos", "pos"], probabilities,
                                    ("neg", "pos"))
    assert [row["text"] for row in result.misclassified] == ["c", "b"]
    assert result.misclassified[0] == {
        "text": "c", "true": "pos", "predicted": "neg", "confidence": 0.95, "p_neg": 0.95, "p_pos": 0.05,
    }


def test_to_dict_is_json_able() -> None:
    result = evaluate_probabilities(*_random_case(0, 2))
    restored = json.loads(json.dumps(result.to_dict()))
    assert restored["classes"] == ["c0", "c1"]
    assert restored["per_class"][0]["label"] == "c0"
    assert restored["roc_curve"][0] == [0.0, 0.0]


def test_evaluate_uses_predictor() -> None:
    texts, labels, probabilities, classes = _random_case(1, 2, n=10)
    calls = []

    def predict_proba(batch):
        calls.append(batch)
        return probabilities.astype(np.float32)

    predictor = SimpleNamespace(classes=classes, predict_proba=predict_proba)
    dataset = SimpleNamespace(texts=tuple(texts), labels=tuple(labels))
    result = evaluate(predictor, dataset)
    assert calls == [texts]
    assert result.accuracy == pytest.approx(evaluate_probabilities(texts, labels, probabilities, classes).accuracy)


def test_evaluate_refuses_empty_dataset() -> None:
    predictor = SimpleNamespace(classes=("neg", "pos"), predict_proba=lambda batch: pytest.fail("not called"))
    with pytest.raises(DataError, match="empty"):
        evaluate(predictor, SimpleNamespace(texts=(), labels=()))


def test_evaluate_names_unknown_labels() -> None:
    predictor = SimpleNamespace(classes=("neg", "pos"), predict_proba=lambda batch: pytest.fail("not called"))
    dataset = SimpleNamespace(texts=("a", "b", "c"), labels=("neg", "neutral", "mixed"))
    with pytest.raises(DataError, match="'mixed', 'neutral'"):
        evaluate(predictor, dataset)


def test_mismatched_probabilities_refused() -> None:
    with pytest.raises(DataError, match="shape"):
        evaluate_probabilities(["a", "b"], ["neg", "pos"], np.array([[0.5, 0.5]]), ("neg", "pos"))


def test_does_not_import_tensorflow() -> None:
    code = "import sys, core.evaluate; sys.exit('tensorflow' in sys.modules or 'sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_from_dict_rebuilds_what_to_dict_saved(n_classes: int) -> None:
    texts, labels, probabilities, classes = _random_case(0, n_classes)
    evaluation = evaluate_probabilities(texts, labels, probabilities, classes)
    saved = json.loads(json.dumps(evaluation.to_dict()))  # as it comes back from metadata.json
    assert Evaluation.from_dict(saved) == evaluation


@pytest.mark.parametrize("damage", [lambda d: d.pop("accuracy"), lambda d: d.update(per_class=[{"label": "x"}])])
def test_from_dict_refuses_damaged_metrics(damage) -> None:
    texts, labels, probabilities, classes = _random_case(1, 2)
    saved = evaluate_probabilities(texts, labels, probabilities, classes).to_dict()
    damage(saved)
    with pytest.raises(DataError, match="saved evaluation cannot be read"):
        Evaluation.from_dict(saved)


@pytest.mark.parametrize(("history", "held_out", "expected"), [
    ([{"epoch": 1, "accuracy": 0.8}, {"epoch": 2, "accuracy": 1.0}], 0.77, 1.0),  # issue 15.1: train 1.00, test 0.77
    ([{"epoch": 1, "accuracy": 1.0}], 0.95, None),  # learnt it well and does well on new rows too
    ([{"epoch": 1, "accuracy": 0.85}], 0.6, None),  # not memorised: it does not know its own rows either
    ([{"epoch": 1, "loss": 0.1}], 0.5, None),  # no training accuracy recorded
    ([], 0.5, None),
])
def test_memorised_accuracy_flags_a_perfect_train_score_far_above_the_held_out_one(
        history: list[dict], held_out: float, expected: float | None) -> None:
    assert memorised_accuracy(history, held_out) == expected


# --- top confusions (issue 16.11: a matrix of 50 classes was about 3,500 px tall) ---------------------------------
def test_top_confusions_list_the_commonest_mistakes_first_with_their_share() -> None:
    matrix = [[5, 2, 0], [4, 10, 4], [0, 1, 3]]
    assert top_confusions(matrix, ["a", "b", "c"]) == [
        Confusion("b", "a", 4, 4 / 18), Confusion("b", "c", 4, 4 / 18),  # equal: class order decides
        Confusion("a", "b", 2, 2 / 7), Confusion("c", "b", 1, 1 / 4),
    ]
    assert top_confusions(matrix, ["a", "b", "c"], limit=1) == [Confusion("b", "a", 4, 4 / 18)]


def test_an_equal_count_weighs_more_in_a_smaller_class_and_no_mistake_lists_nothing() -> None:
    assert [(c.true, c.share) for c in top_confusions([[8, 2], [2, 3]], ["big", "small"])] == [
        ("small", 0.4), ("big", 0.2)]
    assert top_confusions([[3, 0], [0, 4]], ["a", "b"]) == []


def test_top_confusions_of_fifty_classes_are_the_largest_cells_off_the_diagonal() -> None:
    rng = np.random.default_rng(0)
    classes = [f"class {index}" for index in range(50)]
    true = rng.integers(0, 50, 2000)
    probabilities = rng.dirichlet(np.ones(50), 2000) + np.eye(50)[true] * rng.random((2000, 1))
    evaluation = evaluate_probabilities([str(i) for i in range(2000)], [classes[i] for i in true], probabilities,
                                        classes)
    matrix = np.array(evaluation.confusion)
    listed = top_confusions(evaluation.confusion, classes)
    assert len(listed) == TOP_CONFUSIONS
    for item in listed:
        row, column = classes.index(item.true), classes.index(item.predicted)
        assert row != column and item.count == matrix[row, column]
        assert item.share == pytest.approx(matrix[row, column] / matrix[row].sum())
    assert [item.count for item in listed] == sorted((item.count for item in listed), reverse=True)
    off_diagonal = np.sort((matrix * (1 - np.eye(50, dtype=int))).ravel())[::-1]
    assert [item.count for item in listed] == off_diagonal[:TOP_CONFUSIONS].tolist()
