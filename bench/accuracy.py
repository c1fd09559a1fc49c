"""Test accuracy, macro-F1, training time and memory of our presets against TF-IDF + logistic regression.

Each corpus's train.csv is split by `split_dataset` (10% validation, no test part) and both the peer and
our models fit on the same training rows; test.csv is the test set. Each model trains in its own process
so its memory peak is its own (--quick trains in-process to stay fast).

    .venv/bin/python bench/accuracy.py                      # every corpus, peer + all presets
    .venv/bin/python bench/accuracy.py --presets default --corpora mr
    .venv/bin/python bench/accuracy.py --tuned-peer --presets default   # also the peer with C=10
    .venv/bin/python bench/accuracy.py --quick              # 2,000 training rows, peer + default
"""

from __future__ import annotations

from typing import Any

from _common import (
    CORPORA,
    PeakMemory,
    PeerPredictor,
    base_parser,
    command_line,
    load_corpus,
    ratio,
    report,
    require_datasets,
    run_isolated,
    split_for_training,
    train_ours,
    train_peer,
)

PEER = "peer (tfidf+logreg)"
# The same peer with its regularisation tuned (C=10 instead of 1): what a practitioner reaches with a sweep.
TUNED_PEER = "tuned peer (C=10)"
PEER_REGULARIZATION = {PEER: 1.0, TUNED_PEER: 10.0}
QUICK_TRAIN_ROWS = 2_000
QUICK_TEST_ROWS = 500


def measure(corpus_name: str, model_name: str, train_rows: int | None, test_rows: int | None) -> dict[str, Any]:
    """Trains one model on one corpus and scores it on the test set; runs inside a worker process."""
    from core.config import preset
    from core.evaluate import evaluate
    from core.predict import Predictor

    corpus = load_corpus(corpus_name, train_rows=train_rows, test_rows=test_rows)
    config = preset("default" if model_name in PEER_REGULARIZATION else model_name)
    split = split_for_training(corpus.train, config)
    with PeakMemory() as memory:
        if model_name in PEER_REGULARIZATION:
            pipeline, seconds = train_peer(corpus_name, split.train, PEER_REGULARIZATION[model_name])
            predictor, epochs = PeerPredictor(pipeline), None
        else:
            job = train_ours(config, split)
            predictor, seconds, epochs = Predictor(job.model, job.classes), job.train_seconds, job.epochs_run
    evaluation = evaluate(predictor, corpus.test)
    return {
        "corpus": corpus_name,
        "model": model_name,
        "train rows": len(split.train),
        "test accuracy %": 100 * evaluation.accuracy,
        "macro-F1 %": 100 * evaluation.macro_f1,
        "train s": seconds,
        "rows/s": len(split.train) / seconds,
        "epochs": epochs if epochs is not None else "-",
        "peak RSS +MB": memory.delta_mb,
        "process peak MB": memory.peak_mb,
    }


def compare_with_peer(rows: list[dict[str, Any]]) -> None:
    """Adds each model's train-time ratio and accuracy delta against the peer on the same corpus."""
    peers = {row["corpus"]: row for row in rows if row["model"] == PEER}
    for row in rows:
        peer = peers.get(row["corpus"])
        if peer is None:
            continue
        row["time × peer"] = ratio(row["train s"], peer["train s"])
        row["Δacc vs peer (pts)"] = row["test accuracy %"] - peer["test accuracy %"]


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", choices=CORPORA, default=list(CORPORA))
    parser.add_argument("--presets", nargs="+", default=None, help="presets to train (default: all; quick: default)")
    parser.add_argument("--no-peer", action="store_true", help="skip the scikit-learn peers")
    parser.add_argument("--tuned-peer", action="store_true", help="also train the peer with C=10")
    parser.add_argument("--in-process", action="store_true", help="train every model in this process (faster, memory less clean)")
    arguments = parser.parse_args()
    require_datasets()
    from core.config import PRESETS

    presets = arguments.presets or (["default"] if arguments.quick else list(PRESETS))
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        parser.error(f"unknown preset(s) {', '.join(unknown)}; choose from {', '.join(PRESETS)}")
    peers = [] if arguments.no_peer else [PEER, TUNED_PEER] if arguments.tuned_peer else [PEER]
    models = peers + presets
    train_rows, test_rows = (QUICK_TRAIN_ROWS, QUICK_TEST_ROWS) if arguments.quick else (None, None)
    isolated = not (arguments.quick or arguments.in_process)
    rows = []
    for corpus_name in arguments.corpora:
        for model_name in models:
            task = (measure, corpus_name, model_name, train_rows, test_rows)
            row = run_isolated(*task) if isolated else task[0](*task[1:])
            rows.append(row)
            print(f"  {corpus_name} / {model_name}: {row['test accuracy %']:.2f}% in {row['train s']:.1f}s", flush=True)
    compare_with_peer(rows)
    report("Accuracy and training cost vs TF-IDF + logistic regression", command_line(), {"accuracy": rows}, arguments.json)


if __name__ == "__main__":
    main()
