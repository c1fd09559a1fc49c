"""How well `core.suspects` finds wrong labels: flip a seeded 5% of a corpus's labels, then count how many of the
flagged rows are flipped ones (precision) and how many flipped ones are flagged (recall).

The peer is the same confident-learning ranking fed with out-of-fold probabilities of scikit-learn's TF-IDF +
logistic regression on the same folds, so the two differ only in the model. The corpora carry label noise of
their own (about 2.7% of ChnSentiCorp's test labels look wrong, its README says): a flagged row that was not
flipped may still be mislabelled, so the precision here is a lower bound.

    .venv/bin/python bench/suspects.py --rows 6000 --json bench/out/suspects.json
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from _common import base_parser, command_line, load_corpus, make_peer, report, require_datasets

CORPORA = ("mr", "chnsenticorp")
FLIP_SHARE = 0.05


def flip_labels(dataset: Any, share: float, seed: int) -> tuple[Any, set[int]]:
    """The dataset with a seeded random `share` of its rows given another class (chosen at random), and those
    rows' positions."""
    from core.data import Dataset

    rng = np.random.default_rng(seed)
    flipped = set(rng.choice(len(dataset), size=round(share * len(dataset)), replace=False).tolist())
    labels = list(dataset.labels)
    for position in flipped:
        labels[position] = str(rng.choice([label for label in dataset.classes if label != labels[position]]))
    return Dataset(dataset.texts, tuple(labels), dataset.report), flipped


def peer_probabilities(corpus: str, dataset: Any, folds: int, seed: int) -> np.ndarray:
    """Out-of-fold probabilities of the scikit-learn peer on the folds `core.suspects` uses."""
    from core.suspects import fold_assignment

    assignment = fold_assignment(dataset, folds, seed)
    texts, labels = np.array(dataset.texts, dtype=object), np.array(dataset.labels, dtype=object)
    probabilities = np.zeros((len(dataset), len(dataset.classes)))
    for fold in range(folds):
        held = assignment == fold
        pipeline = make_peer(corpus).fit(list(texts[~held]), list(labels[~held]))
        assert tuple(pipeline.classes_) == dataset.classes  # columns in the order rank_suspects reads them
        probabilities[held] = pipeline.predict_proba(list(texts[held]))
    return probabilities


def scores(suspects: list[Any], flipped: set[int]) -> dict[str, Any]:
    """Precision among the top 1% and the top k flagged rows (k = rows flipped), and over all flagged rows."""
    flagged = [suspect.position for suspect in suspects]
    k = len(flipped)
    top_share = max(1, k // 5)
    hits = lambda rows: len(set(rows) & flipped)  # noqa: E731
    return {
        "flipped": k, "flagged": len(flagged),
        "precision top 1%": hits(flagged[:top_share]) / top_share,
        "precision top k": hits(flagged[:k]) / k, "recall top k": hits(flagged[:k]) / k,
        "precision all flagged": hits(flagged) / max(len(flagged), 1), "recall all flagged": hits(flagged) / k,
    }


def measure(corpus: str, rows: int | None, folds: int, seed: int) -> list[dict[str, Any]]:
    from core.config import preset
    from core.suspects import find_suspects, rank_suspects

    dataset, flipped = flip_labels(load_corpus(corpus, train_rows=rows).train, FLIP_SHARE, seed)
    started = time.perf_counter()
    ours = find_suspects(dataset, folds, preset("default").replace(seed=seed))
    our_seconds = time.perf_counter() - started
    started = time.perf_counter()
    peer = rank_suspects(dataset, peer_probabilities(corpus, dataset, folds, seed))
    peer_seconds = time.perf_counter() - started
    return [
        {"corpus": corpus, "rows": len(dataset), "model": "default (ours)", **scores(ours, flipped),
         "seconds": our_seconds},
        {"corpus": corpus, "rows": len(dataset), "model": "peer: TF-IDF + LR", **scores(peer, flipped),
         "seconds": peer_seconds},
    ]


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="first rows of each train.csv only (the files are shuffled)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42, help="decides the flipped rows, the folds and training")
    args = parser.parse_args()
    require_datasets()
    rows = 600 if args.quick else args.rows
    table = [row for corpus in CORPORA for row in measure(corpus, rows, args.folds, args.seed)]
    report("Suspect labels: 5% of labels flipped", command_line(), {"suspects": table}, args.json)


if __name__ == "__main__":
    main()
