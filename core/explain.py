"""Which words made a prediction: each token is left out in turn, and the predicted class's probability is
compared with and without it.

Leaving one token out works the same for every family (bag of n-grams, LSTM, GRU, CNN), needs no gradients
through the string preprocessing inside the model, and costs one batched call of n + 1 short texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.predict import Predictor
from core.text import tokenize

# Longer texts are explained by their first tokens: n + 1 predictions per keystroke must stay cheap.
MAX_EXPLAINED_TOKENS = 200


@dataclass(frozen=True)
class Explanation:
    """The label explained and, per token in reading order, how much the token raised (> 0) or lowered (< 0)
    that label's probability: the probability with every token minus the probability without this one."""

    label: str
    probability: float
    tokens: list[str]
    influence: list[float]


def explain(predictor: Predictor, text: str) -> Explanation:
    """Explains the prediction for `text` token by token.

    The texts scored are the model's own tokens (lowercased, Chinese split into characters) joined by spaces,
    which the model splits back into exactly those tokens, so only the left-out token changes.
    """
    tokens = tokenize([text])[0][:MAX_EXPLAINED_TOKENS]
    variants = [" ".join(tokens)] + [" ".join(tokens[:index] + tokens[index + 1 :]) for index in range(len(tokens))]
    probabilities = predictor.predict_proba(variants)
    label = predictor.classes.index(predictor.labels(probabilities[:1])[0])  # the label Predict shows
    influence = probabilities[0, label] - probabilities[1:, label]
    return Explanation(predictor.classes[label], float(probabilities[0, label]), tokens, influence.tolist())
