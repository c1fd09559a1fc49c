"""One browser session's work: its data, training job, active model and last evaluation.

Session state plus orchestration: the pages read and change it, so every rule about what happens when lives here
and is tested without a browser. The work itself is done by the modules it calls: core.session_data (the data),
core.runs and core.experiment (a run's checks, split and save), core.shelf (the models it sees), core.active (the
model in use), core.file_predictions, core.compare and core.downloads. Each session owns one; `close()` stops its
training and frees its models (and, in public mode, deletes its model folder) when the session ends.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from core import compare, downloads, limits, training
from core.active import ActiveModel, ModelChange, ModelInUse
from core.config import TrainConfig, preset
from core.data import Dataset, Split
from core.errors import TrainingError
from core.evaluate import Evaluation
from core.experiment import EvaluationResult, models_dir, split_for_run, start_job
from core.file_predictions import FilePredictions, predict_file
from core.i18n import Message
from core.predict import Prediction
from core.registry import ModelInfo, ModelRegistry, sanitize_name
from core.runs import check_can_train, check_share, saved_run
from core.safety import public_mode
from core.session_data import SessionData
from core.shelf import ModelShelf
from core.suspects import Suspect
from core.training import TrainingJob

# Streamlit keeps a disconnected session for 120 s (server.disconnectedSessionTTL) so a browser can
# reconnect to it; training survives a dropped connection until a little after that.
RELEASE_GRACE_SECONDS = 150.0
# How long `close` waits for a stopped job: stopping takes effect after the batch in progress.
CLOSE_WAIT_SECONDS = 30.0


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
        self.data = SessionData()
        self.job: TrainingJob | None = None
        self.last_run: EvaluationResult | None = None
        self.last_run_info: ModelInfo | None = None
        # A run the user stopped: saved, but predictions keep coming from the active model until it is kept.
        self.stopped_run: ActiveModel | None = None
        self._models_root = Path(models_root) if models_root is not None else None
        self._queue = queue
        self._release_timer: threading.Timer | None = None
        self._closed = False
        # Reentrant: the model in use shares it, so a finishing run changes its state and the model at once.
        self._lock = threading.RLock()
        self.in_use = ModelInUse(self._lock)

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

    # --- data: `self.data` (core.session_data) loads and holds it; pages call it directly to load data ----------
    @property
    def dataset(self) -> Dataset | None:
        return self.data.dataset

    @property
    def test_dataset(self) -> Dataset | None:
        return self.data.test_dataset

    def fix_suspects(self, chosen: Sequence[Suspect], relabel: bool, name: str | None = None) -> TrainingJob:
        """Fixes the chosen rows (`SessionData.fix_suspects`) and trains again on the fixed data with the last
        run's settings (the `default` preset before any run).

        Raises:
            ClassError: fixing would leave fewer than two classes.
            TrainingError, InvalidModelNameError, ConfigError: as `start_training`.
        """
        check_can_train(self.dataset, self.training)
        self.data.fix_suspects(chosen, relabel)
        return self.start_training(self.job.config if self.job is not None else preset("default"), name)

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
            LimitError: as `core.runs.check_share`.
        """
        check_can_train(self.dataset, self.training)
        if name:
            sanitize_name(name)
        registry, queue = self.registry, self._queue or training.JOB_QUEUE
        check_share(config, self.dataset, registry, queue, public=self.public, visitor=self.visitor)
        split = split_for_run(self.dataset, config, self.test_dataset)
        self.last_run = self.last_run_info = self.stopped_run = None
        self.job = start_job(config, split, on_done=lambda job: self._finish_run(job, split, registry, name or None),
                             queue=queue, visitor=self.visitor if self.public else None,
                             time_limit=limits.PUBLIC_TRAIN_SECONDS if self.public else None)
        return self.job

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
        model, result = saved_run(job, split, registry, name)
        with self._lock:
            if self._closed:  # closed during the save: `close` may have missed the new folder
                self.shelf.remove_session_folder()
                return
            self.last_run, self.last_run_info = result, model.info
            if job.stop_requested:
                self.stopped_run = model
            else:
                self.in_use.use(model, result)

    def keep_stopped_run(self) -> ActiveModel:
        """Makes the run the user stopped the active model, with its evaluation.

        Raises:
            TrainingError: there is no stopped run waiting for a choice.
        """
        with self._lock:
            kept = self._take_stopped_run()
            self.in_use.use(kept, self.last_run)
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
            raise TrainingError(Message("no_stopped_run"))
        taken, self.stopped_run = self.stopped_run, None
        return taken

    # --- the active model: core.active.ModelInUse keeps it; the methods below raise as theirs there -----------
    @property
    def active(self) -> ActiveModel | None:
        return self.in_use.active

    @property
    def evaluation(self) -> EvaluationResult | None:
        return self.in_use.evaluation

    @property
    def lost_model(self) -> str | None:
        """The active model another session deleted (or replaced) under this one: named until another is active."""
        return self.in_use.lost

    def models(self) -> list[ModelInfo]:
        """This session's saved models, newest first, then the bundled ones it does not shadow (broken ones too)."""
        return self.shelf.models()

    def check_active(self) -> ModelChange | None:
        """As `ModelInUse.check`; the Train page's "Saved as" names a renamed run as it is now called."""
        change = self.in_use.check(self.shelf)
        with self._lock:
            active, info = self.active, self.last_run_info
            if change and active and active.name == change.new and info is not None and info.name == change.old:
                self.last_run_info = active.info
        return change

    def activate_model(self, name: str) -> ActiveModel:
        return self.in_use.activate(self.shelf, name)

    def set_threshold(self, threshold: float | None) -> ModelInfo:
        return self.in_use.set_threshold(self.shelf, threshold)

    def rename_model(self, old: str, new: str) -> ModelInfo:
        return self.in_use.rename(self.shelf, old, new)

    def delete_model(self, name: str) -> None:
        self.in_use.delete(self.shelf, name)

    def show_own_evaluation(self) -> None:
        self.in_use.show_own()

    def saved_model_zip(self, name: str) -> bytes:
        """As `core.downloads.saved_model_download`: the active model is exported from memory."""
        return downloads.saved_model_download(self.shelf, name, self.active)

    def tflite_zip(self, name: str, quantize: str = "none") -> bytes:
        """As `core.downloads.tflite_download`."""
        return downloads.tflite_download(self.shelf, name, quantize)

    # --- prediction and evaluation: each raises RegistryError when no model is active -----------------------------
    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return self.in_use.required().predictor.predict(texts)

    def predict_file(self, file: BinaryIO | bytes, text_column: str | None = None) -> FilePredictions:
        """As `core.file_predictions.predict_file`, with the active model."""
        return predict_file(self.in_use.required().predictor, file, text_column)

    def evaluate_upload(self, file: BinaryIO | bytes, known_labels_only: bool = False) -> EvaluationResult:
        """Evaluates the active model on an uploaded labelled file (`core.compare.evaluate_file`) and shows that
        evaluation. The model's own evaluation shows again first, so a refused file never leaves another file's
        results.
        """
        active = self.in_use.required()
        self.in_use.show_own()
        result = compare.evaluate_file(active.predictor, file, known_labels_only)
        self.in_use.show(result, of=active)
        return result

    def comparable_models(self) -> list[str]:
        return compare.comparable(self.shelf, self.active)

    def compare(self, names: Sequence[str]) -> list[tuple[str, Evaluation]]:
        """As `core.compare.compare`, on the file the active model was last evaluated on."""
        return compare.compare(self.shelf, self.active, self.evaluation, names)

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
            self.job = self.last_run = self.last_run_info = self.stopped_run = None
            self.in_use.clear()
            self.data.clear()
        self.shelf.remove_session_folder()
