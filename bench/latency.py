"""Prediction speed of saved models against TF-IDF + logistic regression: one text, 10,000 texts, and loading.

Our model is saved with `ModelRegistry` and loaded back with `Predictor.load` (Keras safe mode, never
pickle), as the app does; the peer is saved and loaded with joblib. Single-text calls alternate between the
two so both see the same background load. "explain" is the Predict page's word colouring of one text.

    .venv/bin/python bench/latency.py                        # all presets on MR, 2 epochs each
    .venv/bin/python bench/latency.py --presets default --corpus airline_tweets --calls 1000
    .venv/bin/python bench/latency.py --quick                # default only, 2,000 rows, 1 epoch
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import (
    CORPORA,
    MEGABYTE,
    Corpus,
    base_parser,
    command_line,
    load_corpus,
    median,
    percentile,
    ratio,
    report,
    require_datasets,
    split_for_training,
    train_ours,
    train_peer,
)

WARMUP_CALLS = 20
LOAD_REPEATS = 3
BATCH_REPEATS = 3
EXPLAIN_CALLS = 200


def single_text_latency(ours: Callable[[list[str]], Any], peer: Callable[[list[str]], Any], texts: Sequence[str], calls: int) -> dict[str, float]:
    """p50/p99 milliseconds of one-text calls, ours and the peer's interleaved call by call."""
    for text in texts[:WARMUP_CALLS]:
        ours([text]), peer([text])
    timings: dict[str, list[float]] = {"ours": [], "peer": []}
    for index in range(calls):
        text = texts[index % len(texts)]
        for name, function in (("ours", ours), ("peer", peer)):
            started = time.perf_counter()
            function([text])
            timings[name].append(1000 * (time.perf_counter() - started))
    return {f"{name} {q}": percentile(values, q) for name, values in timings.items() for q in (50, 99)}


def explain_latency(predictor: Any, texts: Sequence[str], calls: int) -> dict[str, float]:
    """p50/p99 milliseconds of the Predict page's word colouring (one prediction per token, plus one)."""
    from core.explain import explain

    timings = []
    for index in range(calls):
        started = time.perf_counter()
        explain(predictor, texts[index % len(texts)])
        timings.append(1000 * (time.perf_counter() - started))
    return {"explain 50": percentile(timings, 50), "explain 99": percentile(timings, 99)}


def batch_throughput(function: Callable[[list[str]], Any], texts: list[str]) -> float:
    """Texts per second predicting all `texts` in one call; the best of a few runs, as noise only adds time."""
    best = float("inf")
    for _ in range(BATCH_REPEATS):
        started = time.perf_counter()
        function(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def load_seconds(load: Callable[[], Any]) -> float:
    """Median wall seconds of loading a saved model from disk."""
    timings = []
    for _ in range(LOAD_REPEATS):
        started = time.perf_counter()
        load()
        timings.append(time.perf_counter() - started)
    return median(timings)


def folder_megabytes(path: Path) -> float:
    files = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
    return sum(item.stat().st_size for item in files) / MEGABYTE


def measure_preset(preset_name: str, corpus: Corpus, peer_file: Path, workdir: Path, epochs: int, calls: int, batch_size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Trains, saves and reloads one preset, then times it against the saved peer."""
    import joblib

    from core.config import preset
    from core.experiment import encoder_metadata
    from core.predict import Predictor
    from core.registry import ModelRegistry

    config = preset(preset_name).replace(epochs=epochs)
    job = train_ours(config, split_for_training(corpus.train, config))
    metadata = {"preset": preset_name, "classes": list(job.classes), "config": config.to_dict(),
                **encoder_metadata(config)}  # a model over encoder vectors loads only with its encoder's identity
    info = ModelRegistry(workdir).save(job.model, metadata, name=preset_name)
    predictor = Predictor.load(info.path)
    pipeline = joblib.load(peer_file)
    texts = list(corpus.test.texts)
    batch = (texts * (batch_size // len(texts) + 1))[:batch_size]
    latency = single_text_latency(predictor.predict, pipeline.predict_proba, texts, calls)
    explaining = explain_latency(predictor, texts, min(calls, EXPLAIN_CALLS))
    ours_batch = batch_throughput(predictor.predict_proba, batch)
    peer_batch = batch_throughput(pipeline.predict_proba, batch)
    ours_load = load_seconds(lambda: Predictor.load(info.path))
    peer_load = load_seconds(lambda: joblib.load(peer_file))
    single = {
        "preset": preset_name, "corpus": corpus.name, "calls": calls,
        "ours p50 ms": latency["ours 50"], "peer p50 ms": latency["peer 50"],
        "p50 × peer": ratio(latency["ours 50"], latency["peer 50"]),
        "ours p99 ms": latency["ours 99"], "peer p99 ms": latency["peer 99"],
        "explain p50 ms": explaining["explain 50"], "explain p99 ms": explaining["explain 99"],
    }
    bulk = {
        "preset": preset_name, "corpus": corpus.name, "batch texts": len(batch),
        "ours texts/s": ours_batch, "peer texts/s": peer_batch, "throughput × peer": ratio(ours_batch, peer_batch),
        "ours load s": ours_load, "peer load s": peer_load, "load × peer": ratio(ours_load, peer_load),
        "ours size MB": folder_megabytes(info.path), "peer size MB": folder_megabytes(peer_file),
    }
    return single, bulk


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=CORPORA, default="mr")
    parser.add_argument("--presets", nargs="+", default=None, help="presets to time (default: all; quick: default)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs to train each preset (default 2; quick 1)")
    parser.add_argument("--calls", type=int, default=None, help="single-text calls per model (default 500; quick 200)")
    parser.add_argument("--batch", type=int, default=None, help="texts in the throughput batch (default 10000; quick 2000)")
    arguments = parser.parse_args()
    require_datasets()
    import joblib

    from core.config import PRESETS

    quick = arguments.quick
    presets = arguments.presets or (["default"] if quick else list(PRESETS))
    corpus = load_corpus(arguments.corpus, train_rows=2_000 if quick else None)
    epochs = arguments.epochs or (1 if quick else 2)
    calls = arguments.calls or (200 if quick else 500)
    batch_size = arguments.batch or (2_000 if quick else 10_000)
    single_rows, bulk_rows = [], []
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as workdir:
        peer_file = Path(workdir) / "peer.joblib"
        pipeline, _ = train_peer(corpus.name, split_for_training(corpus.train, PRESETS["default"]).train)
        joblib.dump(pipeline, peer_file)
        for preset_name in presets:
            single, bulk = measure_preset(preset_name, corpus, peer_file, Path(workdir) / "models", epochs, calls, batch_size)
            single_rows.append(single)
            bulk_rows.append(bulk)
            print(f"  {preset_name}: p50 {single['ours p50 ms']:.2f} ms vs peer {single['peer p50 ms']:.2f} ms", flush=True)
    report(
        "Prediction latency, throughput and load time vs TF-IDF + logistic regression",
        command_line(),
        {"single text (Predictor.predict vs pipeline.predict_proba)": single_rows,
         "batch throughput (predict_proba) and load time": bulk_rows},
        arguments.json,
    )


if __name__ == "__main__":
    main()
