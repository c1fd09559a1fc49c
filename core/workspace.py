"""One browser session's work: its data, training job, active model and last evaluation.

Session state plus the orchestration of the other core modules: the pages read and change it, so every rule about
what happens when lives here and can be tested without a browser. The models it sees are on its shelf
(core.shelf), a run is split and saved by core.experiment, and pages/_tables.py shapes what it returns for
display. Each session owns one; `close()` stops its training and frees its models (and, in public mode, deletes
its model folder) when the session ends.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from core import limits, training
from core.config import TrainConfig, preset
from core.data import Dataset, Split, TextTable, load_dataset, load_test_dataset, load_text_table
from core.errors import (
    ColumnError,
    DataError,
    EmptyFileError,
    LimitError,
    RegistryError,
    TrainingError,
)
from core.evaluate import Evaluation, decide, evaluate
from core.experiment import (
    EvaluationResult,
    finish_run,
    held_out,
    models_dir,
    saved_evaluation,
    split_for_run,
    start_job,
)
from core.export import saved_model_zip
from core.litert import tflite_zip
from core.predict import Prediction, Predictor
from core.registry import ModelInfo, ModelRegistry, sanitize_name
from core.safety import public_mode
from core.samples import DEFAULT_SAMPLE, load_sample
from core.shelf import ModelShelf
from core.suspects import DEFAULT_FOLDS, Suspect, corrected, find_suspects
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


class FilePredictions(NamedTuple):
    """A predicted file: every row as read, and its class probabilities, one column per class in `classes`
    order; a row with a blank text is not predicted and its probabilities are NaN."""

    table: TextTable
    probabilities: np.ndarray
    classes: tuple[str, ...]
    threshold: float | None = None  # the model's decision threshold (core.evaluate.decide)

    @property
    def predicted(self) -> np.ndarray:
        """True for the rows that have a prediction (a non-blank text)."""
        return ~np.isnan(self.probabilities).any(axis=1)

    @property
    def label_indices(self) -> np.ndarray:
        """Each row's predicted class, decided as the model decides (meaningless where `predicted` is False)."""
        return decide(np.nan_to_num(self.probabilities), self.threshold)


class ModelChange(NamedTuple):
    """The active model as another session left it: renamed (`new` is its name now) or deleted (`new` is None)."""

    old: str
    new: str | None


@dataclass(frozen=True)
class _Upload:
    """The bytes and name of the uploaded training file, kept to reload it with other columns."""

    content: bytes
    name: str


