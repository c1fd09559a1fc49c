"""Training in a background thread that pages and the CLI can watch, stop and wait for.

A `TrainingJob` is a plain object with a lock, a history and a stop event. A Keras callback records
metrics into it and honours the stop request; nothing here knows who is watching.
"""

from __future__ import annotations

import enum
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from core.config import TrainConfig
from core.data import Dataset
from core.errors import TrainingError
from core.model import build_model

# Jobs allowed to train at once across all browser sessions; the rest wait in line. Two suits a
# 2-core, 2.7 GB Community Cloud machine: a third job would only slow the other two down.
MAX_CONCURRENT_JOBS = int(os.environ.get("STUDIO_MAX_CONCURRENT_JOBS", "2"))


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"


_DONE = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED)


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's progress, safe to read while the job goes on."""

    status: JobStatus
    device: str
    epoch: int  # 1-based epoch in progress (or last finished)
    epochs: int
    batch: int  # batches done in the current epoch
    batches_per_epoch: int
    progress: float
    eta_seconds: float | None
    elapsed_seconds: float
    batch_history: list[dict[str, float]]
    epoch_history: list[dict[str, float]]
    log_lines: list[str]
    error: str | None = None
    queue_position: int | None = None

    @property
    def done(self) -> bool:
        return self.status in _DONE


class JobQueue:
    """First come, first served admission of jobs to a fixed number of training slots."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._running: set[TrainingJob] = set()
        self._waiting: list[TrainingJob] = []
        self._changed = threading.Condition()

    def enter(self, job: TrainingJob) -> bool:
        """Block until `job` may train; False if it was stopped while waiting."""
        with self._changed:
            self._waiting.append(job)
            while not job.stop_requested and not (
                self._waiting[0] is job and len(self._running) < self.slots
            ):
                self._changed.wait(timeout=0.5)
            self._waiting.remove(job)
            if not job.stop_requested:
                self._running.add(job)
            self._changed.notify_all()
            return not job.stop_requested

    def leave(self, job: TrainingJob) -> None:
        with self._changed:
            self._running.discard(job)
            self._changed.notify_all()

    def position(self, job: TrainingJob) -> int | None:
        """1 for the next job in line; None when the job is not waiting."""
        with self._changed:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()


JOB_QUEUE = JobQueue(MAX_CONCURRENT_JOBS)
_GPU_SETUP = threading.Lock()


def device_description() -> str:
    """Where training runs, in words, e.g. "GPU: /physical_device:GPU:0" or "CPU (2 cores)"."""
    gpus = _visible_gpus()
    if gpus:
        names = ", ".join(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus)
        return f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''}: {names}"
    return f"CPU ({os.cpu_count()} cores)"


def _visible_gpus() -> list[Any]:
    """GPUs TensorFlow sees, with memory growth on so several jobs and the app can share one."""
    with _GPU_SETUP:
        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # already initialised: growth was set on the first call
                pass
        return gpus


def _strategy() -> tf.distribute.Strategy:
    """Mirrored over several GPUs; otherwise TensorFlow's default placement (one GPU, or the CPU)."""
    return tf.distribute.MirroredStrategy() if len(_visible_gpus()) > 1 else tf.distribute.get_strategy()


