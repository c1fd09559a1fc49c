"""One browser session's work: its data, split, training job, active model and last evaluation.

A plain object the pages read and change, so every rule about what happens when lives here and can be
tested without a browser. Each session owns one; `close()` stops its training and frees its models (and, in
public mode, deletes its model folder) when the session ends.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from core import training
from core.config import TrainConfig
from core.data import Dataset, Split, load_dataset, load_test_dataset, load_texts
from core.errors import (
    ColumnError,
    ConfigError,
    DataError,
    EmptyFileError,
    ModelNotFoundError,
    RegistryError,
    TrainingError,
)
from core.evaluate import Evaluation, evaluate
from core.experiment import finish_run, held_out, models_dir, split_for_run
from core.export import saved_model_zip
from core.predict import Prediction, Predictor
from core.registry import MODEL_FILE, ModelInfo, ModelRegistry, sanitize_name
from core.safety import public_mode
from core.shelf import ModelShelf
from core.samples import DEFAULT_SAMPLE, load_sample
from core.training import TrainingJob

# Streamlit keeps a disconnected session for 120 s (server.disconnectedSessionTTL) so a browser can
# reconnect to it; training survives a dropped connection until a little after that.
RELEASE_GRACE_SECONDS = 150.0
# How long `close` waits for a stopped job: stopping takes effect after the batch in progress.
CLOSE_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class ActiveModel:
    """The model predictions come from: its registry entry and a ready predictor."""

    info: ModelInfo
    predictor: Predictor

    @property
    def name(self) -> str:
        return self.info.name


@dataclass(frozen=True)
class EvaluationResult:
    """An evaluation and what it was measured on, e.g. "test" (32 rows) or an uploaded file's name."""

    evaluation: Evaluation
    source: str
    rows: int
    # The labelled rows themselves when they came from an upload, so other models can be scored on them.
    dataset: Dataset | None = None


@dataclass(frozen=True)
class _Upload:
    """The bytes and name of the uploaded training file, kept to reload it with other columns."""

    content: bytes
    name: str


