"""Soak test: many train/stop cycles and a burst of concurrent predictions, watching memory and threads.

A public app trains and stops jobs all day in one process, so memory must level off rather than grow per job,
every training thread must end, and one shared `Predictor` must serve many browser sessions at once.

    .venv/bin/python bench/soak.py                 # 20 cycles, 50 prediction threads
    .venv/bin/python bench/soak.py --quick         # 5 cycles (under a minute)
    .venv/bin/python bench/soak.py --cycles 50 --json bench/out/soak.json

tests/test_soak.py runs the same functions with fewer cycles and asserts the bounds.
"""

from __future__ import annotations

import gc
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

if __package__ in (None, ""):  # run as `python bench/soak.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import MEGABYTE, base_parser, command_line, report  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.data import Dataset  # noqa: E402
from core.predict import Predictor  # noqa: E402
from core.training import JobStatus, TrainingJob  # noqa: E402

# Small enough that a cycle is a second or two on 2 cores; epochs so many that only Stop ends a job.
SOAK_CONFIG = TrainConfig(family="mlp", layer_sizes=[16], vocab_size=2000, batch_size=8, epochs=500,
                          early_stopping=False)
PROBE_TEXTS = ["great phone", "这个酒店很差", "I hate this film", "", "😀 love it", "x" * 5_000]
_WORDS = {"positive": ["great", "love", "好", "棒"], "negative": ["awful", "hate", "差", "烂"]}
_FILLER = ["the", "phone", "film", "hotel", "service", "这个", "手机", "really", "quite", "today"]


@dataclass
class SoakResult:
    """Memory after each cycle, the prediction burst's outcome and the threads left behind."""

    rss_mb: list[float] = field(default_factory=list)  # after cycle 1, 2, ... (after gc.collect())
    cycle_seconds: list[float] = field(default_factory=list)
    burst_seconds: float = 0.0
    burst_predictions: int = 0
    burst_errors: list[str] = field(default_factory=list)
    training_threads_left: int = 0

    def growth_mb(self, since_cycle: int = 2) -> float:
        """RSS after the last cycle minus after `since_cycle` (1-based): the first cycles pay one-off warm-up."""
        return self.rss_mb[-1] - self.rss_mb[min(since_cycle, len(self.rss_mb)) - 1]

    def slope_mb_per_cycle(self, since_cycle: int = 2) -> float:
        """Least-squares slope of RSS over the cycles from `since_cycle` on; near 0 means no leak per job."""
        tail = self.rss_mb[since_cycle - 1 :]
        return float(np.polyfit(np.arange(len(tail)), tail, 1)[0]) if len(tail) >= 2 else 0.0


def synthetic_dataset(rows: int = 400, seed: int = 0) -> Dataset:
    """Short mixed English/Chinese texts whose label one sentiment word gives away."""
    rng = random.Random(seed)
    labels = [("negative", "positive")[row % 2] for row in range(rows)]
    texts = [
        " ".join(rng.sample(_FILLER, 3) + [rng.choice(_WORDS[label]), str(row)]) for row, label in enumerate(labels)
    ]
    return Dataset(tuple(texts), tuple(labels))


def rss_mb() -> float:
    """This process's resident memory after a full garbage collection."""
    gc.collect()
    return psutil.Process().memory_info().rss / MEGABYTE


def train_and_stop(train: Dataset, config: TrainConfig = SOAK_CONFIG, timeout: float = 120.0) -> JobStatus:
    """One cycle as a user makes it: start a job, wait for its first batch, press Stop, wait for the end."""
    job = TrainingJob(config, train).start()
    deadline = time.monotonic() + timeout
    while not job.snapshot().batch_history and not job.snapshot().done and time.monotonic() < deadline:
        time.sleep(0.02)
    job.stop()
    return job.wait(timeout=max(deadline - time.monotonic(), 1.0))


def prediction_burst(
    predictor: Predictor, threads: int = 50, calls_per_thread: int = 5
) -> tuple[float, int, list[str]]:
    """`threads` sessions predicting at once through one Predictor: (seconds, predictions made, errors)."""
    errors: list[str] = []
    made = [0] * threads
    start_together = threading.Barrier(threads)

    def session(index: int) -> None:
        try:
            start_together.wait(timeout=30)
            for _ in range(calls_per_thread):
                for prediction in predictor.predict(PROBE_TEXTS):
                    if prediction.label not in predictor.classes:
                        raise AssertionError(f"unknown label {prediction.label!r}")
                made[index] += len(PROBE_TEXTS)
        except Exception as error:  # every failure is reported, none may kill the burst silently
            errors.append(f"{type(error).__name__}: {error}")

    workers = [threading.Thread(target=session, args=(index,), name=f"predict-{index}") for index in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    unfinished = sum(worker.is_alive() for worker in workers)
    errors += [f"{unfinished} prediction threads did not finish"] if unfinished else []
    return time.perf_counter() - started, sum(made), errors


def training_threads_alive() -> int:
    return sum(thread.name == "training-job" and thread.is_alive() for thread in threading.enumerate())


def soak(cycles: int, threads: int = 50, train: Dataset | None = None) -> SoakResult:
    """Runs `cycles` train/stop cycles, then a burst of `threads` sessions predicting through one shared model."""
    train = train or synthetic_dataset()
    result = SoakResult()
    for _ in range(cycles):
        started = time.perf_counter()
        job_status = train_and_stop(train)
        if job_status != JobStatus.STOPPED:
            raise RuntimeError(f"a train/stop cycle ended {job_status.value}, not stopped")
        result.cycle_seconds.append(time.perf_counter() - started)
        result.rss_mb.append(rss_mb())
    job = TrainingJob(TrainConfig(**{**SOAK_CONFIG.to_dict(), "epochs": 1}), train).start()
    job.wait(timeout=120)
    predictor = Predictor(job.model, job.classes)
    result.burst_seconds, result.burst_predictions, result.burst_errors = prediction_burst(predictor, threads)
    result.training_threads_left = training_threads_alive()
    return result


def _tables(result: SoakResult) -> dict[str, list[dict[str, object]]]:
    cycles = [
        {"cycle": number, "seconds": round(seconds, 2), "rss_mb": round(rss, 1),
         "vs_cycle_2_mb": round(rss - result.rss_mb[min(1, len(result.rss_mb) - 1)], 1)}
        for number, (seconds, rss) in enumerate(zip(result.cycle_seconds, result.rss_mb), start=1)
    ]
    summary = [{
        "cycles": len(result.rss_mb),
        "growth_since_cycle_2_mb": round(result.growth_mb(), 1),
        "slope_mb_per_cycle": round(result.slope_mb_per_cycle(), 2),
        "burst_predictions": result.burst_predictions,
        "burst_seconds": round(result.burst_seconds, 2),
        "burst_errors": len(result.burst_errors),
        "training_threads_left": result.training_threads_left,
    }]
    return {"Memory per train/stop cycle": cycles, "Summary": summary}


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="train/stop cycles (default 20; 5 with --quick)")
    parser.add_argument("--threads", type=int, default=50, help="concurrent prediction threads (default 50)")
    options = parser.parse_args()
    cycles = 5 if options.quick and options.cycles == 20 else options.cycles
    result = soak(cycles, options.threads)
    report("Soak: train/stop cycles and concurrent predictions", command_line(), _tables(result), options.json)
    for error in result.burst_errors[:5]:
        print(f"prediction error: {error}")


if __name__ == "__main__":
    main()
