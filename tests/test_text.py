from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.text import SparseTfIdf, build_vocabulary, ngram_width_for, sequence_length_for, standardize, tokenize


def test_tokenize_lowercases_strips_html_and_keeps_sentiment_punctuation():
    assert tokenize(["Great <br />movie!! Don't MISS it 😀."]) == [["great", "movie", "!", "!", "don't", "miss", "it", "😀"]]


def test_chinese_is_split_into_characters_and_mixed_text_keeps_english_words():
    assert tokenize(["这家酒店很好", "性价比很高, 但是 app 很卡"]) == [
        ["这", "家", "酒", "店", "很", "好"],
        ["性", "价", "比", "很", "高", "但", "是", "app", "很", "卡"],
    ]


def test_quotes_around_words_are_dropped_but_apostrophes_inside_stay():
    assert tokenize(["'hello' it's"]) == [["hello", "it's"]]


def test_vocabulary_gives_the_same_tf_idf_features_as_keras_adapt():
    texts = ["good good movie", "bad movie", "很好 很好", "good 很"]
    ours = build_vocabulary(texts, max_tokens=100, ngrams=2)
    adapted = keras.layers.TextVectorization(standardize=standardize, ngrams=2, output_mode="tf_idf")
    adapted.adapt(texts)
    counted = keras.layers.TextVectorization(standardize=standardize, ngrams=2, output_mode="tf_idf")
    counted.set_vocabulary(ours.tokens, idf_weights=ours.idf_weights)
    assert sorted(ours.tokens) == sorted(adapted.get_vocabulary()[1:])  # [1:] skips the OOV token

    def features(layer: keras.layers.TextVectorization) -> list[dict[str, float]]:
        rows = keras.ops.convert_to_numpy(layer(texts))
        return [dict(zip(layer.get_vocabulary(), np.round(row, 5))) for row in rows]

    assert features(counted) == features(adapted)


def test_vocabulary_is_ordered_by_frequency_then_alphabetically_and_capped():
    vocabulary = build_vocabulary(["b a a c", "a b d"], max_tokens=3)
    assert vocabulary.tokens == ["a", "b", "c"]
    assert np.all(vocabulary.idf_weights > 0)


def test_chinese_bigrams_are_neighbouring_characters():
    assert "很 好" in build_vocabulary(["很好"], max_tokens=10, ngrams=2).tokens


def test_auto_ngram_width_is_three_for_mostly_cjk_text_and_two_otherwise():
    assert ngram_width_for(["房间很干净，服务也很好", "これはいい"]) == 3
    assert ngram_width_for(["the room was clean", "great service"]) == 2
    # Counted in tokens: one English word weighs as much as one Chinese character.
    assert ngram_width_for(["very good 很好", "not bad 不错"]) == 2
    assert ngram_width_for(["good 很好", "bad 不错"]) == 3
    assert ngram_width_for([]) == 2 and ngram_width_for(["!!"]) == 2


def test_sequence_length_covers_most_texts_within_bounds():
    assert sequence_length_for(["word " * 30] * 39 + ["word " * 300]) == 30
    assert sequence_length_for(["a"]) == 16


def test_sparse_tf_idf_equals_keras_dense_tf_idf():
    texts = ["good good movie", "bad movie 很好", "unseen words only"]
    vocabulary = build_vocabulary(texts[:2], max_tokens=100, ngrams=2)
    dense = keras.layers.TextVectorization(standardize=standardize, ngrams=2, output_mode="tf_idf")
    dense.set_vocabulary(vocabulary.tokens, idf_weights=vocabulary.idf_weights)
    counts = keras.layers.TextVectorization(standardize=standardize, ngrams=2, output_mode="count", sparse=True)
    counts.set_vocabulary(vocabulary.tokens)
    tf_idf = SparseTfIdf(len(vocabulary.tokens) + 1)
    tf_idf.set_idf(vocabulary)
    sparse = tf_idf(counts(texts))
    np.testing.assert_allclose(tf.sparse.to_dense(sparse).numpy(), keras.ops.convert_to_numpy(dense(texts)), rtol=1e-6)


def test_normalized_tf_idf_is_sublinear_and_unit_length_per_text():
    texts = ["good good good good movie", "bad", "", "unseen"]
    vocabulary = build_vocabulary(texts[:2], max_tokens=100)
    counts = keras.layers.TextVectorization(standardize=standardize, output_mode="count", sparse=True)
    counts.set_vocabulary(vocabulary.tokens)
    tf_idf = SparseTfIdf(len(vocabulary.tokens) + 1, normalize=True)
    tf_idf.set_idf(vocabulary)
    rows = tf.sparse.to_dense(tf_idf(counts(texts))).numpy()
    idf = dict(zip(vocabulary.tokens, vocabulary.idf_weights))
    good, movie = (1 + np.log(4)) * idf["good"], idf["movie"]
    columns = {token: index + 1 for index, token in enumerate(vocabulary.tokens)}
    np.testing.assert_allclose(rows[0, [columns["good"], columns["movie"]]], np.array([good, movie]) / np.hypot(good, movie), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), [1, 1, 0, 1], rtol=1e-6)  # empty text: all zeros


def test_models_saved_before_normalization_still_load_unnormalized():
    config = SparseTfIdf(10, name="tf_idf").get_config()
    config.pop("normalize")  # what a model saved by the earlier version holds
    assert SparseTfIdf.from_config(config).normalize is False