class Workspace:
    """Everything one browser session has loaded, trained and chosen."""

    def __init__(self, models_root: str | Path | None = None, *, public: bool | None = None,
                 queue: training.JobQueue | None = None, visitor: str | None = None) -> None:
        """Args:
        models_root: Folder of saved models; None means `core.experiment.models_dir()` at each use.
        public: Whether strangers share the app (own models per session, bundled ones read-only);
            None asks `core.safety.public_mode()` once, now.
        queue: The training queue jobs wait in; None means the one all sessions share.
        visitor: Who this session belongs to (core.limits.visitor_of: their address), so that in public mode one
            visitor's many sessions share one visitor's share of the training slots; None: not known.

        Raises:
            ConfigError: $STUDIO_PUBLIC_MODE has a value that is neither on nor off.
        """
        self.id = uuid.uuid4().hex
        self.public = public_mode() if public is None else public
        self.visitor = visitor
        self.dataset: Dataset | None = None
        # Goes up with every dataset loaded, so widgets about the old one (column choices) start afresh.
        self.dataset_version = 0
        self.test_dataset: Dataset | None = None
        self.job: TrainingJob | None = None
        self.last_run: EvaluationResult | None = None
        self.last_run_info: ModelInfo | None = None
        # A run the user stopped: saved, but predictions keep coming from the active model until it is kept.
        self.stopped_run: ActiveModel | None = None
        self.active: ActiveModel | None = None
        # The active model another session deleted (or replaced) under this one: named until another is active.
        self.lost_model: str | None = None
        self.evaluation: EvaluationResult | None = None
        # Rows of the current dataset whose label looks wrong (core.suspects), once the user asked for them.
        self.suspects: list[Suspect] | None = None
        self._models_root = Path(models_root) if models_root is not None else None
        self._queue = queue
        self._upload: _Upload | None = None
        self._release_timer: threading.Timer | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def models_root(self) -> Path:
        return self._models_root or models_dir()

    @property
    def shelf(self) -> ModelShelf:
        """The models this session sees: its own and, in public mode, the bundled ones, read-only."""
        return ModelShelf(self.models_root, self.id, public=self.public)

    @property
    def registry(self) -> ModelRegistry:
        """Where this session saves, renames and deletes: its own folder in public mode, else the models folder."""
        return self.shelf.own

    # --- data ----------------------------------------------------------------------------------------------------
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
        """A new training set makes the old test file meaningless (its labels may differ)."""
        self._replace_dataset(dataset)
        self.test_dataset = None

    def _replace_dataset(self, dataset: Dataset) -> None:
        """Suspects found in the old rows point at rows that may be gone."""
        self.dataset = dataset
        self.dataset_version += 1
        self.suspects = None

    # --- suspect labels ------------------------------------------------------------------------------------------
    def find_suspects(self, folds: int = DEFAULT_FOLDS,
                      on_fold: Callable[[int, int], None] | None = None) -> list[Suspect]:
        """Scores every row with models trained without it and keeps the rows whose label looks wrong.

        Raises:
            EmptyFileError: no data is loaded.
            ConfigError, ClassError, TrainingError: as `core.suspects.find_suspects`.
        """
        dataset = self.dataset
        if dataset is None:
            raise EmptyFileError("Load training data first: suspect labels are looked for in its rows.")
        suspects = find_suspects(dataset, folds, on_fold=on_fold)
        if self.dataset is dataset:  # another file loaded meanwhile keeps its own (no) suspects
            self.suspects = suspects
        return suspects

    def fix_suspects(self, chosen: Sequence[Suspect], relabel: bool, name: str | None = None) -> TrainingJob:
        """Drops the chosen rows, or gives them their suggested label, and trains again on the fixed data with the
        last run's settings (the `default` preset before any run).

        Raises:
            ClassError: fixing would leave fewer than two classes.
            TrainingError, InvalidModelNameError, ConfigError: as `start_training`.
        """
        self._check_can_train()
        if relabel:
            fixed = corrected(self.dataset, relabel={suspect.position: suspect.suggested for suspect in chosen})
        else:
            fixed = corrected(self.dataset, drop=[suspect.position for suspect in chosen])
        config = self.job.config if self.job is not None else preset("default")
        self._replace_dataset(fixed)
        return self.start_training(config, name)

    # --- training ------------------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        """True while a job is queued, running or saving its model."""
        return self.job is not None and not self.job.done

    def start_training(self, config: TrainConfig, name: str | None = None) -> TrainingJob:
        """Splits the data and starts a background job that evaluates, saves and activates the model.

        Args:
            config: The validated training settings.
            name: The name to save the model under; None picks one from the preset and the time.

        Raises:
            TrainingError: no data is loaded, or a job is still running.
            InvalidModelNameError: the name has nothing usable in it (checked now, not after training).
            ConfigError: the splits leave too little to train on.
            EncoderMissingError: the settings use the sentence encoder and it is not installed.
            LimitError: the run would take more than its share (core.limits.check_training), the visitor has
                PUBLIC_JOBS_PER_VISITOR runs going already, or the model would not fit the session's disk quota.
        """
        self._check_can_train()
        if name:
            sanitize_name(name)
        self._check_share(config)
        split = split_for_run(self.dataset, config, self.test_dataset)
        registry = self.registry
        self.last_run = self.last_run_info = self.stopped_run = None
        visitor = self.visitor if self.public else None
        self.job = start_job(config, split, on_done=lambda job: self._finish_run(job, split, registry, name or None),
                             queue=self._queue or training.JOB_QUEUE, visitor=visitor,
                             time_limit=limits.PUBLIC_TRAIN_SECONDS if self.public else None)
        return self.job

    def _check_share(self, config: TrainConfig) -> None:
        """Refuses, before anything is built, a run over core.limits' bounds (public mode's caps, and memory
        anywhere), a visitor's run beyond PUBLIC_JOBS_PER_VISITOR, and a model the disk quota has no room for.

        Raises:
            LimitError: says which bound and its number.
        """
        classes = len(self.dataset.classes)
        limits.check_training(config, classes, self.public)
        queue = self._queue or training.JOB_QUEUE
        if self.public and self.visitor is not None and queue.jobs_of(self.visitor) >= limits.PUBLIC_JOBS_PER_VISITOR:
            raise LimitError(
                f"You have {limits.PUBLIC_JOBS_PER_VISITOR} training runs going in other tabs already, the most one "
                "visitor may have on this shared server: wait for one to end, or stop it, before starting another."
            )
        saved_bytes = limits.estimate_parameters(config, classes) * limits.BYTES_PER_SAVED_PARAMETER
        self.registry.check_room(saved_bytes, "This model")

    def _check_can_train(self) -> None:
        """Raises TrainingError unless data is loaded and no other run is going."""
        if self.dataset is None:
            raise TrainingError("Load training data on the Data page (or the sample) before training.")
        if self.training:
            raise TrainingError("A training run is still going: wait for it or stop it before starting another.")

    def stop_training(self) -> None:
        if self.job is not None:
            self.job.stop()

    def _finish_run(self, job: TrainingJob, split: Split, registry: ModelRegistry, name: str | None) -> None:
        """Runs in the job's thread: evaluate and save, then make the new model the active one.

        A run the user stopped is saved but waits in `stopped_run` for `keep_stopped_run` or `discard_stopped_run`:
        cut short, it may be far worse than the model in use, which must not be replaced without a word.
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
                self.shelf.remove_session_folder()
                return
            self.last_run, self.last_run_info = result, info
            if job.stop_requested:
                self.stopped_run = ActiveModel(info, predictor)
            else:
                self.active, self.evaluation, self.lost_model = ActiveModel(info, predictor), result, None

    def keep_stopped_run(self) -> ActiveModel:
        """Makes the run the user stopped the active model, with its evaluation.

        Raises:
            TrainingError: there is no stopped run waiting for a choice.
        """
        with self._lock:
            kept = self._take_stopped_run()
            self.active, self.evaluation, self.lost_model = kept, self.last_run, None
        return kept

    def discard_stopped_run(self) -> None:
        """Deletes the run the user stopped; the active model stays, and the Train page starts afresh.

        Raises:
            TrainingError: there is no stopped run waiting for a choice.
            RegistryError: its folder cannot be deleted.
        """
        with self._lock:
            discarded = self._take_stopped_run()
            self.job = self.last_run = self.last_run_info = None
        self.registry.delete(discarded.name)

    def _take_stopped_run(self) -> ActiveModel:
        """The stopped run waiting for a choice, no longer waiting; called under the lock."""
        if self.stopped_run is None:
            raise TrainingError("No stopped run is waiting: it was already kept or discarded.")
        taken, self.stopped_run = self.stopped_run, None
        return taken

    # --- models --------------------------------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        """This session's saved models, newest first, then the bundled ones it does not shadow (broken ones too)."""
        return self.shelf.models()

    def check_active(self) -> ModelChange | None:
        """Notices when another session renamed or deleted the active model (sessions share the models folder
        locally), so predictions never come from a model that is no longer listed.

        A model is known by its creation time: under its old name with another creation time it was replaced.
        A renamed model stays active under its new name; a deleted one is no longer active, and `lost_model`
        names it until another model is.

        Returns:
            What changed, for the pages to say; None when the active model is still there (or none is active).
        """
        active = self.active
        if active is None or self._still_there(active.info):
            return None
        created = active.info.metadata.get("created")
        moved = next((info for info in self.shelf.models()
                      if created and info.metadata.get("created") == created and not info.broken), None)
        with self._lock:
            if self.active is not active:  # another model became active meanwhile
                return None
            if moved is not None:
                self.active = ActiveModel(moved, active.predictor)
                if self.last_run_info is not None and self.last_run_info.name == active.name:
                    self.last_run_info = moved  # the Train page's "Saved as" names it as it is now called
            else:
                self.active = self.evaluation = None
                self.lost_model = active.name
        return ModelChange(active.name, moved.name if moved else None)

    def _still_there(self, info: ModelInfo) -> bool:
        try:
            saved = self.shelf.find(info.name)
        except RegistryError:  # ModelNotFoundError among them
            return False
        return saved.broken is None and saved.metadata.get("created") == info.metadata.get("created")

    def activate_model(self, name: str) -> ActiveModel:
        """Loads a saved model for prediction and shows its saved evaluation.

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken or cannot be loaded.
        """
        shelf = self.shelf
        active = ActiveModel(shelf.usable(name), shelf.load_predictor(name))
        with self._lock:
            self.active, self.lost_model = active, None
            self.evaluation = saved_evaluation(active.info)
        return active

    def set_threshold(self, threshold: float | None) -> ModelInfo:
        """Saves the active two-class model's decision threshold with it and decides with it from now on; None
        goes back to predicting the likeliest class.

        Raises:
            RegistryError: no model is active, or it is bundled (read-only) or broken.
            ConfigError: the model has more than two classes, or the threshold is not between 0 and 1.
        """
        active = self._active()
        info = self.shelf.writable(active.name).set_threshold(active.name, threshold)
        active.predictor.threshold = threshold  # the loaded model now decides as its saved copy does
        with self._lock:
            if self.active is active:
                self.active = ActiveModel(info, active.predictor)
        return info

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

    def saved_model_zip(self, name: str) -> bytes:
        """The model as a zipped TensorFlow SavedModel, for serving without this app (core.export); the active
        model is exported from memory, any other is loaded first.

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken or cannot be exported.
        """
        active = self.active
        if active is not None and active.name == name:
            return saved_model_zip(active.predictor, name)
        return saved_model_zip(self.shelf.load_predictor(name, "exported"), name)

    def tflite_zip(self, name: str, quantize: str = "none") -> bytes:
        """The saved model as a zipped TensorFlow Lite folder (core.litert), "int8" quantized or not; converted in
        a subprocess, so the converter's leaked memory does not stay with the app.

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken.
            ExportError: the model cannot be converted (the message says why and what to do instead).
        """
        return tflite_zip(self.shelf.usable(name, "exported").path, name, quantize)

    # --- prediction and evaluation -------------------------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Predictions of the active model.

        Raises:
            RegistryError: no model is active.
        """
        return self._active().predictor.predict(texts)

    def predict_file(self, file: BinaryIO | bytes, text_column: str | None = None) -> FilePredictions:
        """Predicts every non-blank text of an uploaded file with the active model, keeping every row and column.

        Raises:
            RegistryError: no model is active.
            DataError: the file cannot be read or has no text column.
        """
        predictor = self._active().predictor
        table = load_text_table(file, text_column=text_column, name=getattr(file, "name", None))
        filled = np.array([bool(text.strip()) for text in table.texts])
        probabilities = np.full((len(filled), len(predictor.classes)), np.nan, dtype=np.float32)
        probabilities[filled] = predictor.predict_proba([text for text in table.texts if text.strip()])
        return FilePredictions(table, probabilities, predictor.classes, predictor.threshold)

    def evaluate_upload(self, file: BinaryIO | bytes, known_labels_only: bool = False) -> EvaluationResult:
        """Evaluates the active model on an uploaded labelled file and shows that evaluation.

        The model's own evaluation shows again first, so a refused file never leaves another file's results.

        Args:
            known_labels_only: score only the rows whose label the model knows; the result's dataset report
                counts the others in `dropped_unknown`.

        Raises:
            RegistryError: no model is active.
            UnknownLabelError: the file has labels the model does not know (and `known_labels_only` is off).
            DataError: the file is unusable, or no row has a label the model knows.
        """
        active = self._active()
        self.show_own_evaluation()
        dataset = load_test_dataset(file, classes=active.predictor.classes, name=getattr(file, "name", None),
                                    drop_unknown=known_labels_only)
        result = EvaluationResult(evaluate(active.predictor, dataset), dataset.report.source, len(dataset), dataset)
        with self._lock:
            if self.active is active:  # a run that finished meanwhile shows its own evaluation instead
                self.evaluation = result
        return result

    def show_own_evaluation(self) -> None:
        """Shows the active model's own evaluation (on its test split) again instead of an uploaded file's."""
        if self.evaluation is None or self.evaluation.dataset is None:  # already its own: no need to wait for the lock
            return
        with self._lock:
            if self.active is not None and self.evaluation is not None and self.evaluation.dataset is not None:
                self.evaluation = saved_evaluation(self.active.info)

    def comparable_models(self) -> list[str]:
        """Saved models that can be scored beside the active one: usable, and with the same classes."""
        active = self.active
        return [] if active is None else self.shelf.comparable(active.predictor.classes, besides=active.name)

    def compare(self, names: Sequence[str]) -> list[tuple[str, Evaluation]]:
        """The active model and the models `names`, scored on the same uploaded file, in that order.

        Raises:
            DataError: no labelled file was uploaded for the active model yet.
            ModelNotFoundError, RegistryError: as `ModelShelf.score`.
        """
        active, result = self.active, self.evaluation
        if active is None or result is None or result.dataset is None:
            raise DataError("Upload a labelled file under 'Evaluate on another file' first: models are compared "
                            "on the same rows.")
        evaluation = result.evaluation
        return [(active.name, evaluation), *self.shelf.score(names, result.dataset, evaluation.classes)]

    def _active(self) -> ActiveModel:
        active = self.active
        if active is None:
            raise RegistryError("No model is active: train one, or load a saved one on the Models page.")
        return active

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
            self.job = self.active = self.evaluation = self.last_run = self.last_run_info = self.stopped_run = None
            self.dataset = self.test_dataset = self._upload = self.suspects = None
        self.shelf.remove_session_folder()


def _read_bytes(file: BinaryIO) -> bytes:
    """All bytes of an upload; `getvalue` first, since an UploadedFile read once before is at its end."""
    data = file.getvalue() if hasattr(file, "getvalue") else file.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)
