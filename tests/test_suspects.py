"""Suspect labels: out-of-fold scoring finds flipped labels, the ranking follows confident learning, and a fix
drops or relabels exactly the chosen rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.data import Dataset
from core.errors import ClassError, ConfigError
from core.suspects import corrected, find_suspects, fold_assignment, rank_suspects
from tests.support import csv_bytes, csv_file, make_texts, tiny_config

# Wider and longer than tiny_config's so each fold's model learns the clean rows well (15 epochs, no early stop).
FAST = tiny_config(layer_sizes=[16], epochs=15, learning_rate=0.01, early_stopping=False)
FLIPPED = (3, 10, 17, 44, 71, 98)


def _flipped_dataset(count: int = 120) -> Dataset:
    texts, labels = make_texts(count)
    other = {"positive": "negative", "negative": "positive"}
    return Dataset(tuple(texts), tuple(other[label] if i in FLIPPED else label for i, label in enumerate(labels)))


def test_ranking_flags_rows_whose_confident_class_is_not_their_label() -> None:
    dataset = Dataset(("a", "b", "c", "d", "e", "f"), ("neg", "neg", "neg", "pos", "pos", "pos"))
    # Thresholds: neg (0.9 + 0.8 + 0.1) / 3 = 0.6, pos (0.7 + 0.9 + 0.65) / 3 = 0.75.
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.3, 0.7], [0.1, 0.9], [0.65, 0.35]])
    suspects = rank_suspects(dataset, probabilities)
    # "c" is sure to be pos; "f" reaches neg's threshold 0.6; "d" (0.7 pos) misses pos's 0.75 but is no neg either.
    assert [(s.text, s.label, s.suggested) for s in suspects] == [("c", "neg", "pos"), ("f", "pos", "neg")]
    assert suspects[0].confidence == pytest.approx(0.9) and suspects[0].label_probability == pytest.approx(0.1)
    assert suspects[0].to_dict() == {"row": 2, "text": "c", "label": "neg", "suggested": "pos", "confidence": 0.9}


def test_folds_keep_every_class_balanced_and_refuse_impossible_counts() -> None:
    dataset = Dataset([f"t{i}" for i in range(23)], ["a"] * 13 + ["b"] * 10)
    assignment = fold_assignment(dataset, 5, seed=0)
    for fold in range(5):
        labels = [dataset.labels[i] for i in np.flatnonzero(assignment == fold)]
        assert labels.count("a") in (2, 3) and labels.count("b") == 2
    assert (fold_assignment(dataset, 5, seed=0) == assignment).all()
    with pytest.raises(ConfigError, match="folds=1"):
        fold_assignment(dataset, 1, seed=0)
    with pytest.raises(ClassError, match="'b' has 4"):
        fold_assignment(dataset.subset(range(17)), 5, seed=0)


def test_corrected_drops_and_relabels_the_chosen_rows_keeping_file_rows() -> None:
    dataset = Dataset(("a", "b", "c", "d"), ("x", "x", "y", "y"), file_rows=(0, 2, 5, 6))
    fixed = corrected(dataset, drop={1}, relabel={2: "x"})
    assert (fixed.texts, fixed.labels, fixed.file_rows) == (("a", "c", "d"), ("x", "x", "y"), (0, 5, 6))
    with pytest.raises(ClassError, match="'z'"):
        corrected(dataset, relabel={0: "z"})
    with pytest.raises(ClassError, match="fewer than two classes"):
        corrected(dataset, drop={2, 3})


def test_out_of_fold_models_find_the_flipped_labels() -> None:
    dataset = _flipped_dataset(200)
    progress = []
    suspects = find_suspects(dataset, folds=3, config=FAST, on_fold=lambda done, folds: progress.append(done))
    assert progress == [1, 2, 3]
    # 6 flipped rows of 200 (3%); the top 8 holding 5 of them leaves room for a run's numeric noise.
    top = {suspect.position for suspect in suspects[:8]}
    assert len(top & set(FLIPPED)) >= len(FLIPPED) - 1, suspects[:10]
    assert all(s.suggested != s.label for s in suspects)


def test_cli_lists_suspects_by_their_row_in_the_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dataset = _flipped_dataset(300)
    # An empty row and a duplicate of the first text come first: the loader keeps the duplicate (file row 1)
    # and drops the later copy, so every other row's file row is its position plus two.
    rows = [("", "positive"), (dataset.texts[0], dataset.labels[0]), *zip(dataset.texts, dataset.labels)]
    path = csv_file(tmp_path / "noisy.csv", rows)
    assert main(["suspects", str(path), "--folds", "3", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["rows"] == 300 and result["folds"] == 3
    suspects = result["suspects"]
    assert suspects and set(suspects[0]) == {"row", "text", "label", "suggested", "confidence"}
    for suspect in suspects:
        position = 0 if suspect["row"] == 1 else suspect["row"] - 2
        assert (dataset.texts[position], dataset.labels[position]) == (suspect["text"], suspect["label"])
    found = {suspect["row"] - 2 for suspect in suspects[: 2 * len(FLIPPED)]}
    assert len(found & set(FLIPPED)) >= len(FLIPPED) // 2
    assert "fold 3/3 scored" in captured.err


def test_cli_refuses_bad_folds_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "small.csv"
    path.write_text("text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(12)), encoding="utf-8")
    assert main(["suspects", str(path), "--folds", "7"]) == 2
    assert "at least 7 rows per class" in capsys.readouterr().err
    assert main(["suspects", str(path), "--folds", "40"]) == 2
    assert "folds=40" in capsys.readouterr().err


def test_workspace_relabels_the_chosen_suspects_and_retrains(tmp_path: Path) -> None:
    from core.suspects import Suspect
    from core.workspace import Workspace

    workspace = Workspace(models_root=tmp_path / "models", public=False)
    texts, labels = make_texts(60)
    workspace.data.load_upload(csv_bytes(zip(texts, labels)), name="a.csv")
    wrong = Suspect(position=4, row=4, text=texts[4], label=labels[4], suggested="positive" if labels[4] ==
                    "negative" else "negative", confidence=0.9, label_probability=0.1)
    version = workspace.data.version
    job = workspace.fix_suspects([wrong], relabel=True)
    assert workspace.dataset.labels[4] == wrong.suggested and len(workspace.dataset) == 60
    assert workspace.dataset.file_rows == tuple(range(60)) and workspace.data.version == version + 1
    assert job.config.preset == "default" and workspace.data.suspects is None
    job.wait(120)
    workspace.close()
