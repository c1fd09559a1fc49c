"""How raw text becomes tokens: one standardize function inside every saved model, and a fast vocabulary.

The same TensorFlow ops serve training, prediction and the Data page's token preview, so what a user sees
is exactly what the model reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

# Scripts written without spaces between words: each character becomes a token (and, with n-grams,
# neighbouring characters become bigrams), which is how Chinese sentiment models are usually fed.
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
# "!", "?" and emoji carry sentiment, so they stay as tokens of their own; other punctuation goes.
_KEPT_SYMBOLS = r"!?\p{So}"
# The two per-character rules of `standardize`, named so core/litert.py can tabulate them for the exported
# numpy preprocessor: characters that become tokens of their own, and characters that become a space.
ISOLATED_CHARACTER = rf"[{_CJK}{_KEPT_SYMBOLS}]"
DROPPED_CHARACTER = rf"[^\p{{L}}\p{{N}}\p{{M}}\s{_KEPT_SYMBOLS}']"
# The longest sequence an automatic sequence length reads: tokens after it are cut (core/health.py warns).
MAX_AUTO_SEQUENCE_LENGTH = 400


@keras.saving.register_keras_serializable(package="sentiment_studio")
def standardize(text: tf.Tensor) -> tf.Tensor:
    """Lowercase, drop HTML tags, split CJK into characters, keep ! ? and emoji, drop other punctuation.

    Registered as serializable so a saved model that uses it loads in Keras safe mode.
    """
    text = tf.strings.lower(text)
    # IMDB-style reviews carry `<br />` tags that the default standardizer would turn into "br" tokens.
    text = tf.strings.regex_replace(text, r"<[^>]*>", " ")
    text = tf.strings.regex_replace(text, f"({ISOLATED_CHARACTER})", r" \1 ")
    text = tf.strings.regex_replace(text, DROPPED_CHARACTER, " ")
    # Apostrophes only count inside words ("don't"), not as quotes around them.
    return tf.strings.regex_replace(text, r"(^|\s)'+|'+(\s|$)", " ")


def _split_tokens(texts: Sequence[str]) -> tf.RaggedTensor:
    return tf.strings.split(standardize(tf.constant(list(texts), dtype=tf.string)))


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """The tokens the model reads for each text, for showing to the user."""
    if not texts:
        return []
    return [[token.decode("utf-8") for token in row] for row in _split_tokens(texts).to_list()]


@dataclass(frozen=True)
class Vocabulary:
    """Tokens by descending frequency, with the inverse document frequencies TF-IDF needs."""

    tokens: list[str]
    idf_weights: np.ndarray


def build_vocabulary(texts: Sequence[str], *, max_tokens: int, ngrams: int = 1) -> Vocabulary:
    """Count tokens (or 1..n-grams) in TensorFlow and numpy, far faster than `TextVectorization.adapt`.

    The n-grams are joined with a space, as `TextVectorization(ngrams=n)` joins them, so the result can be
    handed to `set_vocabulary`. Ties in frequency are broken alphabetically to keep training reproducible.
    """
    tokens = _split_tokens(texts)
    if ngrams > 1:
        tokens = tf.strings.ngrams(tokens, ngram_width=tuple(range(1, ngrams + 1)), separator=" ")
    unique, token_ids = tf.unique(tokens.flat_values)
    unique = unique.numpy()
    token_ids = token_ids.numpy().astype(np.int64)
    counts = np.bincount(token_ids, minlength=len(unique))
    # Document frequency: count each (document, token) pair once.
    pairs = np.unique(tokens.value_rowids().numpy() * len(unique) + token_ids)
    document_counts = np.bincount(pairs % len(unique), minlength=len(unique))
    order = np.lexsort((unique, -counts))[:max_tokens]
    idf = np.log(1.0 + len(texts) / (1.0 + document_counts[order]))
    return Vocabulary([token.decode("utf-8") for token in unique[order]], idf.astype(np.float32))


def ngram_width_for(texts: Sequence[str]) -> int:
    """The n-gram width "auto" means: 3 when most tokens of `texts` are CJK characters, 2 otherwise.

    A CJK character is about a morpheme, so character trigrams still span only a word or two, while word
    trigrams of English are too rare to learn from: at the same settings 3 beat 2 on both Chinese corpora
    and lost on both English ones (bench/RESULTS.md, "Chinese settings chosen across corpora").
    """
    tokens = _split_tokens(texts).flat_values if texts else tf.constant([], dtype=tf.string)
    characters = int(tf.math.count_nonzero(tf.strings.regex_full_match(tokens, f"[{_CJK}]")))
    return 3 if 2 * characters > int(tf.size(tokens)) else 2


def token_counts(texts: Sequence[str]) -> np.ndarray:
    """How many tokens the model reads from each text, computed in TensorFlow (fast on 50,000 texts)."""
    return _split_tokens(texts).row_lengths().numpy() if texts else np.zeros(0, dtype=np.int64)


def sequence_length_for(texts: Sequence[str], percentile: float = 95.0) -> int:
    """A sequence length that covers most texts whole without padding everything to the longest one."""
    lengths = token_counts(texts)
    return int(np.clip(np.percentile(lengths, percentile) if len(lengths) else 16, 16, MAX_AUTO_SEQUENCE_LENGTH))


@keras.saving.register_keras_serializable(package="sentiment_studio")
class SparseTfIdf(keras.layers.Layer):
    """TF-IDF from sparse n-gram counts, kept sparse: sublinear term frequency, rows scaled to unit length.

    `TextVectorization(output_mode="tf_idf")` returns a dense (batch, vocabulary) array: with a 50,000-token
    vocabulary a 2,048-text batch is 400 MB of mostly zeros, and `sparse=True` with tf_idf fails in Keras
    3.15. Counts stay sparse here, and `Dense` multiplies a sparse input directly.

    With `normalize` (what scikit-learn's `TfidfVectorizer(sublinear_tf=True)` does) a word's fifth
    occurrence adds less than its first, and long reviews do not swamp the first layer: 4-seed means rose
    0.5-0.9 points on the Chinese and movie corpora and the seeds agreed more (bench/RESULTS.md).
    Models saved before it existed load with `normalize=False` and predict as they did.
    """

    def __init__(self, vocabulary_size: int, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.normalize = normalize
        self.idf = self.add_weight(shape=(vocabulary_size,), initializer="ones", trainable=False, name="idf")

    def set_idf(self, vocabulary: Vocabulary) -> None:
        """Index 0 is the out-of-vocabulary slot; like Keras' tf_idf mode it gets the mean weight."""
        weights = np.concatenate([[vocabulary.idf_weights.mean()], vocabulary.idf_weights])
        self.idf.assign(weights.astype(np.float32))

    def compute_output_spec(self, counts: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor(counts.shape, dtype="float32", sparse=True)

    def call(self, counts: tf.SparseTensor) -> tf.SparseTensor:
        term_frequency = tf.cast(counts.values, tf.float32)
        if self.normalize:
            term_frequency = 1.0 + tf.math.log(term_frequency)
        weights = tf.gather(keras.ops.convert_to_tensor(self.idf), counts.indices[:, -1]) * term_frequency
        if self.normalize:
            rows = counts.indices[:, 0]
            squared_norms = tf.math.unsorted_segment_sum(tf.square(weights), rows, num_segments=counts.dense_shape[0])
            weights *= tf.gather(tf.math.rsqrt(tf.maximum(squared_norms, 1e-12)), rows)
        return tf.SparseTensor(counts.indices, weights, counts.dense_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "normalize": self.normalize}
