"""Test accuracy, macro-F1, training time and memory of our presets against TF-IDF + logistic regression.

Each corpus's train.csv is split by `split_dataset` (10% validation, no test part) and both the peer and
our models fit on the same training rows; test.csv is the test set. Each model trains in its own process
so its memory peak is its own (--quick trains in-process to stay fast).

    .venv/bin/python bench/accuracy.py                      # every corpus, peer + all presets
    .venv/bin/python bench/accuracy.py --presets default --corpora mr
    .venv/bin/python bench/accuracy.py --tuned-peer --presets default   # also the peer with C=10
    .venv/bin/python bench/accuracy.py --quick              # 2,000 training rows, peer + default
    .venv/bin/python bench/accuracy.py --per-class 500 --corpora mr --presets default transfer   # the article's scale
    .venv/bin/python bench/accuracy.py --corpora online_shopping --train-rows 15000 --seeds 42 1 2 \
        --tuned-peer --presets default default:ngrams=3,vocab_size=100000   # a variant: preset:setting=value,...

With several seeds each seed makes its own validation split, every model (peers too) trains on that seed's
rows, and a second table gives the mean over seeds with each model's gain over both peers.
"""

from __future__ import annotations

import statistics
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


def model_config(model_name: str, seed: int) -> Any:
    """The TrainConfig a model name stands for: a preset, or "preset:setting=value,..." for a variant of one.

    Values are read by the setting's own parser, as the CLI reads its flags. The peers use `default`'s
    validation split, so they fit on the same rows as our models.

    Raises:
        ConfigError: an unknown preset or setting, or a value the setting does not allow.
    """
    from core.config import SETTINGS, preset
    from core.errors import ConfigError

    name, _, changes = model_name.partition(":")
    values = {}
    for change in filter(None, changes.split(",")):
        setting, _, text = change.partition("=")
        if setting not in SETTINGS:
            raise ConfigError(f"Unknown setting {setting!r} in {model_name!r}; known: {', '.join(SETTINGS)}.")
        values[setting] = SETTINGS[setting].parse(setting, text)
    return preset("default" if name in PEER_REGULARIZATION else name).replace(**values, seed=seed)


def measure(corpus_name: str, model_name: str, train_rows: int | None, test_rows: int | None,
            seed: int = 42, per_class: int | None = None) -> dict[str, Any]:
    """Trains one model on one corpus and scores it on the test set; runs inside a worker process."""
    from core.evaluate import evaluate
    from core.predict import Predictor

    corpus = load_corpus(corpus_name, train_rows=train_rows, test_rows=test_rows, per_class=per_class)
    config = model_config(model_name, seed)
    split = split_for_training(corpus.train, config)
    with PeakMemory() as memory:
        if model_name in PEER_REGULARIZATION:
            pipeline, seconds = train_peer(corpus_name, split.train, PEER_REGULARIZATION[model_name])
            predictor, epochs = PeerPredictor(pipeline), None
        else:
            job = train_ours(config, split)
            predictor, seconds, epochs = Predictor.of_config(job.model, job.classes, config), job.train_seconds, job.epochs_run
    evaluation = evaluate(predictor, corpus.test)
    return {
        "corpus": corpus_name,
        "model": model_name,
        "seed": seed,
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
    """Adds each model's train-time ratio and accuracy deltas against the peers on the same corpus and seed."""
    peers = {(row["corpus"], row["seed"], row["model"]): row for row in rows if row["model"] in PEER_REGULARIZATION}
    for row in rows:
        peer = peers.get((row["corpus"], row["seed"], PEER))
        if peer is not None:
            row["time × peer"] = ratio(row["train s"], peer["train s"])
            row["Δacc vs peer (pts)"] = row["test accuracy %"] - peer["test accuracy %"]
        tuned = peers.get((row["corpus"], row["seed"], TUNED_PEER))
        if tuned is not None:
            row["Δacc vs tuned peer (pts)"] = row["test accuracy %"] - tuned["test accuracy %"]


def mean_over_seeds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per corpus and model: mean, lowest and highest test accuracy over the seeds, mean gains."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["corpus"], row["model"]), []).append(row)
    summary = []
    for (corpus_name, model_name), group in groups.items():
        accuracies = [row["test accuracy %"] for row in group]
        entry = {"corpus": corpus_name, "model": model_name, "seeds": len(group),
                 "mean accuracy %": statistics.mean(accuracies), "min %": min(accuracies), "max %": max(accuracies),
                 "mean train s": statistics.mean(row["train s"] for row in group)}
        for column in ("Δacc vs peer (pts)", "Δacc vs tuned peer (pts)"):
            if all(column in row for row in group):
                entry["mean " + column] = statistics.mean(row[column] for row in group)
        summary.append(entry)
    return summary


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", choices=CORPORA, default=list(CORPORA))
    parser.add_argument("--presets", nargs="+", default=None,
                        help="presets to train, or variants as preset:setting=value,... (default: all; quick: default)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42], help="seeds to train every model with")
    parser.add_argument("--train-rows", type=int, help="keep only the first N rows of train.csv (files are shuffled)")
    parser.add_argument("--test-rows", type=int, help="keep only the first N rows of test.csv")
    parser.add_argument("--per-class", type=int,
                        help="keep only the first N rows of each class of train.csv (a balanced sample)")
    parser.add_argument("--no-peer", action="store_true", help="skip the scikit-learn peers")
    parser.add_argument("--tuned-peer", action="store_true", help="also train the peer with C=10")
    parser.add_argument("--in-process", action="store_true", help="train every model in this process (faster, memory less clean)")
    arguments = parser.parse_args()
    require_datasets()
    from core.config import PRESETS
    from core.errors import ConfigError

    presets = arguments.presets or (["default"] if arguments.quick else list(PRESETS))
    for name in presets:  # an unknown preset or setting ends here, before any model trains
        try:
            model_config(name, seed=0)
        except ConfigError as error:
            parser.error(str(error))
    peers = [] if arguments.no_peer else [PEER, TUNED_PEER] if arguments.tuned_peer else [PEER]
    models = peers + presets
    quick_rows = (QUICK_TRAIN_ROWS, QUICK_TEST_ROWS) if arguments.quick else (None, None)
    train_rows, test_rows = arguments.train_rows or quick_rows[0], arguments.test_rows or quick_rows[1]
    isolated = not (arguments.quick or arguments.in_process)
    rows = []
    for corpus_name in arguments.corpora:
        for seed in arguments.seeds:
            for model_name in models:
                task = (measure, corpus_name, model_name, train_rows, test_rows, seed, arguments.per_class)
                row = run_isolated(*task) if isolated else task[0](*task[1:])
                rows.append(row)
                print(f"  {corpus_name} / {model_name} / seed {seed}: {row['test accuracy %']:.2f}% "
                      f"in {row['train s']:.1f}s", flush=True)
    compare_with_peer(rows)
    tables = {"accuracy": rows, **({"mean over seeds": mean_over_seeds(rows)} if len(arguments.seeds) > 1 else {})}
    report("Accuracy and training cost vs TF-IDF + logistic regression", command_line(), tables, arguments.json)


if __name__ == "__main__":
    main()