class Workspace:
    """Everything one browser session has loaded, trained and chosen."""

    def __init__(self, models_root: str | Path | None = None, *, public: bool | None = None,
                 queue: training.JobQueue | None = None) -> None:
        """Args:
        models_root: Folder of saved models; None means `core.experiment.models_dir()` at each use.
        public: Whether strangers share the app (own models per session, bundled ones read-only);
            None asks `core.safety.public_mode()` once, now.
        queue: The training queue jobs wait in; None means the one all sessions share.

        Raises:
            ConfigError: $STUDIO_PUBLIC_MODE has a value that is neither on nor off.
        """
        self.id = uuid.uuid4().hex
        self.public = public_mode() if public is None else public
        self.language = "en"
        self.dataset: Dataset | None = None
        # Goes up with every dataset loaded, so widgets about the old one (column choices) start afresh.
        self.dataset_version = 0
        self.test_dataset: Dataset | None = None
        self.split: Split | None = None
        self.job: TrainingJob | None = None
        self.last_run: EvaluationResult | None = None
        self.last_run_info: ModelInfo | None = None
        self.active: ActiveModel | None = None
        self.evaluation: EvaluationResult | None = None
        self._models_root = Path(models_root) if models_root is not None else None
        self._queue = queue
        self._upload: _Upload | None = None
        self._release_timer: threading.Timer | None = None
        self._closed = False
        self._lock = threading.Lock()

    # --- data ----------------------------------------------------------------------------------------------------
    @property
    def models_root(self) -> Path:
        return self._models_root or models_dir()

    @property
    def shelf(self) -> ModelShelf:
        """The models this session sees: its own and, in public mode, the bundled ones (core.shelf)."""
        return ModelShelf(self.models_root, self.id, public=self.public)

    @property
    def registry(self) -> ModelRegistry:
        """Where this session saves, renames and deletes: its own folder in public mode, else the models folder."""
        return self.shelf.own

    @property
    def bundled(self) -> ModelRegistry | None:
        """The models shipped with the app, read-only, in public mode; None locally (they are in `registry`)."""
        return self.shelf.bundled

    @property
    def can_change_columns(self) -> bool:
        """Columns can be re-chosen for an uploaded file; the bundled samples have just text and label."""
        return self._upload is not None

    def load_upload(self, file: BinaryIO | bytes, text_column: str | None = None,
                    label_column: str | None = None, name: str | None = None) -> Dataset:
        """Loads an uploaded training file; on any error the dataset loaded before stays.

        Raises:
            DataError: the file cannot be used; the message says why and what to do.
        """
        content = file if isinstance(file, bytes) else _read_bytes(file)
        upload = _Upload(content, name or getattr(file, "name", None) or "uploaded file")
        dataset = load_dataset(upload.content, name=upload.name, text_column=text_column, label_column=label_column)
        self._upload = upload
        self._use_dataset(dataset)
        return dataset

    def reload_columns(self, text_column: str, label_column: str) -> Dataset:
        """Reads the uploaded file again with the columns the user chose.

        Raises:
            DataError: no file was uploaded, or the chosen columns cannot be used.
        """
        if self._upload is None:
            raise ColumnError("Only an uploaded file can be read with other columns: upload a CSV file first.")
        return self.load_upload(self._upload.content, text_column, label_column, name=self._upload.name)

    def load_sample(self, name: str = DEFAULT_SAMPLE) -> Dataset:
        """Loads a bundled sample as the training data.

        Raises:
            DataError: there is no sample by that name.
        """
        dataset = load_sample(name)
        self._upload = None
        self._use_dataset(dataset)
        return dataset

    def load_test_upload(self, file: BinaryIO | bytes) -> Dataset:
        """Loads a separate test file for the current training data, used instead of a random test split.

        Raises:
            DataError: no training data yet, or the file is unusable or has labels the data lacks.
        """
        if self.dataset is None:
            raise EmptyFileError("Load training data first; a test file is checked against its labels.")
        self.test_dataset = load_test_dataset(file, classes=self.dataset.classes, name=getattr(file, "name", None))
        return self.test_dataset

    def clear_test_dataset(self) -> None:
        self.test_dataset = None

    def _use_dataset(self, dataset: Dataset) -> None:
        """A new training set makes the old split and test file meaningless (its labels may differ)."""
        self.dataset = dataset
        self.dataset_version += 1
        self.test_dataset = None
        self.split = None

    # --- training ------------------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        """True while a job is queued, running or saving its model."""
        return self.job is not None and not self.job.snapshot().done

    def start_training(self, config: TrainConfig, name: str | None = None) -> TrainingJob:
        """Splits the data and starts a background job that evaluates, saves and activates the model.

        Args:
            config: The validated training settings.
            name: The name to save the model under; None picks one from the preset and the time.

        Raises:
            TrainingError: no data is loaded, or a job is still running.
            InvalidModelNameError: the name has nothing usable in it (checked now, not after training).
            ConfigError: the splits leave too little to train on.
        """
        if self.dataset is None:
            raise TrainingError("Load training data on the Data page (or the sample) before training.")
        if self.training:
            raise TrainingError("A training run is still going: wait for it or stop it before starting another.")
        if name:
            sanitize_name(name)
        split = split_for_run(self.dataset, config, self.test_dataset)
        registry = self.registry
        self.split = split
        self.last_run = self.last_run_info = None
        self.job = TrainingJob(
            config, split.train, split.validation,
            on_done=lambda job: self._finish_run(job, split, registry, name or None),
            queue=self._queue or training.JOB_QUEUE,
        ).start()
        return self.job

    def stop_training(self) -> None:
        if self.job is not None:
            self.job.stop()

    def _finish_run(self, job: TrainingJob, split: Split, registry: ModelRegistry, name: str | None) -> None:
        """Runs in the job's thread: evaluate and save, then make the new model the active one.

        After the session ended nothing becomes active; in public mode nothing is saved either, since the
        session's folder is deleted (locally the stopped run's best model is kept in the models folder).
        """
        if self._closed and self.public:
            return
        info, evaluation, predictor = finish_run(job, split, registry, name)
        source, rows = held_out(split)
        result = EvaluationResult(evaluation, source, len(rows))
        with self._lock:
            if self._closed:  # closed during the save: `close` may have missed the new folder
                self._delete_session_models()
                return
            self.last_run, self.last_run_info = result, info
            self.active = ActiveModel(info, predictor)
            self.evaluation = result

    # --- models --------------------------------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        """This session's saved models, newest first, then the bundled ones it does not shadow (broken ones too)."""
        return self.shelf.models()

    def bundled_names(self) -> frozenset[str]:
        """Names of the listed models that ship with the app and cannot be changed (public mode)."""
        return self.shelf.bundled_names()

    def is_bundled(self, name: str) -> bool:
        """True for a model shipped with the app in public mode: it can be used and downloaded, not changed."""
        return self.shelf.is_bundled(name)

    def activate_model(self, name: str) -> ActiveModel:
        """Loads a saved model for prediction and shows its saved evaluation.

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken or cannot be loaded.
        """
        shelf = self.shelf
        info = shelf.usable(name)
        active = ActiveModel(info, shelf.load_predictor(name))
        with self._lock:
            self.active = active
            self.evaluation = saved_evaluation(info)
        return active

    def rename_model(self, old: str, new: str) -> ModelInfo:
        """Renames a saved model, keeping it active if it was.

        Raises:
            ModelNotFoundError, InvalidModelNameError, RegistryError: as `ModelRegistry.rename`; RegistryError
                also for a bundled model.
        """
        info = self.shelf.writable(old).rename(old, new)
        with self._lock:
            if self.active is not None and self.active.name == old:
                self.active = ActiveModel(info, self.active.predictor)
        return info

    def delete_model(self, name: str) -> None:
        """Deletes a saved model; if it was active, no model is active afterwards.

        Raises:
            ModelNotFoundError, RegistryError: as `ModelRegistry.delete`; RegistryError also for a bundled model.
        """
        self.shelf.writable(name).delete(name)
        with self._lock:
            if self.active is not None and self.active.name == name:
                self.active = None
                self.evaluation = None

    def model_file(self, name: str) -> Path:
        """The model.keras file of a saved model, for downloading.

        Raises:
            ModelNotFoundError: no model has that name.
        """
        return self.shelf.find(name).path / MODEL_FILE

    def saved_model_zip(self, name: str) -> bytes:
        """The model as a zipped TensorFlow SavedModel, for serving without this app (core.export).

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken or cannot be exported.
        """
        active = self.active
        if active is not None and active.name == name:
            return saved_model_zip(active.predictor, name)
        return saved_model_zip(self.shelf.load_predictor(name, "exported"), name)

    # --- prediction and evaluation -------------------------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Predictions of the active model.

        Raises:
            RegistryError: no model is active.
        """
        return self._predictor().predict(texts)

    def predict_file(self, file: BinaryIO | bytes, text_column: str | None = None) -> pd.DataFrame:
        """Predicts every text of an uploaded file: text, predicted label, confidence and one column per class.

        Raises:
            RegistryError: no model is active.
            DataError: the file cannot be read or has no text column.
        """
        predictor = self._predictor()
        texts = load_texts(file, text_column=text_column, name=getattr(file, "name", None))
        probabilities = predictor.predict_proba(texts)
        frame = pd.DataFrame({"text": texts})
        frame["predicted"] = [predictor.classes[index] for index in probabilities.argmax(axis=1)]
        frame["confidence"] = probabilities.max(axis=1)
        for position, label in enumerate(predictor.classes):
            frame[f"p_{label}"] = probabilities[:, position]
        return frame

    def evaluate_upload(self, file: BinaryIO | bytes) -> EvaluationResult:
        """Evaluates the active model on an uploaded labelled file and shows that evaluation.

        Raises:
            RegistryError: no model is active.
            DataError: the file is unusable or has labels the model does not know.
        """
        predictor = self._predictor()
        dataset = load_test_dataset(file, classes=predictor.classes, name=getattr(file, "name", None))
        result = EvaluationResult(evaluate(predictor, dataset), dataset.report.source, len(dataset), dataset)
        self.evaluation = result
        return result

    def comparable_models(self) -> list[str]:
        """Saved models that can be scored beside the active one: usable, and with the same classes."""
        if self.active is None:
            return []
        classes = list(self.active.predictor.classes)
        return [info.name for info in self.models()
                if not info.broken and info.name != self.active.name and info.metadata.get("classes") == classes]

    def compare(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """The active model and the models `names`, scored on the same uploaded file: one row each, best first.

        Models are loaded one at a time and let go once scored, so comparing several costs the memory of one.

        Raises:
            DataError: no labelled file was uploaded for the active model yet.
            ModelNotFoundError: no model has one of the names.
            RegistryError: a model is broken or knows other classes than the file's.
        """
        result = self.evaluation
        if self.active is None or result is None or result.dataset is None:
            raise DataError("Upload a labelled file under 'Evaluate on another file' first: models are compared "
                            "on the same rows.")
        rows = [comparison_row(self.active.name, result.evaluation)]
        for name in names:
            predictor = self.shelf.load_predictor(name)
            if predictor.classes != result.evaluation.classes:
                raise RegistryError(f"The model {name!r} predicts {', '.join(predictor.classes)}, not "
                                    f"{', '.join(result.evaluation.classes)}: it cannot be scored on this file.")
            rows.append(comparison_row(name, evaluate(predictor, result.dataset)))
        return sorted(rows, key=lambda row: -row["accuracy"])

    def _predictor(self) -> Predictor:
        active = self.active
        if active is None:
            raise RegistryError("No model is active: train one, or load a saved one on the Models page.")
        return active.predictor

    # --- session lifetime ----------------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once `close` ran: the workspace keeps nothing and saves nothing any more."""
        return self._closed

    def hold(self) -> None:
        """The session is (again) connected: cancel a pending `release`."""
        with self._lock:
            if self._release_timer is not None:
                self._release_timer.cancel()
                self._release_timer = None

    def release(self, grace_seconds: float | None = None) -> None:
        """The session disconnected: close after `grace_seconds` (default RELEASE_GRACE_SECONDS) unless `hold` is
        called first, as a reconnecting browser does.
        """
        timer = threading.Timer(RELEASE_GRACE_SECONDS if grace_seconds is None else grace_seconds, self.close)
        timer.daemon = True
        with self._lock:
            if self._release_timer is not None:
                self._release_timer.cancel()
            self._release_timer = timer
        timer.start()

    def close(self, wait_seconds: float = CLOSE_WAIT_SECONDS) -> None:
        """Ends the session's work for good: stops training, frees data and models, and in public mode deletes
        the session's model folder. Called when the browser session ends.

        Args:
            wait_seconds: How long to wait for a stopped job's thread to end.
        """
        with self._lock:
            self._closed = True
        job = self.job
        if job is not None:
            job.stop()
            job.wait(wait_seconds)
        with self._lock:
            # Dropping these frees the Keras models and the data; a finished job holds its model too.
            self.job = self.active = self.evaluation = self.last_run = self.last_run_info = None
            self.dataset = self.test_dataset = self.split = self._upload = None
        self._delete_session_models()

    def _delete_session_models(self) -> None:
        self.shelf.remove_session_folder()


