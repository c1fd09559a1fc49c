"""Which words made a prediction: each token is left out in turn, and the predicted label's log-odds are
compared with and without it.

Leaving one token out works the same for every family (bag of n-grams, LSTM, GRU, CNN), needs no gradients
through the string preprocessing inside the model, and costs one batched call of n + 2 texts (a long text is
left out a few neighbouring tokens at a time, so n stays small).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.predict import MAX_TEXT_CHARACTERS, Predictor
from core.text import tokenize

# A text is explained in at most this many parts, so a keystroke costs at most this many predictions: a longer
# text is left out a run of neighbouring tokens at a time, never cut, so the explanation covers every token the
# model read and explains the prediction the page shows (cutting at 200 tokens once explained another one).
MAX_EXPLAINED_PARTS = 200
# Tokens scored in all those predictions together: each of them reads nearly the whole text, and 20,000 Chinese
# characters in 200 parts (4 million tokens, as trigrams) took 4 s; 1 million take about half a second.
TOKENS_SCORED = 1_000_000
# Probabilities below this count as this: keeps log-odds finite when a class underflows to exactly 0.
_TINY = 1e-30


@dataclass(frozen=True)
class Explanation:
    """The label explained and, per part in reading order, how much the part raised (> 0) or lowered (< 0)
    that label's log-odds (natural log of P(label) / P(any other class)): with every token minus without it.

    Log-odds, not probability: at 99.6% leaving out a decisive word may move the probability by 0.001 while its
    log-odds move by several units, so confident predictions still show which words decided them.
    """

    label: str  # the label predicted for the text as given: the one the Predict page shows
    probability: float
    tokens: list[str]  # the parts left out: single tokens, or runs of `part_size` tokens joined by spaces
    influence: list[float]
    part_size: int = 1  # tokens per part: above 1 only for a text of more than MAX_EXPLAINED_PARTS tokens
    tokens_read: int = 0  # tokens the model reads: all of the text's, or a sequence model's first ones
    tokens_total: int = 0  # tokens in the text


def log_odds(probabilities: np.ndarray, label: int) -> np.ndarray:
    """Natural log of P(label) / P(every other class), per row.

    The other classes' probabilities are summed rather than taken as 1 - P(label): in float32 a 99.99999%
    label rounds to exactly 1.0, but the small probabilities of the others keep their digits.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    others = np.delete(probabilities, label, axis=1).sum(axis=1)
    return np.log(np.maximum(probabilities[:, label], _TINY)) - np.log(np.maximum(others, _TINY))


def explain(predictor: Predictor, text: str) -> Explanation:
    """Explains the prediction for `text` over the tokens the model reads, one part left out at a time.

    The label is the one predicted for `text` itself. The texts compared are the model's own tokens
    (lowercased, Chinese split into characters) joined by spaces, which the model splits back into exactly
    those tokens, so only the left-out part changes; a sequence model's tokens past its sequence length are
    not read, so they are not explained either.
    """
    tokens = tokenize([text[:MAX_TEXT_CHARACTERS]])[0]
    read = tokens[: predictor.max_tokens_read] if predictor.max_tokens_read else tokens
    parts = min(MAX_EXPLAINED_PARTS, max(1, TOKENS_SCORED // max(len(read), 1)))
    size = max(1, math.ceil(len(read) / parts))
    starts = range(0, len(read), size)
    variants = [" ".join(read)] + [" ".join(read[:start] + read[start + size :]) for start in starts]
    probabilities = predictor.predict_proba([text, *variants])
    label = predictor.classes.index(predictor.labels(probabilities[:1])[0])
    odds = log_odds(probabilities[1:], label)
    return Explanation(predictor.classes[label], float(probabilities[0, label]),
                       [" ".join(read[start : start + size]) for start in starts], (odds[0] - odds[1:]).tolist(),
                       size, len(read), len(tokens))
