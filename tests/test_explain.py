"""Leave-one-token-out explanations: the word that gives the label away is the one that matters most."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.config import TrainConfig
from core.data import Dataset
from core.explain import MAX_EXPLAINED_PARTS, TOKENS_SCORED, explain, log_odds
from core.model import build_model
from core.predict import MAX_TEXT_CHARACTERS, Predictor
from core.text import tokenize
from core.training import TrainingJob
from tests.support import make_texts, tiny_config


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    texts, labels = make_texts(200)
    config = tiny_config(epochs=8, batch_size=8, learning_rate=0.05, early_stopping=False)
    job = TrainingJob(config, Dataset(tuple(texts), tuple(labels))).start()
    job.wait(timeout=120)
    assert job.model is not None, job.snapshot().error
    return Predictor(job.model, job.classes)


@pytest.mark.parametrize(("text", "word", "label"), [
    ("The hotel service was EXCELLENT really", "excellent", "positive"),
    ("这个酒店很差", "差", "negative"),
])
def test_the_sentiment_word_matters_most(predictor: Predictor, text: str, word: str, label: str) -> None:
    explanation = explain(predictor, text)
    assert explanation.label == label
    assert explanation.tokens[int(np.argmax(explanation.influence))] == word
    assert max(explanation.influence) > 0.1


def _log_odds(predictor: Predictor, text: str, label: str) -> float:
    probability = predictor.predict([text])[0].probabilities[label]
    return math.log(probability / (1 - probability))


def test_influence_is_the_drop_in_log_odds_without_the_token(predictor: Predictor) -> None:
    explanation = explain(predictor, "great phone")
    index = explanation.tokens.index("phone")
    expected = _log_odds(predictor, "great phone", explanation.label) - _log_odds(predictor, "great", explanation.label)
    assert explanation.influence[index] == pytest.approx(expected, abs=1e-3)
    assert explanation.probability == pytest.approx(predictor.predict(["great phone"])[0].probabilities[explanation.label])


def test_empty_and_very_long_texts(predictor: Predictor) -> None:
    empty = explain(predictor, "   ")
    assert (empty.tokens, empty.influence) == ([], []) and empty.label in predictor.classes
    long = explain(predictor, "great " * 1000)
    assert len(long.tokens) == len(long.influence) == MAX_EXPLAINED_PARTS and long.part_size == 5
    assert (long.tokens_read, long.tokens_total) == (1000, 1000)


def test_a_long_text_is_explained_as_the_label_the_page_shows(predictor: Predictor) -> None:
    # Issue 16.11: 300 negative tokens, then 1,500 positive ones. Explaining only the first 200 tokens said
    # "negative" while the page showed "positive".
    text = "terrible awful hotel " * 100 + "great excellent love " * 500
    shown = predictor.predict([text])[0]
    explanation = explain(predictor, text)
    assert shown.label == explanation.label == "positive"
    assert explanation.probability == pytest.approx(shown.probabilities["positive"])
    # Every token the model read is in one part, in order, and parts are left out whole.
    assert " ".join(explanation.tokens).split() == tokenize([text])[0]
    assert len(explanation.tokens) <= MAX_EXPLAINED_PARTS and explanation.part_size == 9
    assert sum(explanation.influence[-50:]) > 0  # the positive tail pulls toward the label shown


def test_a_part_pulls_by_the_change_in_log_odds_without_it(predictor: Predictor) -> None:
    text = "terrible awful hotel " * 100 + "great excellent love " * 500
    explanation = explain(predictor, text)
    tokens, size = tokenize([text])[0], explanation.part_size
    with_all, without_first = predictor.predict_proba([" ".join(tokens), " ".join(tokens[size:])])
    label = predictor.classes.index(explanation.label)
    expected = log_odds(np.array([with_all, without_first]), label)
    assert explanation.influence[0] == pytest.approx(expected[0] - expected[1], abs=1e-4)


def test_the_longest_text_scores_a_bounded_number_of_tokens(predictor: Predictor) -> None:
    explanation = explain(predictor, "酒店很差" * MAX_TEXT_CHARACTERS)  # cut to 20,000 characters, one token each
    assert explanation.tokens_total == MAX_TEXT_CHARACTERS
    assert len(explanation.tokens) * explanation.tokens_read <= TOKENS_SCORED
    assert explanation.label == predictor.predict(["酒店很差" * MAX_TEXT_CHARACTERS])[0].label


def test_a_sequence_model_is_explained_over_the_tokens_it_reads() -> None:
    texts, labels = make_texts(40)
    config = TrainConfig(family="lstm", layer_sizes=[4], vocab_size=200, embedding_dim=4, sequence_length=30)
    sequence = Predictor(build_model(config, texts, ("negative", "positive")), ("negative", "positive"))
    assert sequence.max_tokens_read == 30
    text = "great phone " * 50
    explanation = explain(sequence, text)
    assert (explanation.tokens_read, explanation.tokens_total, len(explanation.tokens)) == (30, 100, 30)
    assert explanation.label == sequence.predict([text])[0].label


def test_a_confident_prediction_still_shows_its_deciding_words(predictor: Predictor) -> None:
    text = "酒店很差，很失望"
    explanation = explain(predictor, text)
    assert explanation.label == "negative" and explanation.probability > 0.996
    tokens = explanation.tokens
    variants = [" ".join(tokens[:index] + tokens[index + 1 :]) for index in range(len(tokens))]
    drops = [explanation.probability - p.probabilities["negative"] for p in predictor.predict(variants)]
    # In probability no word moves the prediction by a point (so the old measure coloured nothing here) ...
    assert max(map(abs, drops)) < 0.01
    # ... in log-odds the sentiment characters stand out, each ahead of every filler character.
    pulls = dict(zip(tokens, explanation.influence))
    assert min(pulls["差"], pulls["失"], pulls["望"]) > 1.0
    assert min(pulls["差"], pulls["失"], pulls["望"]) > max(pulls["酒"], pulls["店"])


def test_log_odds_do_not_saturate() -> None:
    # 1 - 1e-9 rounds to 1.0 in float32; the other class keeps its digits, so the log-odds stay finite and ordered.
    probabilities = np.array([[1e-9, 1.0], [1e-6, 1.0], [0.5, 0.5]], dtype=np.float32)
    odds = log_odds(probabilities, 1)
    assert np.all(np.isfinite(odds)) and odds[0] > odds[1] > odds[2] == pytest.approx(0.0)
    assert odds[0] == pytest.approx(-math.log(1e-9), rel=1e-4)
