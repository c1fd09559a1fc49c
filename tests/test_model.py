from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.config import TrainConfig, preset
from core.model import HEADS, build_model, training_model
from core.text import SparseTfIdf
from tests.support import make_texts

CLASSES = ("negative", "positive")


def _layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_article_lstm_is_exactly_the_reference_stack():
    texts, _ = make_texts(40)
    model = build_model(preset("article-lstm"), texts, CLASSES)
    assert _layer_types(model) == ["InputLayer", "TextVectorization", "Embedding", "LSTM", "LSTM", "Dense"]
    first, second = model.layers[3], model.layers[4]
    assert (first.units, first.return_sequences, second.units, second.return_sequences) == (64, True, 128, False)
    assert model.layers[2].mask_zero
    assert model.layers[-1].units == 2 and model.layers[-1].activation.__name__ == "softmax"
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.loss == "categorical_crossentropy"


def test_article_mlp_is_a_bag_of_words_with_dense_128_and_64():
    texts, _ = make_texts(40)
    model = build_model(preset("article-mlp"), texts, ("a", "b", "c"))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [128, 64, 3]
    assert model.layers[1].get_config()["output_mode"] == "count" and model.layers[1].get_config()["sparse"]
    assert isinstance(model.layers[2], SparseTfIdf) and not model.layers[2].normalize  # plain TF-IDF, as measured


def test_default_reads_sublinear_unit_length_tf_idf_of_words_and_pairs():
    texts, _ = make_texts(40)
    model = build_model(preset("default"), texts, ("a", "b"))
    assert model.layers[1].get_config()["ngrams"] == 2
    assert model.layers[2].normalize


def test_default_reads_character_trigrams_of_chinese_and_keeps_the_width_in_the_model(tmp_path):
    texts = ["房间很干净", "服务太差了", "下次还来", "再也不来"] * 5
    model = build_model(preset("default"), texts, ("a", "b"))
    assert model.layers[1].get_config()["ngrams"] == 3
    assert "很 干 净" in model.layers[1].get_vocabulary()
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert loaded.layers[1].get_config()["ngrams"] == 3
    assert build_model(preset("default").replace(ngrams=2), texts, ("a", "b")).layers[1].get_config()["ngrams"] == 2


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(family="mlp", layer_sizes=[16, 8, 4], vocab_size=200),
        TrainConfig(family="lstm", layer_sizes=[8], vocab_size=200, embedding_dim=8, bidirectional=True),
        TrainConfig(family="gru", layer_sizes=[8, 8, 8], vocab_size=200, embedding_dim=8),
        TrainConfig(family="cnn", layer_sizes=[8, 8], vocab_size=200, embedding_dim=8, sequence_length=20),
    ],
    ids=["mlp", "bilstm", "gru", "cnn"],
)
def test_every_family_takes_raw_strings_and_returns_probabilities(config):
    texts, _ = make_texts(30)
    model = build_model(config, texts, CLASSES)
    probabilities = keras.ops.convert_to_numpy(model(tf.constant([["great phone"], ["这个 很差"]])))
    assert probabilities.shape == (2, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.name == f"{config.family}_sentiment"


def test_layer_sizes_give_that_many_hidden_layers():
    texts, _ = make_texts(30)
    model = build_model(TrainConfig(family="gru", layer_sizes=[4, 5, 6], vocab_size=100, embedding_dim=4), texts, CLASSES)
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.GRU)] == [4, 5, 6]


def _encoder_and_words_model() -> tuple[keras.Model, dict[str, tf.Tensor], np.ndarray]:
    """A model over random "encoder vectors" and TF-IDF, with a batch of its inputs and one-hot targets."""
    texts, labels = make_texts(40)
    vectors = np.random.default_rng(0).normal(size=(len(texts), 384)).astype("float32")
    model = build_model(preset("transfer").replace(features="encoder_tf_idf"), texts, CLASSES, vectors)
    inputs = {"text": tf.constant(texts)[:, None], "vectors": tf.constant(vectors)}
    return model, inputs, keras.utils.to_categorical([CLASSES.index(label) for label in labels], 2)


def test_the_encoder_and_words_model_serves_the_average_of_its_two_heads():
    model, inputs, _ = _encoder_and_words_model()
    heads = keras.Model(model.input, [model.get_layer(name).output for name in HEADS])
    first, second = (np.asarray(output) for output in heads(inputs))
    assert not np.allclose(first, second)
    np.testing.assert_allclose(np.asarray(model(inputs)), (first + second) / 2, rtol=1e-5)


def test_each_head_learns_from_its_own_loss_not_from_the_average():
    """The vector head's gradient is the same whatever the TF-IDF head predicts: the heads train as two models
    would. Fitting the average couples them (the head that is right already takes the gradient)."""
    model, inputs, targets = _encoder_and_words_model()
    twin = training_model(model, preset("transfer"))
    vector_kernel = twin.get_layer("vector_head").kernel

    def vector_head_gradient() -> np.ndarray:
        with tf.GradientTape() as tape:
            predictions = twin(inputs, training=False)
            loss = twin.compute_loss(x=inputs, y={name: targets for name in predictions}, y_pred=predictions)
        return np.asarray(tape.gradient(loss, vector_kernel))

    before = vector_head_gradient()
    tf_idf_head = twin.get_layer("tf_idf_head")
    tf_idf_head.kernel.assign(tf_idf_head.kernel * 5.0 + 1.0)
    np.testing.assert_allclose(vector_head_gradient(), before, rtol=1e-4, atol=1e-7)


def test_a_model_with_one_head_is_fitted_as_it_is():
    model = build_model(preset("default"), make_texts(40)[0], CLASSES)
    assert training_model(model, preset("default")) is model
