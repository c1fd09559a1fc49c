"""How training time and memory of the `default` preset grow with the number of rows (and the peer's, beside it).

Rows are MR training sentences drawn again and again, each with a little word dropout and duplication so
that no two rows are identical. Epochs are fixed (early stopping off) so times compare across sizes; each
size trains in its own process so its memory peak is its own.

    .venv/bin/python bench/scaling.py                        # 1k, 10k and 100k rows, 3 epochs
    .venv/bin/python bench/scaling.py --rows 1000 20000 --epochs 2 --preset article-mlp
    .venv/bin/python bench/scaling.py --quick                # 1k and 5k rows
"""

from __future__ import annotations

from typing import Any

from _common import (
    PeakMemory,
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

WORD_DROPOUT = 0.1
WORD_DUPLICATION = 0.05


def perturbed_rows(rows: int, seed: int) -> Any:
    """`rows` MR sentences, cycling through the corpus in random order, each lightly and randomly edited."""
    import numpy as np

    from core.data import Dataset

    source = load_corpus("mr").train
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(source)) for _ in range(rows // len(source) + 1)])[:rows]
    texts = [_perturb(source.texts[index].split(), rng) for index in order]
    return Dataset(tuple(texts), tuple(source.labels[index] for index in order))


def _perturb(words: list[str], rng: Any) -> str:
    kept = [word for word in words if rng.random() >= WORD_DROPOUT] or words
    edited = [repeat for word in kept for repeat in ([word, word] if rng.random() < WORD_DUPLICATION else [word])]
    return " ".join(edited)


def measure(preset_name: str, rows: int, epochs: int, with_peer: bool) -> dict[str, Any]:
    """Trains the preset (and the peer) on `rows` perturbed rows; runs inside a worker process."""
    from core.config import preset
    import core.training  # noqa: F401  (TensorFlow's own memory is in the baseline, not in the peak)

    config = preset(preset_name).replace(epochs=epochs, early_stopping=False)
    split = split_for_training(perturbed_rows(rows, config.seed), config)
    with PeakMemory() as memory:
        job = train_ours(config, split)
    row = {"rows": rows, "train rows": len(split.train), "epochs": job.epochs_run, "ours train s": job.train_seconds,
           "ours s per 1k rows": 1000 * job.train_seconds / rows, "ours peak RSS +MB": memory.delta_mb,
           "ours process peak MB": memory.peak_mb}
    if with_peer:
        with PeakMemory() as peer_memory:
            _, peer_seconds = train_peer("mr", split.train)
        row.update({"peer train s": peer_seconds, "peer peak RSS +MB": peer_memory.delta_mb,
                    "time × peer": ratio(job.train_seconds, peer_seconds)})
    return row


def linearity(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """A least-squares line through (rows, seconds): slope per 1k rows, intercept, R², and the growth check.

    Linear means the marginal cost of 1k more rows stays flat: the last step's cost per 1k rows divided by
    the first step's should be near 1 (above 1.25 would be super-linear).
    """
    import numpy as np

    sizes = np.array([row["rows"] for row in rows], dtype=float)
    seconds = np.array([row[key] for row in rows], dtype=float)
    slope, intercept = np.polyfit(sizes, seconds, 1)
    predicted = slope * sizes + intercept
    total = ((seconds - seconds.mean()) ** 2).sum()
    r_squared = 1 - ((seconds - predicted) ** 2).sum() / total if total else 1.0
    marginal = np.diff(seconds) / np.diff(sizes) * 1000
    return {"model": key.split()[0], "s per 1k rows (slope)": slope * 1000, "fixed s (intercept)": intercept,
            "R²": r_squared, "marginal s/1k, first step": marginal[0], "marginal s/1k, last step": marginal[-1],
            "last/first marginal": ratio(marginal[-1], marginal[0])}


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=None, help="dataset sizes (default 1000 10000 100000; quick 1000 5000)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--no-peer", action="store_true", help="skip the scikit-learn peer")
    arguments = parser.parse_args()
    require_datasets()
    sizes = sorted(arguments.rows or ([1_000, 5_000] if arguments.quick else [1_000, 10_000, 100_000]))
    if len(sizes) < 2:
        parser.error("give at least two sizes to see how the cost grows")
    results = []
    for rows in sizes:
        results.append(run_isolated(measure, arguments.preset, rows, arguments.epochs, not arguments.no_peer))
        print(f"  {rows:,} rows: {results[-1]['ours train s']:.1f}s", flush=True)
    keys = ["ours train s"] + ([] if arguments.no_peer else ["peer train s"])
    report(
        f"Training cost of `{arguments.preset}` against the number of rows",
        command_line(),
        {"by size": results, "linear fit": [linearity(results, key) for key in keys]},
        arguments.json,
    )


if __name__ == "__main__":
    main()