class TrainingJob:
    """One training run in its own thread, observable through `snapshot()` and stoppable with `stop()`."""

    def __init__(
        self,
        config: TrainConfig,
        train: Dataset,
        validation: Dataset | None = None,
        on_done: Callable[[TrainingJob], None] | None = None,
        queue: JobQueue = JOB_QUEUE,
    ) -> None:
        self.config = config
        self.train = train
        self.validation = validation
        self.classes: tuple[str, ...] = train.classes
        self.model: keras.Model | None = None
        self.train_seconds: float = 0.0
        self._on_done = on_done
        self._queue = queue
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="training-job", daemon=True)
        self._status = JobStatus.QUEUED
        self._error: str | None = None
        self._device = device_description()
        self._started_at: float | None = None
        self._progress = _Progress(epochs=config.epochs)

    # --- control -------------------------------------------------------------------------------
    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask training to end after the current batch; the best weights so far are kept."""
        self._stop.set()
        with self._lock:
            if self._status == JobStatus.RUNNING:
                self._status = JobStatus.STOPPING
        self._queue.wake()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> JobStatus:
        self._thread.join(timeout)
        return self.status

    @property
    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    @property
    def epochs_run(self) -> int:
        with self._lock:
            return len(self._progress.epoch_history)

    @property
    def device(self) -> str:
        return self._device

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            progress = self._progress
            elapsed = time.monotonic() - self._started_at if self._started_at else 0.0
            return JobSnapshot(
                status=self._status,
                device=self._device,
                epoch=progress.epoch,
                epochs=progress.epochs,
                batch=progress.batch,
                batches_per_epoch=progress.batches_per_epoch,
                progress=progress.fraction(),
                eta_seconds=progress.eta() if self._status == JobStatus.RUNNING else None,
                elapsed_seconds=elapsed if self._status not in _DONE else self.train_seconds,
                batch_history=list(progress.batch_history),
                epoch_history=list(progress.epoch_history),
                log_lines=list(progress.log_lines),
                error=self._error,
                queue_position=self._queue.position(self) if self._status == JobStatus.QUEUED else None,
            )

    # --- the thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            if not self._queue.enter(self):
                self._set_status(JobStatus.STOPPED)
                return
            try:
                self._set_status(JobStatus.STOPPING if self.stop_requested else JobStatus.RUNNING)
                self._train()
            finally:
                self._queue.leave(self)
            if self._on_done is not None:
                self._on_done(self)
            self._set_status(JobStatus.STOPPED if self.stop_requested else JobStatus.FINISHED)
        except Exception as error:  # the thread must report every failure, not die silently
            with self._lock:
                self._error = _describe_failure(error)
                self._status = JobStatus.FAILED

    def _set_status(self, status: JobStatus) -> None:
        with self._lock:
            self._status = status

    def _train(self) -> None:
        config = self.config
        self._started_at = time.monotonic()
        keras.utils.set_random_seed(config.seed)
        with _strategy().scope():
            model = build_model(config, self.train.texts, self.classes)
        train_data = self._tf_dataset(self.train, shuffle=True)
        validation_data = self._tf_dataset(self.validation) if self.validation else None
        with self._lock:
            self._progress.batches_per_epoch = math.ceil(len(self.train) / config.batch_size)
        recorder = _Recorder(self)
        model.fit(train_data, validation_data=validation_data, epochs=config.epochs, callbacks=[recorder], verbose=0, shuffle=False)
        recorder.restore_best()
        self.train_seconds = time.monotonic() - self._started_at
        self.model = model

    def _tf_dataset(self, dataset: Dataset, shuffle: bool = False) -> tf.data.Dataset:
        """Strings as a tf.constant (Keras cannot batch numpy object arrays of text) and one-hot labels."""
        index = {label: position for position, label in enumerate(self.classes)}
        texts = tf.constant(list(dataset.texts), dtype=tf.string)[:, None]
        targets = keras.utils.to_categorical([index[label] for label in dataset.labels], len(self.classes))
        data = tf.data.Dataset.from_tensor_slices((texts, targets.astype(np.float32)))
        if shuffle:
            data = data.shuffle(len(dataset), seed=self.config.seed, reshuffle_each_iteration=True)
        return data.batch(self.config.batch_size).prefetch(tf.data.AUTOTUNE)

    # --- called by _Recorder in the training thread ------------------------------------------------
    def _record_batch(self, batch: int, loss: float, accuracy: float) -> None:
        with self._lock:
            self._progress.add_batch(batch, loss, accuracy)

    def _record_epoch(self, entry: dict[str, float]) -> None:
        with self._lock:
            self._progress.add_epoch(entry)


@dataclass
class _Progress:
    """Counters and histories behind a snapshot; only touched under the job's lock."""

    epochs: int
    epoch: int = 0
    batch: int = 0
    batches_per_epoch: int = 0
    batch_history: list[dict[str, float]] = field(default_factory=list)
    epoch_history: list[dict[str, float]] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    first_batch_at: float | None = None

    def add_batch(self, batch: int, loss: float, accuracy: float) -> None:
        if self.first_batch_at is None:
            self.first_batch_at = time.monotonic()
        self.batch = batch + 1
        self.epoch = len(self.epoch_history) + 1
        step = len(self.epoch_history) * self.batches_per_epoch + self.batch
        self.batch_history.append(
            {"step": step, "epoch": step / max(self.batches_per_epoch, 1), "batch": self.batch,
             "loss": loss, "accuracy": accuracy}
        )

    def add_epoch(self, entry: dict[str, float]) -> None:
        self.epoch_history.append(entry)
        self.epoch = len(self.epoch_history)
        self.log_lines.append(_log_line(entry, self.epochs))

    def fraction(self) -> float:
        total = self.epochs * self.batches_per_epoch
        done = len(self.epoch_history) * self.batches_per_epoch + (self.batch if self.epoch > len(self.epoch_history) else 0)
        return min(done / total, 1.0) if total else 0.0

    def eta(self) -> float | None:
        """Seconds left if every epoch runs; early stopping can only make it shorter.

        Measured from the first batch on, so vocabulary building and graph tracing before it do not
        inflate the estimate.
        """
        total = self.epochs * self.batches_per_epoch
        batches_done = self.fraction() * total
        if self.first_batch_at is None or batches_done <= 1:
            return None
        seconds_per_batch = (time.monotonic() - self.first_batch_at) / (batches_done - 1)
        return seconds_per_batch * (total - batches_done)


