"""Magnitude pruning: the schedule reaches its target, pruned weights stay zero, and the zipped model shrinks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.config import TrainConfig
from core.data import Dataset
from core.prune import MagnitudePruning, _mask, _prunable, sparsity, zipped_size
from core.registry import MODEL_FILE, ModelRegistry
from core.training import JobStatus, TrainingJob
from tests.support import csv_file, make_texts, tiny_config

# Wider than tiny_config's: each pruned matrix holds enough weights to reach its sparsity within 1%.
CONFIG = tiny_config(layer_sizes=[32], vocab_size=2000, epochs=4, learning_rate=0.02, early_stopping=False,
                     dropout=0.0)


def _trained(config: TrainConfig) -> TrainingJob:
    texts, labels = make_texts(200)
    job = TrainingJob(config, Dataset(tuple(texts), tuple(labels))).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED, job.snapshot().error
    return job


def test_the_schedule_rises_from_zero_to_the_target_within_the_first_epoch() -> None:
    pruning = MagnitudePruning(0.8, batches_per_epoch=20)
    values = [pruning.sparsity_at(step) for step in range(0, 41)]
    assert values[0] == 0.0 and values[20] == pytest.approx(0.8) and values[40] == pytest.approx(0.8)
    assert all(later >= earlier for earlier, later in zip(values, values[1:]))
    assert values[5] > 0.8 * 5 / 20  # cubic: most of the pruning happens early, while there is time to recover


def test_a_mask_drops_exactly_the_smallest_weights() -> None:
    values = np.array([[0.1, -5.0, 0.3], [-0.2, 4.0, 0.05]])
    np.testing.assert_array_equal(_mask(values, 0.5), [[False, True, True], [False, True, False]])
    assert _mask(values, 0.0).all()


@pytest.mark.parametrize("target", [0.5, 0.8])
def test_training_with_pruning_ends_at_the_target_and_still_learns(target: float, tmp_path) -> None:
    job = _trained(CONFIG.replace(prune_sparsity=target))
    for weight in _prunable(job.model):  # each matrix, not only on average
        assert (np.asarray(weight.numpy()) == 0).mean() == pytest.approx(target, abs=0.01), weight.path
    assert sparsity(job.model) == pytest.approx(target, abs=0.01)
    assert job.snapshot().epoch_history[-1]["accuracy"] > 0.9
    dense = _trained(CONFIG)
    assert sparsity(dense.model) < 0.01
    registry = ModelRegistry(tmp_path)
    sizes = [zipped_size(registry.save(model, {"classes": ["negative", "positive"]}, name=name).path / MODEL_FILE)
             for name, model in (("pruned", job.model), ("dense", dense.model))]
    assert sizes[0] < sizes[1] * (1.0 - target / 3), sizes


def test_cli_trains_a_pruned_model_and_reports_its_zipped_size(tmp_path, capsys) -> None:
    texts, labels = make_texts(80)
    data = csv_file(tmp_path / "reviews.csv", zip(texts, labels))
    arguments = ["train", str(data), "--preset", "article-mlp", "--epochs", "2", "--models-dir", str(tmp_path / "models")]
    assert main([*arguments, "--prune-sparsity", "0.8", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["sparsity"] == pytest.approx(0.8, abs=0.01)
    assert result["zipped_model_bytes"] == zipped_size(tmp_path / "models" / result["name"] / MODEL_FILE)
    assert main([*arguments, "--prune-sparsity", "0.3"]) == 2
    assert "prune_sparsity=0.3" in capsys.readouterr().err
