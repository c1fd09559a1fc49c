"""SavedModel export: TensorFlow alone (no Keras, no project code) loads it and predicts what we predict."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from core.config import TrainConfig
from core.data import Dataset
from core.errors import RegistryError
from core.export import ENDPOINT, export_saved_model, saved_model_zip
from core.predict import Predictor
from core.training import TrainingJob
from tests.support import make_texts, tiny_config

TEXTS = ["great phone", "这个手机很差", "I hate this 酒店", ""]


def _predictor(config: TrainConfig) -> Predictor:
    texts, labels = make_texts(64)
    job = TrainingJob(config, Dataset(tuple(texts), tuple(labels))).start()
    job.wait(timeout=120)
    assert job.model is not None, job.snapshot().error
    return Predictor(job.model, job.classes)


@pytest.mark.parametrize("config", [
    tiny_config(vocab_size=300, learning_rate=0.05),
    TrainConfig(family="lstm", layer_sizes=[4], vocab_size=200, embedding_dim=8, epochs=1, batch_size=16),
], ids=["mlp", "lstm"])
def test_tensorflow_alone_serves_the_same_predictions(config: TrainConfig, tmp_path) -> None:
    predictor = _predictor(config)
    folder = export_saved_model(predictor, tmp_path / "saved")
    loaded = tf.saved_model.load(str(folder))  # kept in a name: its variables live only as long as it does
    served = getattr(loaded, ENDPOINT)(tf.constant(TEXTS))
    expected = predictor.predict_proba(TEXTS)
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert [label.decode() for label in served["label"].numpy()] == [predictor.classes[i] for i in expected.argmax(1)]


def test_zip_holds_one_named_folder_and_an_existing_folder_is_refused(tmp_path) -> None:
    predictor = _predictor(tiny_config(epochs=1))
    names = zipfile.ZipFile(io.BytesIO(saved_model_zip(predictor, "my-model"))).namelist()
    assert "my-model/saved_model.pb" in names and all(name.startswith("my-model/") for name in names)
    (tmp_path / "taken").mkdir()
    with pytest.raises(RegistryError, match="exists already"):
        export_saved_model(predictor, tmp_path / "taken")
