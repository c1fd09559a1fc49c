"""Which words made a prediction: each token is left out in turn, and the predicted label's log-odds are
compared with and without it.

Leaving one token out works the same for every family (bag of n-grams, LSTM, GRU, CNN), needs no gradients
through the string preprocessing inside the model, and costs one batched call of n + 1 short texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.predict import Predictor
from core.text import tokenize

# Longer texts are explained by their first tokens: n + 1 predictions per keystroke must stay cheap.
MAX_EXPLAINED_TOKENS = 200
# Probabilities below this count as this: keeps log-odds finite when a class underflows to exactly 0.
_TINY = 1e-30


@dataclass(frozen=True)
class Explanation:
    """The label explained and, per token in reading order, how much the token raised (> 0) or lowered (< 0)
    that label's log-odds (natural log of P(label) / P(any other class)): with every token minus without it.

    Log-odds, not probability: at 99.6% leaving out a decisive word may move the probability by 0.001 while its
    log-odds move by several units, so confident predictions still show which words decided them.
    """

    label: str
    probability: float
    tokens: list[str]
    influence: list[float]


def log_odds(probabilities: np.ndarray, label: int) -> np.ndarray:
    """Natural log of P(label) / P(every other class), per row.

    The other classes' probabilities are summed rather than taken as 1 - P(label): in float32 a 99.99999%
    label rounds to exactly 1.0, but the small probabilities of the others keep their digits.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    others = np.delete(probabilities, label, axis=1).sum(axis=1)
    return np.log(np.maximum(probabilities[:, label], _TINY)) - np.log(np.maximum(others, _TINY))


def explain(predictor: Predictor, text: str) -> Explanation:
    """Explains the prediction for `text` token by token.

    The texts scored are the model's own tokens (lowercased, Chinese split into characters) joined by spaces,
    which the model splits back into exactly those tokens, so only the left-out token changes.
    """
    tokens = tokenize([text])[0][:MAX_EXPLAINED_TOKENS]
    variants = [" ".join(tokens)] + [" ".join(tokens[:index] + tokens[index + 1 :]) for index in range(len(tokens))]
    probabilities = predictor.predict_proba(variants)
    label = predictor.classes.index(predictor.labels(probabilities[:1])[0])  # the label Predict shows
    odds = log_odds(probabilities, label)
    influence = odds[0] - odds[1:]
    return Explanation(predictor.classes[label], float(probabilities[0, label]), tokens, influence.tolist())
