from __future__ import annotations

import threading

import numpy as np
import pytest

from core.config import TrainConfig
from core.data import Dataset
from core.errors import ModelNotFoundError, RegistryError
from core.predict import MAX_TEXT_CHARACTERS, Predictor
from core.registry import ModelRegistry
from core.training import TrainingJob
from tests.support import make_texts, tiny_config

FAMILIES = {
    "mlp": tiny_config(epochs=3, batch_size=8, learning_rate=0.02),
    "lstm": TrainConfig(family="lstm", layer_sizes=[4, 4], vocab_size=200, embedding_dim=8, epochs=1, batch_size=16),
    "gru": TrainConfig(family="gru", layer_sizes=[4], bidirectional=True, vocab_size=200, embedding_dim=8, epochs=1, batch_size=16),
    "cnn": TrainConfig(family="cnn", layer_sizes=[8], vocab_size=200, embedding_dim=8, epochs=1, batch_size=16),
}
PROBES = ["great phone", "这个手机很差", "I hate this 酒店", "", "   ", "x" * 100_000]


def _trained(config: TrainConfig) -> TrainingJob:
    texts, labels = make_texts(64)
    job = TrainingJob(config, Dataset(tuple(texts), tuple(labels))).start()
    job.wait(timeout=120)
    assert job.model is not None, job.snapshot().error
    return job


@pytest.fixture(scope="module")
def mlp_predictor() -> Predictor:
    job = _trained(FAMILIES["mlp"])
    return Predictor(job.model, job.classes)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_save_load_gives_identical_predictions_for_every_family(family, tmp_path):
    job = _trained(FAMILIES[family])
    before = Predictor(job.model, job.classes).predict_proba(PROBES)
    info = ModelRegistry(tmp_path).save(job.model, {"classes": list(job.classes)}, name=family)
    after = Predictor.load(info.path).predict_proba(PROBES)
    np.testing.assert_allclose(before, after, atol=1e-6)


def test_predict_returns_the_label_and_every_class_probability(mlp_predictor):
    label, probabilities = mlp_predictor.predict(["what a wonderful film"])[0]
    assert set(probabilities) == {"negative", "positive"}
    assert label == max(probabilities, key=probabilities.get)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_empty_whitespace_and_huge_texts_get_an_answer(mlp_predictor):
    predictions = mlp_predictor.predict(["", "   ", "好" * (MAX_TEXT_CHARACTERS * 5)])
    assert len(predictions) == 3 and all(p.label in mlp_predictor.classes for p in predictions)
    assert mlp_predictor.predict_proba([]).shape == (0, 2)


def test_many_threads_share_one_predictor(mlp_predictor):
    expected = mlp_predictor.predict_proba(PROBES[:3])
    results, errors = [], []

    def worker() -> None:
        try:
            for _ in range(20):
                results.append(mlp_predictor.predict_proba(PROBES[:3]))
        except Exception as error:  # collected so the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 160
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_loading_a_missing_model_names_it(tmp_path):
    with pytest.raises(ModelNotFoundError, match="nothing-here"):
        Predictor.load(tmp_path / "nothing-here")


def test_loading_a_broken_model_says_why(mlp_predictor, tmp_path):
    info = ModelRegistry(tmp_path).save(mlp_predictor.model, {"classes": list(mlp_predictor.classes)}, name="cut")
    (info.path / "model.keras").write_bytes(b"PK cut off")
    with pytest.raises(RegistryError, match="'cut' is broken: model.keras is damaged or incomplete"):
        Predictor.load(info.path)
