"""Training in a background thread that pages and the CLI can watch, stop and wait for.

A `TrainingJob` is a plain object with a lock, a history and a stop event. A Keras callback reports to it through
the `TrainingListener` hooks and asks it whether to stop; nothing here knows who is watching the job.
"""

from __future__ import annotations

import enum
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import keras
import numpy as np
import tensorflow as tf

from core.augment import augment
from core.config import TrainConfig
from core.data import Dataset
from core.distributed import (
    Columns,
    Distribution,
    copy_weights,
    needs_numeric_inputs,
    strategy_kind,
    train_numeric,
)
from core.encoder import EmbeddingStopped, Encoding
from core.errors import ConfigError, StudioError, TrainingError
from core.limits import PUBLIC_SLOTS_PER_VISITOR, duration_words
from core.model import SERVED_LOSS, VECTORS_INPUT, build_model, training_model
from core.prune import MagnitudePruning

MAX_CONCURRENT_JOBS_VARIABLE = "STUDIO_MAX_CONCURRENT_JOBS"
# Two suits a 2-core, 2.7 GB Community Cloud machine: a third job would only slow the other two down.
DEFAULT_CONCURRENT_JOBS = 2
Entry = TypeVar("Entry")


def max_concurrent_jobs() -> int:
    """Jobs allowed to train at once across all browser sessions; the rest wait in line.

    $STUDIO_MAX_CONCURRENT_JOBS decides when set, else DEFAULT_CONCURRENT_JOBS.

    Raises:
        ConfigError: the variable is not a whole number of at least 1 (0 would keep every job waiting forever).
    """
    setting = os.environ.get(MAX_CONCURRENT_JOBS_VARIABLE, "").strip()
    if not setting:
        return DEFAULT_CONCURRENT_JOBS
    try:
        slots = int(setting)
    except ValueError:
        slots = 0
    if slots < 1:
        raise ConfigError(
            f"{MAX_CONCURRENT_JOBS_VARIABLE} is {setting!r}: set it to a whole number of at least 1 (how many "
            f"training runs may go at once; {DEFAULT_CONCURRENT_JOBS} when unset)."
        )
    return slots


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"
    SAVING = "saving"  # trained; `on_done` is evaluating and writing the model
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"


_DONE = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED)


class TrainingListener:
    """What a training run reports, hook by hook; each does nothing by default (like Ludwig's `Callback`), so the
    Keras callback that calls them never knows who listens. They run in the training thread.
    """

    def on_train_begin(self, batches_per_epoch: int) -> None:
        """The model is built and the first batch is next."""

    def on_batch_end(self, batch: int, loss: float, accuracy: float) -> None:
        """Batch `batch` (0-based, within its epoch) is done, with its running training loss and accuracy."""

    def on_epoch_end(self, entry: dict[str, float]) -> None:
        """An epoch is done: its 1-based number as "epoch", Keras' metrics, "seconds" and "learning_rate"."""

    def should_stop(self) -> bool:
        """Asked after every batch: True ends training there, keeping the best weights so far."""
        return False


class History(Sequence[Entry]):
    """The entries an append-only list has now: a job's history as it stood at one moment.

    The training thread only ever appends, so these entries never change, and taking a History copies nothing
    however long the run is: a page polling every second at epoch 500 costs the job's lock no more than at epoch 1.
    """

    __slots__ = ("_entries", "_length")

    def __init__(self, entries: list[Entry]) -> None:
        self._entries = entries
        self._length = len(entries)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        """An entry, or a list for a slice; entries appended since do not exist, as in a copy taken then."""
        positions = range(self._length)[index]
        if isinstance(positions, range):
            return [self._entries[position] for position in positions]
        return self._entries[positions]

    def __repr__(self) -> str:
        return f"History({list(self)!r})"


