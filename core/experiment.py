"""The one place that splits a run's data and turns a finished training job into an evaluated, saved model.

The Train page (through the workspace) and the CLI both split and end a run here, so a model saved from either
was held out and scored the same way and carries the same metadata. TensorFlow is imported only when a run
ends, so the CLI can check the data (and its split) before paying for that import. `saved_evaluation` reads a
saved run's evaluation back from its metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.data import Dataset, Split, split_dataset
from core.errors import DataError
from core.evaluate import Evaluation, evaluate
from core.registry import ModelInfo, ModelRegistry

if TYPE_CHECKING:
    from core.config import TrainConfig
    from core.predict import Predictor
    from core.training import TrainingJob

# Misclassified examples kept in metadata.json for the Evaluate page; more would bloat every listing.
MAX_SAVED_MISTAKES = 500
# The Train page starts from `transfer` when embedding the data would take at most this long (the bundled
# sample's vectors and cached ones take no time): it beats `default` by 3 to 8 points on 1,000 rows and by 1 to
# 2.4 on full corpora (bench/RESULTS.md), worth a minute's wait; beyond it the page suggests `default`, which
# trains at once (choosing `transfer` shows the embedding estimate first).
SUGGEST_TRANSFER_SECONDS = 60.0


@dataclass(frozen=True)
class EvaluationResult:
    """An evaluation and what it was measured on, e.g. "test" (32 rows) or an uploaded file's name."""

    evaluation: Evaluation
    source: str
    rows: int
    # The labelled rows themselves when they came from an upload, so other models can be scored on them.
    dataset: Dataset | None = None


def models_dir() -> Path:
    """Where models are saved: $STUDIO_MODELS_DIR, or the repository's models/ folder."""
    return Path(os.environ.get("STUDIO_MODELS_DIR") or Path(__file__).resolve().parent.parent / "models")


def split_for_run(dataset: Dataset, config: TrainConfig, test: Dataset | None = None) -> Split:
    """The stratified train, validation and test parts of a run; with a separate test file only validation is
    held out of `dataset`, and the file is the test part.

    Raises:
        ConfigError: the splits leave too little to train on.
    """
    split = split_dataset(dataset, validation_fraction=config.validation_split,
                          test_fraction=0.0 if test is not None else config.test_split, seed=config.seed)
    return split if test is None else Split(split.train, split.validation, test)


def embedding_seconds(config: TrainConfig, dataset: Dataset) -> float | None:
    """About how long a run with `config` would embed `dataset` before its first epoch; None when it reads no
    encoder vectors.

    Raises:
        EncoderMissingError: the config reads encoder vectors and the encoder is not installed.
    """
    if not config.uses_encoder:
        return None
    from core.encoder import Encoding

    return Encoding.of(config).estimate_seconds(dataset.texts)


def suggested_preset(dataset: Dataset) -> str:
    """`transfer` when the encoder is installed and embedding `dataset` is quick, `default` otherwise."""
    from core.config import preset
    from core.encoder import available

    if not available():
        return "default"
    seconds = embedding_seconds(preset("transfer"), dataset)
    return "transfer" if seconds is not None and seconds <= SUGGEST_TRANSFER_SECONDS else "default"


def held_out(split: Split) -> tuple[str, Dataset]:
    """What a finished run is scored on: ("test", the test part), or the validation part when there is none."""
    return ("test", split.test) if len(split.test) else ("validation", split.validation)


def start_job(config: TrainConfig, split: Split, **options: Any) -> TrainingJob:
    """Starts the training job of a run; a run over sentence-encoder vectors embeds its test part up front too,
    so that the progress bar covers all the embedding and scoring afterwards finds every vector cached.

    Args:
        options: passed to `TrainingJob` (on_done, queue, distribution).

    Raises:
        EncoderMissingError: the config uses the sentence encoder and it is not installed.
    """
    from core.training import TrainingJob

    if config.uses_encoder:
        from core.encoder import encoder

        encoder()  # refuses now, in the caller's thread, rather than as a failed job
        options["embed_also"] = split.test.texts
    return TrainingJob(config, split.train, split.validation, **options).start()


def finish_run(job: TrainingJob, split: Split, registry: ModelRegistry,
               name: str | None = None) -> tuple[ModelInfo, Evaluation, Predictor]:
    """Evaluate the job's model on the held-out part and save it.

    Returns:
        The saved model's entry, its evaluation, and the predictor it was scored with (ready for use, so
        callers need not trace the model's serving function again).
    """
    from core.predict import Predictor

    predictor = Predictor.of_config(job.model, job.classes, job.config)
    evaluation = evaluate(predictor, held_out(split)[1])
    info = registry.save(job.model, run_metadata(job, split, evaluation), name=name)
    return info, evaluation, predictor


def run_metadata(job: TrainingJob, split: Split, evaluation: Evaluation) -> dict[str, Any]:
    """What reproducing and comparing the run needs: config, classes, metrics, history and the data used."""
    from core.prune import sparsity

    report = split.train.report
    metrics = evaluation.to_dict()
    metrics["misclassified"] = metrics["misclassified"][:MAX_SAVED_MISTAKES]
    return {**encoder_metadata(job.config),
        "preset": job.config.preset,
        "config": job.config.to_dict(),
        "classes": list(job.classes),
        "metrics": metrics,
        "evaluated_on": held_out(split)[0],
        "history": list(job.snapshot().epoch_history),
        "epochs_run": job.epochs_run,
        "stopped_by_user": job.stop_requested,
        "train_seconds": round(job.train_seconds, 3),
        "device": job.device,
        "sparsity": round(sparsity(job.model), 4),  # zeros among the weight matrices; pruning raises it
        "data": {
            "source": report.source if report else None,
            "fingerprint": split.train.fingerprint(),
            "rows": {"train": len(split.train), "validation": len(split.validation), "test": len(split.test)},
            "class_counts": split.train.class_counts(),
        },
    }


def encoder_metadata(config: TrainConfig) -> dict[str, Any]:
    """{"encoder": name, version and checksum} for a model over encoder vectors: loading it checks them."""
    if not config.uses_encoder:
        return {}
    from core.encoder import encoder

    return {"encoder": encoder().identity.to_dict()}


def saved_evaluation(info: ModelInfo) -> EvaluationResult | None:
    """The evaluation `run_metadata` stored in a model's metadata, or None for models saved without one."""
    metrics = info.metadata.get("metrics")
    if not metrics:
        return None
    try:
        evaluation = Evaluation.from_dict(metrics)
    except DataError:  # a damaged metrics entry must not keep a usable model from loading
        return None
    rows = info.metadata.get("data", {}).get("rows", {})
    source = info.metadata.get("evaluated_on", "test")
    return EvaluationResult(evaluation, source, int(rows.get(source, sum(map(sum, evaluation.confusion)))))