def saved_evaluation(info: ModelInfo) -> EvaluationResult | None:
    """The evaluation stored in a model's metadata, or None for models saved without one."""
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


def comparison_row(name: str, evaluation: Evaluation) -> dict[str, Any]:
    """One model's scores for the comparison table: accuracy, macro-F1, ROC AUC and F1 per class."""
    return {"model": name, "accuracy": evaluation.accuracy, "macro_f1": evaluation.macro_f1,
            "roc_auc": evaluation.roc_auc, **{f"f1_{metrics.label}": metrics.f1 for metrics in evaluation.per_class}}


def parse_layer_sizes(text: str) -> list[int]:
    """Reads layer sizes typed as "64, 128" (spaces, commas or semicolons between whole numbers).

    Raises:
        ConfigError: a part is not a whole number, or nothing was typed.
    """
    parts = [part for part in text.replace(";", ",").replace(" ", ",").split(",") if part]
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        raise ConfigError(
            f"Layer sizes {text!r} must be whole numbers separated by commas, for example 64, 128."
        ) from None
    if not sizes:
        raise ConfigError("Give at least one layer size, for example 64, or 64, 128 for two layers.")
    return sizes


def filter_examples(rows: Sequence[dict], *, contains: str = "", true_label: str | None = None) -> list[dict]:
    """Misclassified examples whose text contains `contains` (ignoring case) and whose true label matches."""
    needle = contains.casefold().strip()
    return [
        row for row in rows
        if (not needle or needle in str(row["text"]).casefold()) and (true_label is None or row["true"] == true_label)
    ]


