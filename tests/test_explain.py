"""Leave-one-token-out explanations: the word that gives the label away is the one that matters most."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import TrainConfig
from core.data import Dataset
from core.explain import MAX_EXPLAINED_TOKENS, explain
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


def test_influence_is_the_drop_in_probability_without_the_token(predictor: Predictor) -> None:
    explanation = explain(predictor, "great phone")
    index = explanation.tokens.index("phone")
    without = predictor.predict(["great"])[0].probabilities[explanation.label]
    assert explanation.influence[index] == pytest.approx(explanation.probability - without, abs=1e-6)
    assert explanation.probability == pytest.approx(predictor.predict(["great phone"])[0].probabilities[explanation.label])


def test_empty_and_very_long_texts(predictor: Predictor) -> None:
    empty = explain(predictor, "   ")
    assert (empty.tokens, empty.influence) == ([], []) and empty.label in predictor.classes
    long = explain(predictor, "great " * 1000)
    assert len(long.tokens) == len(long.influence) == MAX_EXPLAINED_TOKENS
