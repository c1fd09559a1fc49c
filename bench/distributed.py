"""Seconds per epoch and test accuracy of `default` and `article-mlp` on MR, trained by one process and by two
worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy, core/distributed.py).

Each run is `python -m core train` as a user would start it, on the first rows of MR's train.csv (test.csv
scores it), with fixed epochs (early stopping off) so the runs take the same steps. The first epoch is shown
apart: it holds graph tracing and, for workers, the wait for the other worker.

    .venv/bin/python bench/distributed.py                  # 4,000 rows, 6 epochs
    .venv/bin/python bench/distributed.py --quick          # 1,500 rows, 3 epochs
    .venv/bin/python bench/distributed.py --rows 2000 --epochs 4 --presets default
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, base_parser, command_line, load_corpus, median, report, require_datasets

TEST_ROWS = 1000
WORKER_TIMEOUT_SECONDS = 300
RUN_TIMEOUT_SECONDS = 1800


def _write_csv(path: Path, dataset: Any) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(dataset.texts, dataset.labels))
    return path


def _train(base: list[str], models: Path, workers: int) -> dict[str, Any]:
    """Runs one training as `workers` processes (1: no cluster) and returns the chief's JSON and epoch times."""
    from core.cluster import free_ports

    addresses = ",".join(f"127.0.0.1:{port}" for port in free_ports(workers))
    commands = [[*base, "--models-dir", str(models)] + (
        ["--workers", addresses, "--worker-index", str(index), "--worker-timeout", str(WORKER_TIMEOUT_SECONDS)]
        if workers > 1 else []) for index in range(workers)]
    processes = [subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for command in commands]
    outputs = [process.communicate(timeout=RUN_TIMEOUT_SECONDS) for process in processes]
    for process, (_, errors) in zip(processes, outputs):
        if process.returncode != 0:
            raise RuntimeError(f"training failed ({process.returncode}): {errors[-2000:]}")
    chief = json.loads(outputs[0][0].strip().splitlines()[-1])
    history = json.loads((Path(chief["model_dir"]) / "metadata.json").read_text(encoding="utf-8"))["history"]
    return {**chief, "epoch_seconds": [entry["seconds"] for entry in history]}


def measure(preset_name: str, rows: int, epochs: int, folder: Path) -> list[dict[str, Any]]:
    """One process and two workers training `preset_name` on the same `rows` MR rows."""
    corpus = load_corpus("mr", train_rows=rows, test_rows=TEST_ROWS)
    train, test = _write_csv(folder / "train.csv", corpus.train), _write_csv(folder / "test.csv", corpus.test)
    base = [sys.executable, "-m", "core", "train", str(train), "--test-file", str(test), "--preset", preset_name,
            "--epochs", str(epochs), "--no-early-stopping", "--json"]
    results = []
    for workers in (1, 2):
        run = _train(base, folder / f"models-{preset_name}-{workers}", workers)
        later = run["epoch_seconds"][1:] or run["epoch_seconds"]
        results.append({"preset": preset_name, "workers": workers, "train rows": run["rows"]["train"],
                        "epochs": run["epochs_run"], "first epoch s": run["epoch_seconds"][0],
                        "s per later epoch (median)": median(later), "train s": run["train_seconds"],
                        "test accuracy %": 100 * run["test_accuracy"]})
        print(f"  {preset_name}, {workers} worker(s): {results[-1]['s per later epoch (median)']:.2f} s/epoch, "
              f"{results[-1]['test accuracy %']:.2f}%", flush=True)
    single = results[0]
    for run in results:  # the single run's own row shows 1 and 0, so every row has the same columns
        run["time × 1 process"] = run["s per later epoch (median)"] / single["s per later epoch (median)"]
        run["accuracy − 1 process (points)"] = run["test accuracy %"] - single["test accuracy %"]
    return results


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="MR training rows (default 4000; quick 1500)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default 6; quick 3)")
    parser.add_argument("--presets", nargs="+", default=["default", "article-mlp"])
    arguments = parser.parse_args()
    require_datasets()
    rows = arguments.rows or (1_500 if arguments.quick else 4_000)
    epochs = arguments.epochs or (3 if arguments.quick else 6)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for preset_name in arguments.presets:
            results += measure(preset_name, rows, epochs, Path(folder))
    report("Distributed training: 1 process vs 2 workers on 127.0.0.1", command_line(),
           {"by preset and workers": results}, arguments.json)


if __name__ == "__main__":
    main()
