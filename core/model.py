"""Keras networks built from a `TrainConfig`: raw strings in, class probabilities out.

Every model starts with its own `TextVectorization`, so a saved `model.keras` takes raw text and
prediction code never repeats preprocessing by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from core.config import TrainConfig
from core.text import SparseTfIdf, build_vocabulary, ngram_width_for, sequence_length_for, standardize


# The input of a model that reads sentence-encoder vectors beside (or instead of) its text.
VECTORS_INPUT = "vectors"
# The two heads of a model over encoder vectors and TF-IDF, whose probabilities it averages.
HEADS = ("tf_idf_head", "vector_head")
# The averaged probabilities' loss, as `training_model`'s twin names it in Keras's logs.
SERVED_LOSS = "served_loss"


def build_model(config: TrainConfig, train_texts: Sequence[str], classes: Sequence[str],
                train_vectors: np.ndarray | None = None) -> keras.Model:
    """A compiled end-to-end model whose vocabulary comes from `train_texts`.

    A model that uses the sentence encoder (`config.uses_encoder`) takes a dict: {"vectors": the encoder's
    vectors} and, beside TF-IDF, {"text": the raw strings}; `train_vectors` are the training texts' vectors,
    which set its input normalisation. Adam and categorical cross-entropy over one-hot labels, as in the
    reference article; gradient clipping comes from `config.clipnorm`.
    """
    text = keras.Input(shape=(1,), dtype="string", name="text")
    if config.uses_encoder:
        inputs, outputs = _encoder_inputs(config, train_texts, text, train_vectors, classes)
    elif config.family == "mlp":
        inputs, outputs = text, _head(config, _tf_idf_features(config, train_texts, text), classes)
    else:
        inputs, outputs = text, _head(config, _token_ids(config, train_texts, text), classes)
    return _compiled(keras.Model(inputs, outputs, name=f"{config.family}_sentiment"), config)


def build_numeric_model(config: TrainConfig, features: keras.KerasTensor, classes: Sequence[str],
                        optimizer_class: type[keras.optimizers.Adam] = keras.optimizers.Adam) -> keras.Model:
    """The part of `build_model`'s network after its string front end, reading `features` (dense TF-IDF rows or
    token ids) instead of raw text; its layers have the same names, so trained weights copy over by name.

    Strategies over several devices or machines cannot run string lookups inside the model (TF#80951), so
    core/distributed.py trains this one on texts vectorised beforehand, with its own kind of Adam.
    """
    return _compiled(keras.Model(features, _head(config, features, classes), name=f"{config.family}_numeric"),
                     config, optimizer_class)


def text_front_end(model: keras.Model) -> keras.Model:
    """The string part of a TF-IDF or sequence model from `build_model`: raw texts in, what its head reads out
    (sparse TF-IDF rows, or padded token ids)."""
    last = "tf_idf" if any(layer.name == "tf_idf" for layer in model.layers) else "vectorizer"
    return keras.Model(model.inputs, model.get_layer(last).output, name="front_end")


def _compiled(model: keras.Model, config: TrainConfig,
              optimizer_class: type[keras.optimizers.Adam] = keras.optimizers.Adam) -> keras.Model:
    model.compile(optimizer=_optimizer(config, optimizer_class), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _optimizer(config: TrainConfig, optimizer_class: type[keras.optimizers.Adam] = keras.optimizers.Adam,
               ) -> keras.optimizers.Adam:
    return optimizer_class(learning_rate=config.learning_rate, clipnorm=config.clipnorm)


def _head(config: TrainConfig, features: keras.KerasTensor, classes: Sequence[str]) -> keras.KerasTensor:
    """The trainable network over vectorised text: dense layers over TF-IDF, or a sequence body over token ids."""
    body = _mlp_body if config.family == "mlp" else _sequence_body
    return _probabilities(body(config, features), classes)


def _probabilities(hidden: keras.KerasTensor, classes: Sequence[str], name: str = "probabilities",
                   ) -> keras.KerasTensor:
    return layers.Dense(len(classes), activation="softmax", name=name)(hidden)


def _tf_idf_features(config: TrainConfig, train_texts: Sequence[str], inputs: keras.KerasTensor) -> keras.KerasTensor:
    """Sparse TF-IDF over 1..n-grams, for the dense family."""
    ngrams = config.ngrams or ngram_width_for(train_texts)  # the width is kept in the saved vectorizer
    vocabulary = build_vocabulary(train_texts, max_tokens=config.vocab_size - 1, ngrams=ngrams)
    counter = layers.TextVectorization(
        standardize=standardize, ngrams=ngrams, output_mode="count", sparse=True, name="vectorizer"
    )
    counter.set_vocabulary(vocabulary.tokens)
    tf_idf = SparseTfIdf(len(vocabulary.tokens) + 1, normalize=config.normalize_tf_idf, name="tf_idf")
    tf_idf.set_idf(vocabulary)
    return tf_idf(counter(inputs))


def _encoder_inputs(config: TrainConfig, train_texts: Sequence[str], text: keras.KerasTensor,
                    train_vectors: np.ndarray | None, classes: Sequence[str],
                    ) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """The inputs and class probabilities of a model over encoder vectors, with a TF-IDF head beside it if asked.

    The vectors are standardised per dimension first: e5 vectors are unit length but crowd into a narrow
    cone (cosine similarities of 0.7-0.9 between unrelated texts), which a dense layer learns slowly from.
    Beside TF-IDF, each branch has its own head and the served probabilities are their average: an ensemble
    of two views of the text, each head trained on its own loss (`training_model`).
    """
    if train_vectors is None:
        raise ValueError("a model over encoder vectors needs the training texts' vectors")
    vectors = keras.Input(shape=(train_vectors.shape[1],), dtype="float32", name=VECTORS_INPUT)
    normalization = layers.Normalization(name="vector_normalization")
    normalization.adapt(train_vectors)
    features = normalization(vectors)
    if not config.uses_tf_idf:
        return {VECTORS_INPUT: vectors}, _head(config, features, classes)
    heads = [
        _probabilities(_mlp_body(config, _tf_idf_features(config, train_texts, text), prefix="tf_idf_"),
                       classes, name=HEADS[0]),
        _probabilities(_mlp_body(config, features, prefix="vector_"), classes, name=HEADS[1]),
    ]
    return {"text": text, VECTORS_INPUT: vectors}, layers.Average(name="probabilities")(heads)


def training_model(model: keras.Model, config: TrainConfig) -> keras.Model:
    """The model to fit: `model` itself, or for a model with several heads the same layers with each head as an
    output beside the averaged probabilities, compiled with one loss per head.

    Fitting the average directly trains the heads as one mixture, in which the head that is already right
    takes most of the gradient: on MR that scored 80.1% against 82.5% for heads that each learn from their own
    loss (bench/RESULTS.md). The averaged output's accuracy and loss are reported as the model's own
    (core.training reads them back as "accuracy" and "loss").
    """
    names = [layer.name for layer in model.layers if layer.name in HEADS]
    if not names:
        return model
    outputs = {"probabilities": model.output, **{name: model.get_layer(name).output for name in names}}
    twin = keras.Model(model.input, outputs, name=f"{model.name}_heads")
    twin.compile(
        optimizer=_optimizer(config),
        loss={name: "categorical_crossentropy" for name in names},
        metrics={"probabilities": [keras.metrics.CategoricalAccuracy(name="accuracy"),
                                   keras.metrics.CategoricalCrossentropy(name=SERVED_LOSS)]},
    )
    return twin


def _token_ids(config: TrainConfig, train_texts: Sequence[str], inputs: keras.KerasTensor) -> keras.KerasTensor:
    """Padded token ids for the sequence families."""
    # Index 0 is padding and 1 out-of-vocabulary, so two fewer real tokens fit in vocab_size.
    vocabulary = build_vocabulary(train_texts, max_tokens=config.vocab_size - 2)
    vectorizer = layers.TextVectorization(
        standardize=standardize,
        output_mode="int",
        output_sequence_length=config.sequence_length or sequence_length_for(train_texts),
        name="vectorizer",
    )
    vectorizer.set_vocabulary(vocabulary.tokens)
    return vectorizer(inputs)


def _mlp_body(config: TrainConfig, features: keras.KerasTensor, prefix: str = "") -> keras.KerasTensor:
    """Dense layers from `config.layer_sizes`, each with its dropout; `prefix` names a branch's layers apart."""
    hidden = features
    for index, units in enumerate(config.layer_sizes):
        hidden = layers.Dense(units, activation="relu", name=f"{prefix}dense_{index + 1}")(hidden)
        if config.dropout:
            hidden = layers.Dropout(config.dropout, seed=config.seed + index)(hidden)
    return hidden


def _sequence_body(config: TrainConfig, token_ids: keras.KerasTensor) -> keras.KerasTensor:
    # Without masking, an LSTM reading mostly padding learns little and sits at the majority class.
    vocabulary_size = config.vocab_size
    hidden = layers.Embedding(
        vocabulary_size, config.embedding_dim, mask_zero=config.family != "cnn", name="embedding"
    )(token_ids)
    if config.family == "cnn":
        return _cnn_layers(config, hidden)
    recurrent = layers.LSTM if config.family == "lstm" else layers.GRU
    last = len(config.layer_sizes) - 1
    for index, units in enumerate(config.layer_sizes):
        layer = recurrent(units, return_sequences=index < last, name=f"{config.family}_{index + 1}")
        hidden = layers.Bidirectional(layer, name=f"bidirectional_{index + 1}")(hidden) if config.bidirectional else layer(hidden)
        if config.dropout:
            hidden = layers.Dropout(config.dropout, seed=config.seed + index)(hidden)
    return hidden


def _cnn_layers(config: TrainConfig, hidden: keras.KerasTensor) -> keras.KerasTensor:
    for index, filters in enumerate(config.layer_sizes):
        hidden = layers.Conv1D(filters, 5, padding="same", activation="relu", name=f"conv_{index + 1}")(hidden)
        if index < len(config.layer_sizes) - 1:
            hidden = layers.MaxPooling1D(2, padding="same")(hidden)
    hidden = layers.GlobalMaxPooling1D()(hidden)
    return layers.Dropout(config.dropout, seed=config.seed)(hidden) if config.dropout else hidden