@dataclass(frozen=True)
class JobSnapshot:
    """A job's progress at one moment; it does not change while the job goes on."""

    status: JobStatus
    device: str
    epoch: int  # 1-based epoch in progress (or last finished)
    epochs: int
    batch: int  # batches done in the current epoch
    batches_per_epoch: int
    progress: float
    eta_seconds: float | None
    elapsed_seconds: float
    batch_history: History[dict[str, float]]
    epoch_history: History[dict[str, float]]
    log_lines: History[str]
    error: str | None = None
    queue_position: int | None = None
    # Texts the sentence encoder has embedded and has to embed before the first epoch (transfer models only).
    embedded: int = 0
    to_embed: int = 0
    embedding: bool = False
    # Public mode's wall-clock cap of one run in seconds (None: none), and whether it ended this run.
    time_limit: float | None = None
    time_limited: bool = False

    @property
    def done(self) -> bool:
        return self.status in _DONE


class JobQueue:
    """First come, first served admission of jobs to a fixed number of training slots, with a fair share per
    visitor: a job whose visitor already holds `slots_per_visitor` slots lets the jobs behind it pass, so one
    visitor with many tabs cannot keep everyone else waiting. Jobs without a visitor (local use) share alike.
    """

    def __init__(self, slots: int, slots_per_visitor: int = PUBLIC_SLOTS_PER_VISITOR) -> None:
        self.slots = slots
        self.slots_per_visitor = slots_per_visitor
        self._running: set[TrainingJob] = set()
        self._waiting: list[TrainingJob] = []
        self._changed = threading.Condition()

    def enter(self, job: TrainingJob) -> bool:
        """Block until `job` may train; False if it was stopped while waiting."""
        with self._changed:
            self._waiting.append(job)
            while not job.stop_requested and not (self._next() is job and len(self._running) < self.slots):
                self._changed.wait(timeout=0.5)
            self._waiting.remove(job)
            if not job.stop_requested:
                self._running.add(job)
            self._changed.notify_all()
            return not job.stop_requested

    def _next(self) -> TrainingJob | None:
        """The first waiting job whose visitor is below its share; called under the lock."""
        return next((job for job in self._waiting if not self._at_share(job.visitor)), None)

    def _at_share(self, visitor: str | None) -> bool:
        held = sum(1 for job in self._running if job.visitor == visitor)
        return visitor is not None and held >= self.slots_per_visitor

    def leave(self, job: TrainingJob) -> None:
        with self._changed:
            self._running.discard(job)
            self._changed.notify_all()

    def position(self, job: TrainingJob) -> int | None:
        """1 for the next job in line; None when the job is not waiting. Jobs ahead whose visitor is at its
        share do not count: they let this one pass."""
        with self._changed:
            if job not in self._waiting:
                return None
            ahead = self._waiting[:self._waiting.index(job)]
            return 1 + sum(1 for other in ahead if not self._at_share(other.visitor))

    def jobs_of(self, visitor: str) -> int:
        """How many jobs `visitor` has waiting or training."""
        with self._changed:
            return sum(1 for job in (*self._waiting, *self._running) if job.visitor == visitor)

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()


JOB_QUEUE = JobQueue(max_concurrent_jobs())
_GPU_SETUP = threading.Lock()


