"""How long the Data page's health check (`core.health.check_health`) takes and how much memory it needs on the
shared corpora, online_shopping's 52,741 rows (training file and test file) included, and how many near-duplicate
pairs its MinHash search finds.

The peer is the exhaustive search: every pair of distinct texts compared by shingle Jaccard similarity, on the first
rows of each corpus plus copies of some of them with one character deleted, as a typo or an edit would (it grows
with the square of the rows; only pairs whose sizes differ too much to reach the threshold are skipped). Its pairs
are the truth the MinHash search is scored against (recall: the share of those pairs the check puts in one group).

Each timing runs in a fresh process, so the memory it reports is what the check adds to a loaded dataset rather
than what an earlier run left free. CPU seconds are reported beside wall seconds: on a shared machine the check
waits for a core far longer than it computes, and its CPU time is what another machine would spend.

    .venv/bin/python bench/health.py --json bench/out/health.json
"""

from __future__ import annotations

import time
from typing import Any

from _common import (
    CORPORA,
    PeakMemory,
    base_parser,
    command_line,
    load_corpus,
    median,
    ratio,
    report,
    require_datasets,
    run_isolated,
    stopwatch,
)

SCALING_CORPUS = "online_shopping"
SCALING_ROWS = (5_000, 20_000)
# Texts of the recall sample copied with one character deleted, and the shortest text copied.
PLANTED_COPIES = 100
PLANTED_MIN_CHARACTERS = 40


def timed_check(train: Any, test: Any, repeats: int) -> dict[str, Any]:
    """The report of `check_health` on `train` with `test` as its test file, the median wall and CPU seconds of
    `repeats` runs and the largest resident memory any run added."""
    from core.config import preset
    from core.health import check_health

    seconds, cpu_seconds, added = [], [], []
    for _ in range(repeats):
        cpu_started = time.process_time()
        with PeakMemory() as memory, stopwatch() as timer:
            health = check_health(train, preset("default"), test_file=test)
        cpu_seconds.append(time.process_time() - cpu_started)
        seconds.append(timer["seconds"])
        added.append(memory.delta_mb)
    return {"report": health, "seconds": median(seconds), "cpu_seconds": median(cpu_seconds),
            "memory_mb": max(added)}


def corpus_row(name: str, train_rows: int | None, test_rows: int | None, repeats: int) -> dict[str, Any]:
    """One table row for the check on a corpus's first `train_rows` and `test_rows` (None: all); run isolated."""
    corpus = load_corpus(name, train_rows=train_rows, test_rows=test_rows)
    train, test = corpus.train, corpus.test
    measured = timed_check(train, test, repeats)
    health = measured["report"]
    return {
        "corpus": name if train_rows is None else f"{name} first {len(train):,}", "train rows": len(train), "test rows": len(test), "seconds": measured["seconds"],
        "CPU seconds": measured["cpu_seconds"], "rows per CPU second": (len(train) + len(test)) / measured["cpu_seconds"],
        "memory MB": measured["memory_mb"],
        "duplicate groups": len(health.duplicates), "duplicate rows": health.duplicate_rows,
        "leak groups": len(health.leaks), "short": len(health.short), "long": len(health.long),
        "languages": ", ".join(f"{language} {count:,}" for language, count in health.languages.items() if count),
    }


def exhaustive_pairs(texts: list[str]) -> set[tuple[int, int]]:
    """Positions of every pair of distinct texts (once normalised, long enough to compare) whose shingle sets reach
    the check's Jaccard threshold, found by comparing all pairs; each text stands for its first position."""
    from core.health import (
        MAX_SHINGLED_CHARACTERS,
        MIN_NEAR_CHARACTERS,
        NEAR_DUPLICATE_JACCARD,
        SHINGLE_CHARACTERS,
        normalized,
    )

    first_position: dict[str, int] = {}
    for position, text in enumerate(texts):
        key = normalized(text)
        if len(key) >= MIN_NEAR_CHARACTERS:
            first_position.setdefault(key, position)
    shingles = {}
    for key, position in first_position.items():
        clipped = key[:MAX_SHINGLED_CHARACTERS]
        shingles[position] = {clipped[i:i + SHINGLE_CHARACTERS] for i in range(len(clipped) - SHINGLE_CHARACTERS + 1)}
    # Jaccard(A, B) <= |A| / |B| for |A| <= |B|: a pair whose sizes are further apart than the threshold cannot reach it.
    by_size = sorted(shingles, key=lambda position: len(shingles[position]))
    pairs = set()
    for index, first in enumerate(by_size):
        for second in by_size[index + 1:]:
            if len(shingles[first]) < NEAR_DUPLICATE_JACCARD * len(shingles[second]):
                break
            union = len(shingles[first] | shingles[second])
            if len(shingles[first] & shingles[second]) >= NEAR_DUPLICATE_JACCARD * union:
                pairs.add((min(first, second), max(first, second)))
    return pairs


def with_planted_copies(texts: list[str]) -> tuple[list[str], int]:
    """`texts` followed by copies of the first PLANTED_COPIES long ones, each missing its middle character."""
    originals = [text for text in texts if len(text) >= PLANTED_MIN_CHARACTERS][:PLANTED_COPIES]
    copies = [text[:len(text) // 2] + text[len(text) // 2 + 1:] for text in originals]
    return texts + copies, len(copies)


def recall_row(name: str, sample: list[str]) -> dict[str, Any]:
    """The MinHash search against the exhaustive one on the same texts: pairs, recall and seconds."""
    from core.health import near_duplicate_groups

    texts, planted = with_planted_copies(sample)
    with stopwatch() as ours:
        groups, _ = near_duplicate_groups(texts)
    with stopwatch() as peer:
        truth = exhaustive_pairs(texts)
    group_of = {position: number for number, (positions, _) in enumerate(groups) for position in positions}
    found = sum(1 for first, second in truth if first in group_of and group_of[first] == group_of.get(second))
    return {
        "corpus": name, "rows": len(sample), "planted copies": planted, "near pairs (exhaustive)": len(truth), "found by check": found,
        "recall": found / len(truth) if truth else 1.0, "check s": ours["seconds"], "exhaustive s": peer["seconds"],
        "exhaustive / check": ratio(peer["seconds"], ours["seconds"]),
    }


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--pair-rows", type=int, default=2000, help="rows per corpus the exhaustive search reads")
    args = parser.parse_args()
    require_datasets()
    repeats, pair_rows = (1, 300) if args.quick else (args.repeats, args.pair_rows)
    train_rows, test_rows = (2000, 500) if args.quick else (None, None)
    whole = [run_isolated(corpus_row, name, train_rows, test_rows, repeats) for name in CORPORA]
    sizes = (500, 1000) if args.quick else SCALING_ROWS
    scaling = [run_isolated(corpus_row, SCALING_CORPUS, rows, test_rows, repeats) for rows in sizes]
    recall = [recall_row(name, list(load_corpus(name, train_rows=pair_rows).train.texts)) for name in CORPORA]
    report("Data health", command_line(), {"Every check, training file and test file": whole,
                                           f"{SCALING_CORPUS}: time against rows":
                                               scaling + [row for row in whole if row["corpus"] == SCALING_CORPUS],
                                           "Near-duplicate pairs against the exhaustive search": recall}, args.json)


if __name__ == "__main__":
    main()
