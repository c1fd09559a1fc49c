"""Tests for pages/_tables.py: the tables the pages show, shaped without streamlit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from core.data import TextTable
from core.evaluate import Evaluation, evaluate_probabilities, probability_column
from core.registry import ModelInfo
from core.workspace import FilePredictions
from pages import _tables

REPO_ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("negative", "positive")


def _evaluation(correct: int, wrong: int) -> Evaluation:
    """An evaluation of `correct` + `wrong` rows of two classes, the wrong ones confidently so."""
    labels = ["negative", "positive"] * (correct + wrong)
    rows = len(labels)
    right = np.where(np.array(labels) == "positive", 1, 0)
    predicted = np.concatenate([right[: 2 * correct], 1 - right[2 * correct :]])
    probabilities = np.full((rows, 2), 0.1)
    probabilities[np.arange(rows), predicted] = 0.9
    return evaluate_probabilities([f"text {i}" for i in range(rows)], labels, probabilities, CLASSES)


def _info(name: str, broken: str | None = None, **metadata) -> ModelInfo:
    return ModelInfo(name, Path("/models") / name, metadata, broken)


def test_the_probability_column_of_a_class_is_spelled_once() -> None:
    assert probability_column("positive") == "p_positive" and probability_column("好评") == "p_好评"
    mistake = _evaluation(1, 1).misclassified[0]
    assert set(mistake) == {"text", "true", "predicted", "confidence", *map(probability_column, CLASSES)}


def test_model_rows_describe_each_model_and_mark_active_bundled_and_broken() -> None:
    good = _info(
        "reviews", preset="default", created="2026-01-02T03:04:05.678+00:00", evaluated_on="test",
        config={"family": "mlp", "layer_sizes": [64, 32]}, metrics={"accuracy": 0.9, "macro_f1": 0.88},
        data={"source": "reviews.csv", "fingerprint": "0123456789abcdef", "rows": {"train": 80, "test": 20}},
        epochs_run=4, train_seconds=1.5, device="CPU",
    )
    broken = _info("half-saved", broken="metadata.json is missing")
    rows = _tables.model_rows([good, broken], active_name="reviews", bundled=frozenset({"half-saved"}))
    assert rows[0] == {
        "active": True, "name": "reviews", "bundled": False, "created": "2026-01-02 03:04", "preset": "default",
        "family": "mlp", "layers": "64, 32", "network": "default · mlp 64, 32", "accuracy": 0.9, "macro_f1": 0.88, "evaluated_on": "test",
        "data": "reviews.csv · 01234567", "rows": 100, "epochs": 4, "train_seconds": 1.5, "device": "CPU",
        "problem": "",
    }
    assert rows[1]["bundled"] and not rows[1]["active"] and rows[1]["problem"] == "metadata.json is missing"
    assert rows[1]["data"] == "" and rows[1]["rows"] is None and rows[1]["accuracy"] is None


def test_the_models_frame_shows_the_bundled_column_only_when_a_model_is_bundled() -> None:
    infos = [_info("mine"), _info("shipped")]
    assert "bundled" not in _tables.models_frame(infos, "mine").columns
    frame = _tables.models_frame(infos, "mine", frozenset({"shipped"}))
    assert list(frame["bundled"]) == [False, True] and list(frame["active"]) == [True, False]


def test_the_models_frame_shows_the_problem_column_only_when_a_model_is_broken() -> None:
    # An empty column would take room from those that matter: at 1400 px the table must fit (issue 15.9).
    assert "problem" not in _tables.models_frame([_info("mine"), _info("other")]).columns
    frame = _tables.models_frame([_info("mine"), _info("half-saved", broken="metadata.json is missing")])
    assert list(frame["problem"]) == ["", "metadata.json is missing"]


def test_detail_rows_read_as_plain_values_never_json_null() -> None:
    metadata = {"vocab_size": 20000, "ngrams": None, "layer_sizes": [64, 32], "early_stopping": True,
                "learning_rate": 0.0005, "rows": {"train": 80, "test": 20}, "prune": False}
    assert _tables.detail_rows(metadata) == [
        ("vocab_size", "20000"), ("ngrams", "–"), ("layer_sizes", "64, 32"), ("early_stopping", "✓"),
        ("learning_rate", "0.0005"), ("rows.train", "80"), ("rows.test", "20"), ("prune", "✗"),
    ]


def test_comparison_rows_put_the_best_accuracy_first_and_keep_ties_in_order() -> None:
    scores = [("active", _evaluation(3, 1)), ("better", _evaluation(4, 0)), ("same", _evaluation(3, 1))]
    rows = _tables.comparison_rows(scores)
    assert [row["model"] for row in rows] == ["better", "active", "same"]
    assert set(rows[0]) == {"model", "accuracy", "macro_f1", "roc_auc", "f1_negative", "f1_positive"}
    assert rows[0]["accuracy"] == 1.0 and rows[1]["accuracy"] == 0.75
    assert rows[1]["f1_positive"] == scores[0][1].per_class[1].f1


def test_filter_examples_by_text_and_label() -> None:
    rows = [{"text": "Great phone", "true": "positive"}, {"text": "great? no", "true": "negative"}]
    assert _tables.filter_examples(rows, contains="GREAT") == rows
    assert _tables.filter_examples(rows, contains=" great ", true_label="negative") == rows[1:]
    assert _tables.filter_examples(rows, contains="tablet") == []
    assert _tables.filter_examples(rows, true_label="positive") == rows[:1]


def test_the_examples_frame_has_every_column_even_without_rows() -> None:
    evaluation = _evaluation(1, 2)
    frame = _tables.examples_frame(evaluation.misclassified, CLASSES)
    assert list(frame.columns) == ["text", "true", "predicted", "confidence", "p_negative", "p_positive"]
    assert len(frame) == 4 and (frame["predicted"] != frame["true"]).all()
    assert list(_tables.examples_frame([], CLASSES).columns) == list(frame.columns)


def _predictions(header: tuple[str, ...], rows: list[tuple[str, ...]], text_column: str,
                 probabilities: list[list[float]], classes: tuple[str, ...]) -> FilePredictions:
    return FilePredictions(TextTable(header, tuple(rows), text_column), np.array(probabilities, dtype=np.float32),
                           classes)


def test_the_prediction_frame_has_the_label_confidence_and_a_probability_per_class() -> None:
    probabilities = [[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]
    frame = _tables.prediction_frame(
        _predictions(("text",), [("good",), ("=bad",)], "text", probabilities, ("neg", "pos", "neutral")), "empty")
    assert list(frame.columns) == ["text", "predicted", "confidence", "p_neg", "p_pos", "p_neutral", "reason"]
    assert list(frame["text"]) == ["good", "=bad"] and list(frame["predicted"]) == ["pos", "neg"]
    np.testing.assert_allclose(frame["confidence"], [0.7, 0.6])
    np.testing.assert_allclose(frame[["p_neg", "p_pos", "p_neutral"]].to_numpy(), probabilities, rtol=1e-6)
    assert list(frame["reason"]) == ["", ""]


def test_the_prediction_frame_keeps_the_files_columns_and_blank_rows() -> None:
    nan = float("nan")
    predictions = _predictions(("id", "text", "predicted"), [("1", "good", "x"), ("2", " ", "y")], "text",
                               [[0.2, 0.8], [nan, nan]], ("neg", "pos"))
    frame = _tables.prediction_frame(predictions, "empty text")
    # The file's own "predicted" column stays; the model's gets a trailing underscore.
    assert list(frame.columns) == ["id", "text", "predicted", "predicted_", "confidence", "p_neg", "p_pos", "reason"]
    assert list(frame["id"]) == ["1", "2"] and list(frame["predicted"]) == ["x", "y"]
    assert list(frame["predicted_"]) == ["pos", ""] and list(frame["reason"]) == ["", "empty text"]
    assert frame["confidence"].isna().tolist() == [False, True]


def test_the_table_module_needs_no_streamlit() -> None:
    # Pure on purpose: the shapes are tested here, the pages only add labels and formats.
    code = "import sys, pages._tables; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT).returncode == 0
