"""A two-class model's decision threshold: scored at every step, saved with the model, and used by prediction,
batch prediction, evaluation and the SavedModel export alike."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from core.errors import ConfigError
from core.evaluate import THRESHOLDS, Evaluation, decide, evaluate_probabilities, threshold_curve
from core.export import ENDPOINT, export_saved_model
from core.predict import Predictor
from core.workspace import Workspace
from tests.support import csv_bytes, labelled_rows, tiny_config

SCORES = np.array([0.9, 0.8, 0.6, 0.4, 0.3, 0.1])
POSITIVE = np.array([True, True, False, True, False, False])


def test_the_threshold_curve_counts_precision_recall_and_f1_at_each_step() -> None:
    curve = dict((point[0], point[1:]) for point in threshold_curve(POSITIVE, SCORES))
    assert list(curve) == list(THRESHOLDS)
    assert curve[0.5] == pytest.approx((2 / 3, 2 / 3, 2 / 3))  # 0.9, 0.8, 0.6 predicted; two are positive
    assert curve[0.7] == pytest.approx((1.0, 2 / 3, 0.8))
    assert curve[0.95] == (0.0, 0.0, 0.0)  # nothing predicted positive: 0, not NaN


def test_decide_uses_the_threshold_for_two_classes_only() -> None:
    two = np.column_stack([1 - SCORES, SCORES])
    assert decide(two).tolist() == [1, 1, 1, 0, 0, 0]
    assert decide(two, 0.7).tolist() == [1, 1, 0, 0, 0, 0]
    three = np.array([[0.2, 0.5, 0.3]])
    assert decide(three, 0.9).tolist() == [1]


def test_evaluation_at_a_threshold_and_its_curve_survive_saving() -> None:
    texts = [f"t{i}" for i in range(6)]
    labels = ["pos" if positive else "neg" for positive in POSITIVE]
    probabilities = np.column_stack([1 - SCORES, SCORES])
    plain = evaluate_probabilities(texts, labels, probabilities, ("neg", "pos"))
    strict = evaluate_probabilities(texts, labels, probabilities, ("neg", "pos"), threshold=0.7)
    assert (plain.accuracy, strict.accuracy) == pytest.approx((4 / 6, 5 / 6))
    assert strict.misclassified[0]["predicted"] == "neg" and strict.misclassified[0]["confidence"] == pytest.approx(0.6)
    assert Evaluation.from_dict(strict.to_dict()) == strict
    assert evaluate_probabilities(texts, ["a", "b", "c"] * 2, np.full((6, 3), 1 / 3), ("a", "b", "c")) \
        .threshold_curve is None


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = Workspace(models_root=tmp_path_factory.mktemp("threshold") / "models", public=False)
    workspace.data.load_upload(csv_bytes(labelled_rows(80)), name="t.csv")
    job = workspace.start_training(tiny_config(epochs=3, preset="default"), name="two")
    job.wait(120)
    assert workspace.active is not None, job.snapshot().error
    yield workspace
    workspace.close()


def test_a_saved_threshold_decides_predictions_files_reloads_and_exports(trained: Workspace, tmp_path) -> None:
    texts = ["great phone", "这个手机很差", "really the hotel"]
    positive = trained.active.predictor.predict_proba(texts)[:, 1]
    threshold = float(np.clip(np.median(positive), 0.02, 0.98))
    trained.set_threshold(threshold)
    expected = ["positive" if p >= threshold else "negative" for p in positive]
    assert [prediction.label for prediction in trained.predict(texts)] == expected
    assert trained.active.info.metadata["threshold"] == threshold
    reloaded = Predictor.load(trained.active.info.path)
    assert reloaded.threshold == threshold and [p.label for p in reloaded.predict(texts)] == expected
    predicted = trained.predict_file(("text\n" + "\n".join(texts) + "\n").encode())
    assert [trained.active.predictor.classes[i] for i in predicted.label_indices] == expected
    served = tf.saved_model.load(str(export_saved_model(reloaded, tmp_path / "served")))
    labels = getattr(served, ENDPOINT)(tf.constant(texts))["label"].numpy()
    assert [label.decode() for label in labels] == expected
    trained.set_threshold(None)
    assert "threshold" not in trained.active.info.metadata and trained.active.predictor.threshold is None


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, float("nan"), True])
def test_a_threshold_outside_zero_to_one_is_refused(trained: Workspace, threshold: float) -> None:
    with pytest.raises(ConfigError, match="between 0 and 1"):
        trained.set_threshold(threshold)