def _log_line(entry: dict[str, float], epochs: int) -> str:
    metrics = " - ".join(
        f"{name}: {entry[name]:.4f}" for name in ("loss", "accuracy", "val_loss", "val_accuracy") if name in entry
    )
    return f"Epoch {int(entry['epoch'])}/{epochs} - {entry['seconds']:.1f}s - {metrics}"


class _Recorder(keras.callbacks.Callback):
    """Feeds the job's history, honours stop requests, and does early stopping on validation loss.

    It keeps the best weights itself (rather than Keras' EarlyStopping) so that a user's Stop, the
    patience running out and the last epoch all end with the same best-so-far model.
    """

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job
        self.best_loss = math.inf
        self.best_weights: list[np.ndarray] | None = None
        self.epochs_without_improvement = 0
        self.epoch_started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_started = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        loss = float(logs.get("loss", math.nan))
        if math.isnan(loss) or math.isinf(loss):
            self.model.stop_training = True
            raise TrainingError(
                f"Training diverged (loss became {loss}) in batch {batch + 1}: lower the learning rate "
                f"(now {self.job.config.learning_rate}) or turn on gradient clipping."
            )
        self.job._record_batch(batch, loss, float(logs.get("accuracy", math.nan)))
        if self.job.stop_requested:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {name: float(value) for name, value in (logs or {}).items()}
        entry = {"epoch": epoch + 1, **logs, "seconds": time.monotonic() - self.epoch_started}
        entry["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.job._record_epoch(entry)
        monitored = logs.get("val_loss", logs.get("loss", math.inf))
        if monitored < self.best_loss:
            self.best_loss, self.best_weights = monitored, self.model.get_weights()
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
            if self.job.config.early_stopping and self.epochs_without_improvement >= self.job.config.patience:
                self.model.stop_training = True

    def restore_best(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _describe_failure(error: Exception) -> str:
    """One readable sentence for the UI, whatever went wrong inside Keras or TensorFlow."""
    if isinstance(error, TrainingError):
        return str(error)
    if isinstance(error, (tf.errors.ResourceExhaustedError, MemoryError)):
        return "Training ran out of memory: use a smaller batch size, vocabulary, sequence length or fewer layer units."
    return f"Training failed: {type(error).__name__}: {error}"