def balanced_class_weights(labels: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """Each class's weight n / (classes × rows of the class), so every class weighs the same in all (scikit-learn's
    class_weight="balanced"); a class with no rows here gets weight 0."""
    counts = Counter(labels)
    return {label: len(labels) / (len(classes) * counts[label]) if counts[label] else 0.0 for label in classes}


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


def _local_distribution(config: TrainConfig) -> Distribution:
    """Mirrored over several GPUs (trained on vectorised texts, core/distributed.py); otherwise TensorFlow's
    default placement (one GPU, or the CPU), which trains the string-input model with `fit`."""
    if strategy_kind(len(_visible_gpus()), multi_worker=False, uses_encoder=config.uses_encoder) == "mirrored":
        return Distribution(tf.distribute.MirroredStrategy())
    return Distribution(tf.distribute.get_strategy())


class TrainingJob(TrainingListener):
    """One training run in its own thread, observable through `snapshot()` and stoppable with `stop()`.

    It is the listener of its own run: the hooks record progress under the lock and pass on stop requests.
    """

    def __init__(
        self,
        config: TrainConfig,
        train: Dataset,
        validation: Dataset | None = None,
        on_done: Callable[[TrainingJob], None] | None = None,
        queue: JobQueue = JOB_QUEUE,
        embed_also: Sequence[str] = (),
        visitor: str | None = None,
        time_limit: float | None = None,
        distribution: Distribution | None = None,
    ) -> None:
        """Args:
        config, train, validation: what to train and watch it on.
        on_done: called in the job's thread once a model was trained (not when stopped before one was).
        queue: the training slots it waits for.
        embed_also: further texts the sentence encoder embeds and caches with the training texts (the test
            part), so that scoring the model afterwards embeds nothing new; only for `config.uses_encoder`.
        visitor: who asked for the run (public mode), so the queue gives each visitor a fair share of slots.
        time_limit: seconds the run may take once admitted; then it stops itself as a Stop would, keeping the
            best epoch, and is saved as a finished run (public mode's PUBLIC_TRAIN_SECONDS). None: no limit.
        distribution: the strategy to train under (a cluster of workers, core.distributed.connect); None picks
            the local one: mirrored over several GPUs, else the default.
        """
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
        self.failure: Exception | None = None  # what failed the job, for callers that act on its type
        self._distribution = distribution
        workers = distribution.cluster.workers if distribution and distribution.cluster else 1
        self._device = device_description() if workers == 1 else f"{workers} workers × {device_description()}"
        self._started_at: float | None = None
        self._progress = _Progress(epochs=config.epochs)
        self._embed_also = tuple(embed_also)
        self.visitor = visitor
        self._time_limit = time_limit
        self._time_limited = False

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
    def done(self) -> bool:
        """Finished, failed or stopped; cheaper than `snapshot().done` for a page that only asks whether to poll."""
        return self.status in _DONE

    @property
    def epochs_run(self) -> int:
        with self._lock:
            return len(self._progress.epoch_history)

    @property
    def device(self) -> str:
        return self._device

    def snapshot(self) -> JobSnapshot:
        """The job's progress now. The lock is held to read counters only: histories are shared, not copied."""
        with self._lock:
            progress, status = self._progress, self._status
            snapshot = JobSnapshot(
                status=status,
                device=self._device,
                epoch=progress.epoch,
                epochs=progress.epochs,
                batch=progress.batch,
                batches_per_epoch=progress.batches_per_epoch,
                progress=progress.fraction(),
                eta_seconds=(progress.embedding_eta() if progress.embedding else progress.eta())
                if status == JobStatus.RUNNING else None,
                elapsed_seconds=self.train_seconds if status in _DONE else self._elapsed(),
                batch_history=History(progress.batch_history),
                epoch_history=History(progress.epoch_history),
                log_lines=History(progress.log_lines),
                error=self._error,
                embedded=progress.embedded,
                to_embed=progress.to_embed,
                embedding=progress.embedding,
                time_limit=self._time_limit,
                time_limited=self._time_limited,
            )
        if status != JobStatus.QUEUED:
            return snapshot
        return replace(snapshot, queue_position=self._queue.position(self))  # the queue has its own lock

    def _elapsed(self) -> float:
        return time.monotonic() - self._started_at if self._started_at else 0.0

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
            stopped = self.stop_requested  # a stop during the save comes too late to change what was trained
            if self._on_done is not None and self.model is not None:  # None: stopped while embedding
                self._set_status(JobStatus.SAVING)
                self._on_done(self)
            self._set_status(JobStatus.STOPPED if stopped else JobStatus.FINISHED)
        except Exception as error:  # the thread must report every failure, not die silently
            with self._lock:
                self.failure = error
                self._error = _describe_failure(error)
                self._status = JobStatus.FAILED

    def _set_status(self, status: JobStatus) -> None:
        with self._lock:
            self._status = status

    def _train(self) -> None:
        """Embeds the texts first if the model reads encoder vectors (stopping there leaves no model), then fits."""
        config = self.config
        self._started_at = time.monotonic()
        train = augment(self.train, config.augment_copies, config.seed)
        try:
            train_vectors, validation_vectors = self._embed(train) if config.uses_encoder else (None, None)
        except EmbeddingStopped:
            if self._time_limited:
                raise TrainingError(f"The run reached the limit of {duration_words(self._time_limit)} for one run "
                                    "on this shared server while embedding the texts, before training began: "
                                    "train on fewer rows.") from None
            return
        keras.utils.set_random_seed(config.seed)
        distribution = self._distribution or _local_distribution(config)
        with distribution.local_work():
            # The vocabulary comes from the real texts only: a swap's made-up word pairs are not words to learn.
            model = build_model(config, self.train.texts, self.classes, train_vectors)
        batches_per_epoch = math.ceil(len(train) / config.batch_size)
        recorder = _Recorder(self, config, batches_per_epoch=batches_per_epoch)
        # Pruning runs first, so the weights the recorder keeps at each epoch's end are already pruned.
        pruning = MagnitudePruning(config.prune_sparsity, batches_per_epoch) if config.prune_sparsity else None
        callbacks = [pruning, recorder] if pruning else [recorder]
        if needs_numeric_inputs(distribution.strategy):
            validation = self._columns(self.validation) if self.validation else None
            trained = train_numeric(model, distribution, config, self._columns(train, weighted=True), validation,
                                    callbacks)
        else:
            fitted = training_model(model, config)
            train_data = _per_output(self._tf_dataset(train, train_vectors, shuffle=True, weighted=True), fitted)
            validation_data = (_per_output(self._tf_dataset(self.validation, validation_vectors), fitted)
                               if self.validation else None)
            fitted.fit(train_data, validation_data=validation_data, epochs=config.epochs, callbacks=callbacks,
                       verbose=0, shuffle=False)
            trained = model  # the fitted twin shares its layers
        recorder.restore_best()
        if pruning:
            pruning.finish()
        if trained is not model:
            copy_weights(trained, model)
        self.train_seconds = time.monotonic() - self._started_at
        self.model = model

    def _embed(self, train: Dataset) -> tuple[np.ndarray, np.ndarray | None]:
        """The (augmented) training and the validation texts' encoder vectors (and the `embed_also` texts', into
        the cache).

        Raises:
            EmbeddingStopped: stop was pressed; the batches embedded so far stay cached.
            EncoderMissingError: the encoder cannot be loaded.
        """
        validation = self.validation.texts if self.validation else ()
        texts = [*train.texts, *validation, *self._embed_also]
        with self._lock:
            self._progress.start_embedding()
        try:
            vectors = Encoding.of(self.config).embed(texts, on_progress=self._record_embedding, stop=_Halt(self))
        finally:
            with self._lock:
                self._progress.embedding = False
        train_count = len(train)
        return vectors[:train_count], vectors[train_count:train_count + len(validation)] if validation else None

    def _tf_dataset(self, dataset: Dataset, vectors: np.ndarray | None = None,
                    shuffle: bool = False, weighted: bool = False) -> tf.data.Dataset:
        """Strings as a tf.constant (Keras cannot batch numpy object arrays of text) and one-hot labels; the
        inputs are a dict of the texts and their encoder vectors when the model reads those. `weighted` adds
        each row's class weight as Keras's third element (sample weights) when the config asks for them."""
        texts = tf.constant(list(dataset.texts), dtype=tf.string)[:, None]
        inputs = texts if vectors is None else {VECTORS_INPUT: vectors}
        if vectors is not None and self.config.uses_tf_idf:
            inputs["text"] = texts
        parts = self._columns(dataset, weighted)
        columns = (inputs, parts.targets)
        if weighted and self.config.class_weight == "balanced":
            columns += (parts.weights,)
        data = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle:
            data = data.shuffle(len(dataset), seed=self.config.seed, reshuffle_each_iteration=True)
        return data.batch(self.config.batch_size).prefetch(tf.data.AUTOTUNE)

    def _columns(self, dataset: Dataset, weighted: bool = False) -> Columns:
        """The texts, one-hot targets and loss weights of a part; weights are 1 unless `weighted` and the config
        balances the classes."""
        index = {label: position for position, label in enumerate(self.classes)}
        targets = keras.utils.to_categorical([index[label] for label in dataset.labels], len(self.classes))
        weights = np.ones(len(dataset), dtype=np.float32)
        if weighted and self.config.class_weight == "balanced":
            by_class = balanced_class_weights(dataset.labels, self.classes)
            weights = np.array([by_class[label] for label in dataset.labels], dtype=np.float32)
        return Columns(dataset.texts, targets.astype(np.float32), weights, self.classes)

    # --- TrainingListener: called by _Recorder (and the encoder's progress) in the training thread -----------
    def _record_embedding(self, done: int, total: int) -> None:
        with self._lock:
            self._progress.embedded, self._progress.to_embed = done, total

    def on_train_begin(self, batches_per_epoch: int) -> None:
        with self._lock:
            self._progress.batches_per_epoch = batches_per_epoch

    def on_batch_end(self, batch: int, loss: float, accuracy: float) -> None:
        with self._lock:
            self._progress.add_batch(batch, loss, accuracy)

    def on_epoch_end(self, entry: dict[str, float]) -> None:
        with self._lock:
            self._progress.add_epoch(entry)

    def should_stop(self) -> bool:
        return self.stop_requested or self._out_of_time()

    def _out_of_time(self) -> bool:
        """True once the run's time limit is spent; the first time, the log says why the run ends there."""
        if self._time_limit is None or self._elapsed() < self._time_limit:
            return False
        with self._lock:
            if not self._time_limited:
                self._time_limited = True
                self._progress.log_lines.append(
                    f"Stopped at the limit of {duration_words(self._time_limit)} for one run on this shared server; "
                    "the best epoch so far is kept.")
        return True


class _Halt:
    """What the sentence encoder polls between batches: set once the user stops or the time limit is spent."""

    def __init__(self, job: TrainingJob) -> None:
        self._job = job

    def is_set(self) -> bool:
        return self._job.should_stop()


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
    embedding: bool = False
    embedded: int = 0
    to_embed: int = 0
    embedding_started_at: float | None = None

    def start_embedding(self) -> None:
        self.embedding, self.embedding_started_at = True, time.monotonic()

    def embedding_eta(self) -> float | None:
        """Seconds left embedding, at the speed so far; None before the first batch is done."""
        if not self.embedded or self.embedding_started_at is None:
            return None
        seconds_per_text = (time.monotonic() - self.embedding_started_at) / self.embedded
        return seconds_per_text * (self.to_embed - self.embedded)

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
        # Batches this epoch ran: fewer than batches_per_epoch when a stop cut it short, and the log says so.
        entry = {**entry, "batches": self.batch, "batches_per_epoch": self.batches_per_epoch}
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


def _per_output(data: tf.data.Dataset, fitted: keras.Model) -> tf.data.Dataset:
    """`data` with its targets given once per output when the fitted model has several (a multi-head twin from
    core.model.training_model); every head learns the same labels."""
    if not isinstance(fitted.output, dict):
        return data
    names = list(fitted.output)
    return data.map(lambda inputs, targets, *weights: (inputs, {name: targets for name in names}, *weights))


# What a multi-head twin (core.model.training_model) calls the averaged probabilities' metrics in Keras's logs,
# and the names every other model's logs use for them, which the charts and early stopping read.
_TWIN_METRICS = {"probabilities_accuracy": "accuracy", f"probabilities_{SERVED_LOSS}": "loss"}


def _served_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """Keras's logs under the plain names, whichever model was fitted; a twin's per-head losses are dropped."""
    if not any(name.removeprefix("val_") in _TWIN_METRICS for name in logs):
        return logs
    return {prefix + plain: logs[prefix + name] for prefix in ("", "val_") for name, plain in _TWIN_METRICS.items()
            if prefix + name in logs}


def _log_line(entry: dict[str, float], epochs: int) -> str:
    metrics = " - ".join(
        f"{name}: {entry[name]:.4f}" for name in ("loss", "accuracy", "val_loss", "val_accuracy") if name in entry
    )
    cut_short = cut_short_at(entry)
    stopped = f" (stopped after batch {cut_short[0]}/{cut_short[1]})" if cut_short else ""
    return f"Epoch {int(entry['epoch'])}/{epochs}{stopped} - {entry['seconds']:.1f}s - {metrics}"


def cut_short_at(entry: dict[str, float]) -> tuple[int, int] | None:
    """(batches run, batches per epoch) for an epoch a stop cut short, else None (a whole epoch, or an entry
    saved before epochs recorded their batches)."""
    batches, planned = int(entry.get("batches", 0)), int(entry.get("batches_per_epoch", 0))
    return (batches, planned) if 0 < batches < planned else None


class _Recorder(keras.callbacks.Callback):
    """Reports each batch and epoch to a listener, stops when it asks, and does early stopping on validation loss.

    It keeps the best weights itself (rather than Keras' EarlyStopping) so that a user's Stop, the
    patience running out and the last epoch all end with the same best-so-far model.
    """

    def __init__(self, listener: TrainingListener, config: TrainConfig, batches_per_epoch: int = 0) -> None:
        super().__init__()
        self.listener = listener
        self.config = config
        self.batches_per_epoch = batches_per_epoch
        self.best_loss = math.inf
        self.best_weights: list[np.ndarray] | None = None
        self.epochs_without_improvement = 0
        self.epoch_started = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.listener.on_train_begin(self.batches_per_epoch)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_started = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = _served_logs(logs or {})
        loss = float(logs.get("loss", math.nan))
        if math.isnan(loss) or math.isinf(loss):
            self.model.stop_training = True
            raise TrainingError(
                f"Training diverged (loss became {loss}) in batch {batch + 1}: lower the learning rate "
                f"(now {self.config.learning_rate}) or turn on gradient clipping."
            )
        self.listener.on_batch_end(batch, loss, float(logs.get("accuracy", math.nan)))
        if self.listener.should_stop():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {name: float(value) for name, value in _served_logs(logs or {}).items()}
        entry = {"epoch": epoch + 1, **logs, "seconds": time.monotonic() - self.epoch_started}
        entry["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.listener.on_epoch_end(entry)
        monitored = logs.get("val_loss", logs.get("loss", math.inf))
        if monitored < self.best_loss:
            self.best_loss, self.best_weights = monitored, self.model.get_weights()
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
            if self.config.early_stopping and self.epochs_without_improvement >= self.config.patience:
                self.model.stop_training = True

    def restore_best(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _describe_failure(error: Exception) -> str:
    """One readable sentence for the UI, whatever went wrong inside Keras or TensorFlow."""
    if isinstance(error, StudioError):  # our own errors (a disk quota while saving) say what to do themselves
        return str(error)
    if isinstance(error, (tf.errors.ResourceExhaustedError, MemoryError)):
        return "Training ran out of memory: use a smaller batch size, vocabulary, sequence length or fewer layer units."
    return f"Training failed: {type(error).__name__}: {error}"
