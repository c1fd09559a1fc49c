"""Shared plumbing for the benchmarks: the real corpora, the scikit-learn peer, memory, timing and tables.

Every benchmark compares our models with a peer measured in the same run on the same rows, because the
2-core machine is shared and absolute seconds drift from one run to the next; ratios travel better.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # scripts run as `python bench/x.py` find `core` this way
    sys.path.insert(0, str(REPO_ROOT))
DATASETS_DIR = REPO_ROOT.parent / "shared" / "datasets"
CORPORA = ("mr", "chnsenticorp", "airline_tweets", "online_shopping")
# Chinese is written without spaces, so the peer reads character n-grams there and word n-grams elsewhere.
CHARACTER_CORPORA = ("chnsenticorp", "online_shopping")
MEGABYTE = 1024 * 1024

# Quiet TensorFlow's start-up banners so tables stay readable; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def base_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark shares: --quick for `make bench`, --json to keep the numbers."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small subset, well under a minute (smoke test)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON here")
    return parser


def require_datasets() -> None:
    """Ends the script with a readable message when the shared corpora are not next to the repository."""
    missing = [name for name in CORPORA if not (DATASETS_DIR / name / "train.csv").is_file()]
    if missing:
        print(
            f"Skipping: the benchmark corpora ({', '.join(missing)}) are not in {DATASETS_DIR}. "
            "Put the shared datasets folder next to the repository to run the benchmarks."
        )
        sys.exit(0)


# --- corpora ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Corpus:
    """One corpus as the app would read it: train.csv through `load_dataset`, test.csv as the test set."""

    name: str
    train: Any  # core.data.Dataset
    test: Any  # core.data.Dataset


def load_corpus(name: str, *, train_rows: int | None = None, test_rows: int | None = None,
                per_class: int | None = None) -> Corpus:
    """Loads a corpus through core's own loader; `train_rows`/`test_rows` keep only the first rows (quick runs),
    `per_class` the first rows of each class (a balanced sample, as the article's 500 positive + 500 negative).

    The files are shuffled already (seed 42), so the first rows are a fair sample.
    """
    from core.data import load_dataset, load_test_dataset

    folder = DATASETS_DIR / name
    train = load_dataset(folder / "train.csv")
    test = load_test_dataset(folder / "test.csv", classes=train.classes)
    if train_rows is not None and train_rows < len(train):
        train = train.subset(range(train_rows))
    if per_class is not None:
        train = train.subset(_first_of_each_class(train.labels, per_class))
    if test_rows is not None and test_rows < len(test):
        test = test.subset(range(test_rows))
    return Corpus(name, train, test)


def _first_of_each_class(labels: Sequence[str], per_class: int) -> list[int]:
    """Positions of the first `per_class` rows of every label, in file order."""
    taken: dict[str, int] = {}
    positions = []
    for position, label in enumerate(labels):
        if taken.get(label, 0) < per_class:
            taken[label] = taken.get(label, 0) + 1
            positions.append(position)
    return positions


def split_for_training(dataset: Any, config: Any) -> Any:
    """Train/validation parts of a training file, as the app makes them (no test part: test.csv is separate)."""
    from core.data import split_dataset

    return split_dataset(dataset, validation_fraction=config.validation_split, test_fraction=0.0, seed=config.seed)


# --- the peer ---------------------------------------------------------------------------------------------
def make_peer(corpus_name: str, regularization: float = 1.0) -> Any:
    """scikit-learn TF-IDF + logistic regression: the baseline a practitioner would try first.

    `regularization` is logistic regression's `C`: 1 is the one-liner's default, 10 the best of 1/4/10 on
    these corpora (the "tuned peer").
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if corpus_name in CHARACTER_CORPORA:
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    else:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    return make_pipeline(vectorizer, LogisticRegression(C=regularization, max_iter=1000))


class PeerPredictor:
    """A fitted peer pipeline seen through our Predictor's interface, so `core.evaluate.evaluate` scores both."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.classes = tuple(str(label) for label in pipeline.classes_)

    def predict_proba(self, texts: Sequence[str]) -> Any:
        return self.pipeline.predict_proba(list(texts))


def train_peer(corpus_name: str, train: Any, regularization: float = 1.0) -> tuple[Any, float]:
    """The fitted peer pipeline and the seconds its vocabulary and fit took."""
    pipeline = make_peer(corpus_name, regularization)
    started = time.perf_counter()
    pipeline.fit(list(train.texts), list(train.labels))
    return pipeline, time.perf_counter() - started


def train_ours(config: Any, split: Any) -> Any:
    """A finished TrainingJob (vocabulary, fit, early stopping, best weights) on a train/validation split.

    Raises:
        RuntimeError: the job did not finish, with its error message.
    """
    from core.training import JobStatus, TrainingJob

    job = TrainingJob(config, split.train, split.validation).start()
    status = job.wait()
    if status != JobStatus.FINISHED:
        raise RuntimeError(f"Training {config.preset or config.family} ended as {status.value}: {job.snapshot().error}")
    return job


# --- measuring --------------------------------------------------------------------------------------------
class PeakMemory:
    """Samples resident memory in a thread; `peak_mb` and `delta_mb` over the start value.

    A sampling thread (every 10 ms) sees the peak of a short phase, which `ru_maxrss` cannot once the
    process has been bigger before. By default it watches this process; given a `pid` it watches that process
    and all its children (a server and the workers it starts).
    """

    def __init__(self, pid: int | None = None, interval: float = 0.01) -> None:
        self._process = psutil.Process(pid)
        self._with_children = pid is not None
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.start_bytes = 0
        self.peak_bytes = 0

    def __enter__(self) -> PeakMemory:
        self.start_bytes = self.peak_bytes = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._rss())

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_bytes = max(self.peak_bytes, self._rss())

    def _rss(self) -> int:
        processes = [self._process, *self._process.children(recursive=True)] if self._with_children else [self._process]
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:  # a child that just ended
                pass
        return total

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / MEGABYTE

    @property
    def delta_mb(self) -> float:
        return (self.peak_bytes - self.start_bytes) / MEGABYTE


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """`with stopwatch() as timer:` leaves the elapsed wall seconds in timer["seconds"]."""
    timer = {"seconds": 0.0}
    started = time.perf_counter()
    try:
        yield timer
    finally:
        timer["seconds"] = time.perf_counter() - started


def run_isolated(function: Callable[..., Any], *args: Any) -> Any:
    """Runs `function(*args)` in a fresh Python process, so each model's memory peak is its own.

    `function` must be importable (defined at module level); spawn, not fork, because TensorFlow's
    threads do not survive a fork.
    """
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation, without importing numpy in callers."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(ours: float, peer: float) -> float:
    return ours / peer if peer else float("inf")


# --- reporting --------------------------------------------------------------------------------------------
def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of dicts as a GitHub markdown table; floats get 3 significant decimals at most."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def machine_facts() -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, memory, load, library versions and the time."""
    import keras
    import sklearn
    import tensorflow as tf

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(title: str, command: str, tables: dict[str, list[dict[str, Any]]], json_path: Path | None) -> dict[str, Any]:
    """Prints machine facts, the command and each table as markdown; writes everything as JSON if asked."""
    facts = machine_facts()
    print(f"## {title}\n")
    print("Machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()) + "\n")
    print(f"Command: `{command}`\n")
    for name, rows in tables.items():
        print(f"### {name}\n\n{markdown_table(rows)}\n")
    payload = {"title": title, "command": command, "machine": facts, "tables": tables}
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=float), encoding="utf-8")
    return payload


def command_line() -> str:
    """The command as typed, relative to the repository, for the RESULTS tables."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO_ROOT)
    except ValueError:
        pass
    return " ".join([".venv/bin/python", str(script), *sys.argv[1:]])