def model_rows(infos: Sequence[ModelInfo], active_name: str | None = None,
               bundled: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One table row per saved model, for the Models page; broken models carry their reason, and models
    named in `bundled` are marked as shipped with the app (read-only)."""
    return [_model_row(info, info.name == active_name, info.name in bundled) for info in infos]


def _model_row(info: ModelInfo, active: bool, bundled: bool) -> dict[str, Any]:
    metadata = info.metadata
    metrics = metadata.get("metrics", {})
    config = metadata.get("config", {})
    data = metadata.get("data", {})
    rows = data.get("rows", {})
    return {
        "active": active,
        "name": info.name,
        "bundled": bundled,
        "created": str(metadata.get("created", ""))[:19].replace("T", " "),
        "preset": metadata.get("preset") or "",
        "family": config.get("family", ""),
        "layers": ", ".join(map(str, config.get("layer_sizes", []))),
        "accuracy": metrics.get("accuracy"),
        "macro_f1": metrics.get("macro_f1"),
        "evaluated_on": metadata.get("evaluated_on", ""),
        # Scores compare fairly only between models trained on the same data: same source and fingerprint.
        "data": f"{data.get('source') or ''} · {str(data.get('fingerprint') or '')[:8]}".strip(" ·"),
        "rows": sum(rows.values()) if rows else None,
        "epochs": metadata.get("epochs_run"),
        "train_seconds": metadata.get("train_seconds"),
        "device": metadata.get("device", ""),
        "problem": info.broken or "",
    }


def _read_bytes(file: BinaryIO) -> bytes:
    """All bytes of an upload; `getvalue` first, since an UploadedFile read once before is at its end."""
    data = file.getvalue() if hasattr(file, "getvalue") else file.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)
