"""Keras networks built from a `TrainConfig`: raw strings in, class probabilities out.

Every model starts with its own `TextVectorization`, so a saved `model.keras` takes raw text and
prediction code never repeats preprocessing by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from core.config import TrainConfig
from core.text import SparseTfIdf, build_vocabulary, ngram_width_for, sequence_length_for, standardize


def build_model(config: TrainConfig, train_texts: Sequence[str], classes: Sequence[str]) -> keras.Model:
    """A compiled end-to-end model whose vocabulary comes from `train_texts`.

    Adam and categorical cross-entropy over one-hot labels, as in the reference article; gradient
    clipping comes from `config.clipnorm`.
    """
    inputs = keras.Input(shape=(1,), dtype="string", name="text")
    if config.family == "mlp":
        hidden = _mlp_body(config, _tf_idf_features(config, train_texts, inputs))
    else:
        hidden = _sequence_body(config, _token_ids(config, train_texts, inputs))
    outputs = layers.Dense(len(classes), activation="softmax", name="probabilities")(hidden)
    model = keras.Model(inputs, outputs, name=f"{config.family}_sentiment")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


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


def _mlp_body(config: TrainConfig, features: keras.KerasTensor) -> keras.KerasTensor:
    hidden = features
    for index, units in enumerate(config.layer_sizes):
        hidden = layers.Dense(units, activation="relu", name=f"dense_{index + 1}")(hidden)
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


def describe(model: keras.Model) -> str:
    """The Keras summary as text, for the Train page and the CLI."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)
