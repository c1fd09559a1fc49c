"""Compressed models: float vs int8 TensorFlow Lite vs pruned, on the shared corpora.

For each corpus a preset is trained twice (as it is, and with `prune_sparsity`), each model is exported to
TensorFlow Lite in float32 and int8, and every form is scored on test.csv: file sizes (.keras, .tflite,
zipped), test accuracy, agreement with the float Keras model, and single-text latency, the TensorFlow Lite
files run by ai-edge-litert through the export folder's own numpy preprocessor (`LiteModel`), the Keras
models by the app's Predictor, measured in the same process on the same texts.

    .venv/bin/python bench/compress.py [--quick] [--preset default] [--sparsity 0.8] [--json out.json]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from _common import CORPORA, base_parser, command_line, load_corpus, median, report, require_datasets
from _common import split_for_training, train_ours

LATENCY_CALLS = 200


def _latency_ms(scorer: Any, texts: list[str]) -> float:
    """Median milliseconds of one single-text call, over texts cycled from the test set."""
    scorer.predict_proba(texts[:1])  # warm: first-call planning is not what a user waits for each time
    times = []
    for index in range(LATENCY_CALLS):
        started = time.perf_counter()
        scorer.predict_proba([texts[index % len(texts)]])
        times.append(time.perf_counter() - started)
    return median(times) * 1000


def _row(corpus: str, form: str, scorer: Any, test: Any, reference: Any, files: dict[str, int]) -> dict[str, Any]:
    from core.evaluate import evaluate

    probabilities = scorer.predict_proba(list(test.texts))
    evaluation = evaluate(scorer, test)
    return {
        "corpus": corpus, "form": form, **{name: round(size / 1e6, 3) for name, size in files.items()},
        "test_accuracy": round(evaluation.accuracy, 4),
        "agreement_with_keras": round(float((probabilities.argmax(1) == reference.argmax(1)).mean()), 4),
        "latency_ms": round(_latency_ms(scorer, list(test.texts)), 3),
    }


def _forms(corpus: str, label: str, job: Any, test: Any, reference: Any, folder: Path) -> list[dict[str, Any]]:
    """The Keras model and its float and int8 TensorFlow Lite exports, one row each."""
    from core.litert import write_export
    from core.litert_preprocess import MODEL_FILE as TFLITE_FILE
    from core.litert_preprocess import LiteModel
    from core.predict import Predictor
    from core.prune import zipped_size
    from core.registry import MODEL_FILE, ModelRegistry

    saved = ModelRegistry(folder / "models").save(job.model, {"classes": list(job.classes)}, name=label).path
    keras_file = saved / MODEL_FILE
    rows = [_row(corpus, f"{label} .keras", Predictor.load(saved), test, reference,
                 {"file_mb": keras_file.stat().st_size, "zipped_mb": zipped_size(keras_file)})]
    for quantize in ("none", "int8"):
        export = write_export(saved, folder / f"{label}-{quantize}", quantize)
        lite_file = export / TFLITE_FILE
        form = f"{label} .tflite {'float32' if quantize == 'none' else 'int8'}"
        rows.append(_row(corpus, form, LiteModel(export), test, reference,
                         {"file_mb": lite_file.stat().st_size, "zipped_mb": zipped_size(lite_file)}))
    return rows


def measure(corpus_name: str, preset_name: str, sparsity: float, quick: bool) -> list[dict[str, Any]]:
    from core.config import preset
    from core.predict import Predictor

    corpus = load_corpus(corpus_name, train_rows=1500 if quick else None, test_rows=300 if quick else None)
    config = preset(preset_name).replace(epochs=2) if quick else preset(preset_name)
    split = split_for_training(corpus.train, config)
    rows = []
    with tempfile.TemporaryDirectory() as temp:
        dense = train_ours(config, split)
        reference = Predictor(dense.model, dense.classes).predict_proba(list(corpus.test.texts))
        rows += _forms(corpus_name, "float", dense, corpus.test, reference, Path(temp))
        pruned = train_ours(config.replace(prune_sparsity=sparsity), split)
        rows += _forms(corpus_name, f"pruned {sparsity:.0%}", pruned, corpus.test, reference, Path(temp))
    return rows


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--sparsity", type=float, default=0.8)
    args = parser.parse_args()
    require_datasets()
    rows = [row for corpus in CORPORA for row in measure(corpus, args.preset, args.sparsity, args.quick)]
    report("Compressed models", command_line(), {f"{args.preset}: float vs int8 vs pruned": rows}, args.json)


if __name__ == "__main__":
    main()
