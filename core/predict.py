"""Fast predictions from a trained model: about a millisecond per text instead of `model.predict`'s ~50 ms.

`model.predict` builds a data pipeline on every call; a `tf.function` traced once with a string input
signature skips all of that, and its concrete function is safe to call from many threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from core.config import TrainConfig
from core.encoder import Encoding, check_identity
from core.errors import RegistryError
from core.evaluate import check_threshold, decide
from core.model import VECTORS_INPUT
from core.registry import THRESHOLD_KEY, load_model_folder, read_model_folder

# Texts longer than this are cut before prediction: sequence models read only the first tokens anyway,
# and a 1,000,000-character paste should not stall a shared server.
MAX_TEXT_CHARACTERS = 20_000
_BATCH = 2048


class Prediction(NamedTuple):
    label: str
    probabilities: dict[str, float]


class Predictor:
    """Wraps an end-to-end Keras model (raw strings in, softmax out) with its class names and, for two classes,
    the decision threshold saved with it (P(classes[1]) at which classes[1] is predicted; None: the likeliest).

    A model over sentence-encoder vectors is given its `encoding` too: the predictor embeds the texts (through
    the vector cache) and feeds the vectors beside them.
    """

    def __init__(self, model: keras.Model, classes: Sequence[str], threshold: float | None = None,
                 encoding: Encoding | None = None) -> None:
        """Raises:
            ConfigError: a threshold is given for a model without two classes, or is outside (0, 1).
            RegistryError: the model reads encoder vectors and no encoding is given.
        """
        self.model = model
        self.classes = tuple(classes)
        if threshold is not None:
            check_threshold(threshold, self.classes)
        self.threshold = threshold
        self.encoding = encoding
        inputs = {tensor.name for tensor in model.inputs}
        self._reads_text = "text" in inputs
        if VECTORS_INPUT in inputs and encoding is None:
            raise RegistryError("This model reads sentence-encoder vectors, but no encoding was given for it.")
        self._serve = self._trace(model, vectors=encoding is not None)

    def _trace(self, model: keras.Model, vectors: bool) -> Callable[..., tf.Tensor]:
        """The model's serving function, traced now so the first user's keystroke does not pay for it."""
        if not vectors:
            serve = tf.function(lambda texts: model(tf.reshape(texts, (-1, 1)), training=False),
                                input_signature=[tf.TensorSpec([None], tf.string)])
            return serve.get_concrete_function()
        reads_text = self._reads_text

        def serve_vectors(texts: tf.Tensor, vectors: tf.Tensor) -> tf.Tensor:
            inputs = {VECTORS_INPUT: vectors, **({"text": tf.reshape(texts, (-1, 1))} if reads_text else {})}
            return model(inputs, training=False)

        width = next(tensor.shape[-1] for tensor in model.inputs if tensor.name == VECTORS_INPUT)
        signature = [tf.TensorSpec([None], tf.string), tf.TensorSpec([None, width], tf.float32)]
        return tf.function(serve_vectors, input_signature=signature).get_concrete_function()

    @classmethod
    def of_config(cls, model: keras.Model, classes: Sequence[str], config: TrainConfig) -> Predictor:
        """The predictor of a model just trained with `config`, fed encoder vectors when the config reads them."""
        return cls(model, classes, encoding=Encoding.of(config) if config.uses_encoder else None)

    @classmethod
    def load(cls, model_dir: str | Path) -> Predictor:
        """Load a saved model directory (model.keras + metadata.json) in Keras safe mode.

        Raises:
            ModelNotFoundError: the directory does not exist.
            RegistryError: the model or its metadata cannot be read.
        """
        info = read_model_folder(model_dir)
        if info.broken:
            raise RegistryError(f"The model {info.name!r} is broken: {info.broken}")
        encoding = None
        if info.reads_encoder:  # checked before loading: without the encoder the model is useless
            check_identity(info.metadata["encoder"])
            encoding = Encoding.of(TrainConfig.from_dict(info.metadata["config"]))
        return cls(load_model_folder(info.path), info.metadata["classes"], info.metadata.get(THRESHOLD_KEY), encoding)

    @property
    def max_tokens_read(self) -> int | None:
        """How many tokens of a text the model reads: a sequence model's sequence length (its vectorizer cuts
        the rest); None when it reads every token (TF-IDF, encoder vectors)."""
        vectorizer = next((layer for layer in self.model.layers if layer.name == "vectorizer"), None)
        return None if vectorizer is None else vectorizer.get_config().get("output_sequence_length")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(classes)), in `classes` order."""
        clipped = [str(text)[:MAX_TEXT_CHARACTERS] for text in texts]
        if not clipped:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        chunks = [self._serve_batch(clipped[start : start + _BATCH]) for start in range(0, len(clipped), _BATCH)]
        return np.concatenate(chunks).astype(np.float32)

    def labels(self, probabilities: np.ndarray) -> list[str]:
        """The label predicted for each row of probabilities: the likeliest, or as the threshold decides."""
        return [self.classes[index] for index in decide(probabilities, self.threshold)] if len(probabilities) else []

    def _serve_batch(self, texts: list[str]) -> np.ndarray:
        strings = tf.constant(texts, dtype=tf.string)
        if self.encoding is None:
            return self._serve(strings).numpy()
        return self._serve(strings, tf.constant(self.encoding.embed(texts))).numpy()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The predicted label (see `labels`) and every class's probability, for each text."""
        probabilities = self.predict_proba(texts)
        return [Prediction(label, dict(zip(self.classes, map(float, row))))
                for label, row in zip(self.labels(probabilities), probabilities)]
