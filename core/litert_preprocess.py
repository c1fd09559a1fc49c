"""Run an exported Sentiment Studio model with numpy and a TensorFlow Lite interpreter, without TensorFlow.

This file is copied into every TensorFlow Lite export folder, beside `model.tflite` and `preprocessing.json`.
It needs only the standard library and numpy, plus `ai-edge-litert` (or TensorFlow's own `tf.lite`) for the
interpreter. Strings are not TensorFlow Lite builtins, so the model file holds only the numeric part of the
network; `Preprocessor` turns texts into its input exactly as the app's `core/text.py` does in TensorFlow:
same standardisation, same tokens, same ids, same TF-IDF weights.

    from litert_preprocess import LiteModel
    model = LiteModel("path/to/export")
    model.predict(["What a great phone!"])  # -> [("positive", {"negative": 0.04, "positive": 0.96})]
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "model.tflite"
PREPROCESSING_FILE = "preprocessing.json"
# The text cut the app applies before prediction (core/predict.py), kept so both score the same texts.
MAX_TEXT_CHARACTERS = 20_000
_BATCH = 64
# TensorFlow's regex engine (RE2) counts only these as `\s`, and Python's `$` would also match before a
# final newline, hence `\Z`.
_TAG = re.compile(r"<[^>]*>")
_QUOTE_APOSTROPHES = re.compile(r"(^|[\t\n\f\r ])'+|'+([\t\n\f\r ]|\Z)")
_WHITESPACE = re.compile(r"[\t\n\v\f\r ]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _CharacterTable(dict):
    """What standardisation makes of each character: itself, itself between spaces, or a space.

    Built from code point ranges that were read off TensorFlow's own regular expressions at export time,
    so the Unicode tables agree with the ones the model was trained with; filled lazily, one character at
    a time, because most texts use a few hundred distinct characters.
    """

    def __init__(self, isolated: Sequence[Sequence[int]], dropped: Sequence[Sequence[int]]) -> None:
        super().__init__()
        ranges = sorted([(start, end, "isolated") for start, end in isolated]
                        + [(start, end, "dropped") for start, end in dropped])
        self._starts = [start for start, _, _ in ranges]
        self._ranges = ranges

    def __missing__(self, character: str) -> str:
        position = bisect.bisect_right(self._starts, ord(character)) - 1
        kind = None
        if position >= 0 and ord(character) <= self._ranges[position][1]:
            kind = self._ranges[position][2]
        replacement = {"isolated": f" {character} ", "dropped": " "}.get(kind, character)
        self[character] = replacement
        return replacement


class Preprocessor:
    """Texts to the model's numeric input: padded token ids (lstm, gru, cnn) or TF-IDF rows (mlp)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.classes: tuple[str, ...] = tuple(spec["classes"])
        self.vocabulary: list[str] = spec["vocabulary"]
        self._index = {token: position for position, token in enumerate(self.vocabulary)}
        self._characters = _CharacterTable(spec["characters"]["isolated"], spec["characters"]["dropped"])
        self._idf = np.asarray(spec.get("idf") or [], dtype=np.float32)

    @classmethod
    def load(cls, folder: str | Path) -> Preprocessor:
        return cls(json.loads((Path(folder) / PREPROCESSING_FILE).read_text(encoding="utf-8")))

    def standardize(self, text: str) -> str:
        """Lowercase (ASCII only, as tf.strings.lower), drop HTML tags, space out CJK, ! ? and emoji, drop
        other punctuation, and drop apostrophes that quote rather than join."""
        text = _TAG.sub(" ", text.translate(_ASCII_LOWER))
        text = "".join([self._characters[character] for character in text])
        return _QUOTE_APOSTROPHES.sub(" ", text)

    def tokens(self, text: str) -> list[str]:
        return [token for token in _WHITESPACE.split(self.standardize(text)) if token]

    def token_ids(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), sequence_length) int32: 0 pads, 1 is out of vocabulary, longer texts are cut."""
        length = self.spec["sequence_length"]
        ids = np.zeros((len(texts), length), dtype=np.int32)
        for row, text in enumerate(texts):
            found = [self._index.get(token, 1) for token in self.tokens(text)[:length]]
            ids[row, : len(found)] = found
        return ids

    def tf_idf(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), vocabulary size) float32: counts of 1..n-grams (column 0 counts unknown ones) weighted
        by IDF, with sublinear counts and unit-length rows when the model was trained so."""
        rows = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram in self._ngrams(self.tokens(text)):
                rows[row, self._index.get(gram, 0)] += 1.0
        if self.spec["normalize"]:
            counted = rows > 0
            rows[counted] = 1.0 + np.log(rows[counted])
        rows *= self._idf
        if self.spec["normalize"]:
            rows /= np.sqrt(np.maximum((rows * rows).sum(axis=1, keepdims=True), 1e-12))
        return rows

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """The model's input for `texts`, cut to the app's maximum text length."""
        texts = [str(text)[:MAX_TEXT_CHARACTERS] for text in texts]
        return self.tf_idf(texts) if self.spec["input"] == "tf_idf" else self.token_ids(texts)

    def _ngrams(self, tokens: list[str]) -> list[str]:
        """1..n-grams joined by a space, as `TextVectorization(ngrams=n)` builds them."""
        grams = list(tokens)
        for width in range(2, self.spec["ngrams"] + 1):
            grams += [" ".join(tokens[start : start + width]) for start in range(len(tokens) - width + 1)]
        return grams


def _interpreter_class() -> Any:
    """ai-edge-litert's interpreter, or TensorFlow's where only TensorFlow is installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


class LiteModel:
    """An export folder, ready to predict: `classes` and `predict_proba` as the app's own Predictor has."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        self.preprocessor = Preprocessor.load(folder)
        self.classes = self.preprocessor.classes
        self._interpreter = _interpreter_class()(model_path=str(folder / MODEL_FILE))
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = 0

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(classes)), in `classes` order."""
        chunks = [self._run(self.preprocessor.features(texts[start : start + _BATCH]))
                  for start in range(0, len(texts), _BATCH)]
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.classes)), dtype=np.float32)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, dict[str, float]]]:
        """The predicted label and every class's probability, for each text: the likeliest label, or with a
        saved decision threshold (two classes), the second class exactly when its probability reaches it."""
        threshold = self.preprocessor.spec.get("threshold")
        return [(self._label(row, threshold), dict(zip(self.classes, map(float, row))))
                for row in self.predict_proba(texts)]

    def _label(self, row: np.ndarray, threshold: float | None) -> str:
        # This file runs without the app, so it repeats core.evaluate.decide's rule rather than importing it.
        if threshold is None or len(self.classes) != 2:
            return self.classes[int(row.argmax())]
        return self.classes[1] if row[1] >= threshold else self.classes[0]

    def _run(self, features: np.ndarray) -> np.ndarray:
        if len(features) != self._batch:  # resizing re-plans the interpreter's memory, so only when needed
            self._interpreter.resize_tensor_input(self._input["index"], features.shape)
            self._interpreter.allocate_tensors()
            self._batch = len(features)
        self._interpreter.set_tensor(self._input["index"], features.astype(self._input["dtype"]))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).astype(np.float32)
