"""Leave-one-token-out explanations: the word that gives the label away is the one that matters most."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.config import TrainConfig
from core.data import Dataset
from core.explain import MAX_EXPLAINED_TOKENS, explain, log_odds
from core.predict import Predictor
from core.training import TrainingJob
from tests.conftest import make_texts


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    texts, labels = make_texts(200)
    config = TrainConfig(family="mlp", layer_sizes=[8], vocab_size=500, epochs=8, batch_size=8, learning_rate=0.05,
                         early_stopping=False)
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
    assert len(long.tokens) == len(long.influence) == MAX_EXPLAINED_TOKENS


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
