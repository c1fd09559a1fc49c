"""Training over several local GPUs or several machines: the strategy, its numeric training loop and a watchdog.

Two limits of this TensorFlow/Keras stack shape it, both reproduced (README, "Training on several machines"):
- a string `TextVectorization` inside a model fails under MirroredStrategy (TF#80951: AddN on strings);
- Keras 3 `model.fit` under MultiWorkerMirroredStrategy is unsupported (keras#20585).
So the texts are vectorised once, outside the model and identically on every worker, and the network after the
string front end trains in a custom loop (`strategy.run`, gradients summed over all replicas). Its weights
are then copied into the ordinary string-input model, which is what gets saved and predicted with.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from core.cluster import DEFAULT_WORKER_TIMEOUT, EXIT_WORKER_LOST, Cluster, check_distributable
from core.config import TrainConfig
from core.errors import TrainingError, WorkerLostError
from core.model import build_numeric_model, text_front_end

# Extra seconds the watchdog gives an aborted collective to raise before it ends the process itself.
_ABORT_GRACE_SECONDS = 15.0
# Texts vectorised per call, so token ids of a large corpus never sit in one giant tensor twice.
_VECTORISE_CHUNK = 4096
# What a collective raises when a peer died, was reset or never answered.
_PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
                tf.errors.AbortedError, tf.errors.FailedPreconditionError)


def strategy_kind(gpu_count: int, multi_worker: bool, uses_encoder: bool = False) -> str:
    """Which strategy trains: "multi_worker" for a cluster, "mirrored" over several local GPUs, else "default".

    A head over sentence-encoder vectors stays on one device: it is small, and the numeric loop does not feed
    vectors (a cluster refuses it, core.cluster.check_distributable).
    """
    if multi_worker:
        return "multi_worker"
    return "mirrored" if gpu_count > 1 and not uses_encoder else "default"


def needs_numeric_inputs(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` must train on texts vectorised beforehand: any strategy over more than one replica
    or machine (string lookups fail in replicas, TF#80951), while the default one keeps `model.fit`."""
    return strategy.num_replicas_in_sync > 1 or isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


class Watchdog:
    """Ends a worker that waited `timeout` seconds without progress: a lost peer must not make it hang.

    It first aborts TensorFlow's collectives, so the stuck step raises and training fails with a
    WorkerLostError; a worker still stuck `_ABORT_GRACE_SECONDS` later is ended with the same message on stderr
    and EXIT_WORKER_LOST. It cannot end the wait inside MultiWorkerMirroredStrategy's constructor for a peer
    that never starts: TensorFlow holds the GIL there, so no Python thread runs (README: wrap it in `timeout`).
    """

    def __init__(self, timeout: float, message: str) -> None:
        self.timeout = timeout
        self.message = message
        self._last_beat = time.monotonic()
        self._paused = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def beat(self) -> None:
        """Progress was made: the clock starts again."""
        self._last_beat = time.monotonic()

    def stop(self) -> None:
        self._stopped.set()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """This worker's own work (vocabulary, vectorising) takes what it takes: only waiting on others counts."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False
            self.beat()

    def _watch(self) -> None:
        while not self._stopped.wait(min(1.0, self.timeout / 4)):
            if not self._paused and time.monotonic() - self._last_beat > self.timeout:
                _abort_collectives(self.message)
                if not self._stopped.wait(_ABORT_GRACE_SECONDS):
                    print(f"error: {self.message}", file=sys.stderr, flush=True)
                    os._exit(EXIT_WORKER_LOST)
                return


def _abort_collectives(message: str) -> None:
    """Makes every pending and future collective raise UnavailableError with `message`; TensorFlow's own
    peer health check does the same (there is no public call for it)."""
    from tensorflow.python.eager import context

    context.context().abort_collective_ops(tf.errors.UNAVAILABLE, message)


@dataclass
class Distribution:
    """A strategy to train under, and for a cluster of workers the cluster and its watchdog."""

    strategy: tf.distribute.Strategy
    cluster: Cluster | None = None
    watchdog: Watchdog | None = None

    @property
    def is_chief(self) -> bool:
        """Whether this process saves the model: always, unless it is a non-chief worker of a cluster."""
        return self.cluster is None or self.cluster.is_chief

    def beat(self) -> None:
        if self.watchdog is not None:
            self.watchdog.beat()

    def local_work(self) -> AbstractContextManager[None]:
        """Work of this worker alone, which the watchdog does not time."""
        return self.watchdog.paused() if self.watchdog is not None else nullcontext()

    def close(self) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()

    def lost(self, error: tf.errors.OpError) -> WorkerLostError:
        """The error a failed collective becomes: which worker gave up, why, and what to do."""
        # TensorFlow's message starts with the op's name; the cause follows "aborted by:" when a peer failed.
        reason = error.message.split("aborted by:", 1)[-1].strip().splitlines()[0][:200]
        return WorkerLostError(f"Distributed training stopped on {self.cluster.describe()}: another worker stopped "
                               f"answering ({reason}). Check that every worker runs and can reach the others' "
                               "ports, then start all of them again.")


def connect(cluster: Cluster, timeout: float = DEFAULT_WORKER_TIMEOUT) -> Distribution:
    """Joins the cluster TF_CONFIG describes (set it to `cluster.tf_config()` first); once joined, a worker that
    waits `timeout` seconds for the others gives up. Call it before any other TensorFlow op: collectives are set
    up at start-up.
    """
    watchdog = Watchdog(timeout, f"no answer from the other workers for {timeout:g} s").start()
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    watchdog.beat()
    return Distribution(strategy, cluster, watchdog)


def train_numeric(model: keras.Model, distribution: Distribution, config: TrainConfig, train: Columns,
                  validation: Columns | None, callbacks: Sequence[keras.callbacks.Callback]) -> keras.Model:
    """Trains the network of `model` (from `build_model`) under `distribution.strategy` as `model.fit` would,
    callbacks included, and returns the trained numeric copy (`copy_weights` puts it into `model`).

    The texts go through the model's own front end once; a numeric copy of the rest of the network, starting
    from `model`'s own initial weights (so from where one process would start), trains on the result. Each
    callback's model is that copy.

    Raises:
        ClusterError: the model reads sentence-encoder vectors, which this loop does not feed.
        WorkerLostError: another worker stopped answering.
        TrainingError: the workers built different vocabularies or settings.
    """
    check_distributable(config)
    strategy = distribution.strategy
    front_end = text_front_end(model)
    with distribution.local_work():
        train_features = _vectorised(front_end, train.texts)
        validation_features = _vectorised(front_end, validation.texts) if validation else None
    try:
        _check_same_inputs(distribution, model, config)
        with strategy.scope():
            numeric = build_numeric_model(config, _input_like(train_features), train.classes, SummedGradientsAdam)
            copy_weights(model, numeric)
            # Adam's slots made now, not on the step's first trace, where tf.function would lift them into a
            # conditional initialiser that fails under MirroredStrategy ("must feed a value for placeholder").
            numeric.optimizer.build(numeric.trainable_variables)
        loop = _Loop(numeric, strategy, config, distribution)
        loop.fit(train.with_features(train_features),
                 validation.with_features(validation_features) if validation else None, callbacks)
    except _PEER_ERRORS as error:
        if distribution.cluster is None:
            raise
        raise distribution.lost(error) from None
    finally:
        distribution.close()  # what follows (evaluating, saving) is the chief's alone
    return numeric


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Sets the weights of every trainable layer of `target` to those of the same-named layer of `source`: between
    a `build_model` model and its `build_numeric_model` copy, whichever way."""
    for layer in target.layers:
        if layer.trainable_weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


@dataclass(frozen=True)
class Columns:
    """What one part of a run trains or validates on: texts, one-hot targets, per-row loss weights, classes."""

    texts: Sequence[str]
    targets: np.ndarray
    weights: np.ndarray
    classes: Sequence[str]
    features: Any = None

    def __len__(self) -> int:
        return len(self.texts)

    def with_features(self, features: Any) -> Columns:
        return Columns(self.texts, self.targets, self.weights, self.classes, features)


def _vectorised(front_end: keras.Model, texts: Sequence[str]) -> tf.Tensor | tf.SparseTensor:
    """The front end's output for every text, chunk by chunk: sparse TF-IDF rows, or dense token ids."""
    parts = [front_end(tf.constant(list(texts[start:start + _VECTORISE_CHUNK]), dtype=tf.string)[:, None])
             for start in range(0, len(texts), _VECTORISE_CHUNK)]
    if isinstance(parts[0], tf.SparseTensor):
        return tf.sparse.concat(0, parts) if len(parts) > 1 else parts[0]
    return tf.concat(parts, 0)


def _input_like(features: tf.Tensor | tf.SparseTensor) -> keras.KerasTensor:
    """A dense Keras input of the features' width and type (sparse TF-IDF is fed dense, batch by batch)."""
    width = int(features.dense_shape[1]) if isinstance(features, tf.SparseTensor) else int(features.shape[1])
    return keras.Input(shape=(width,), dtype=features.dtype.name, name="features")


def _check_same_inputs(distribution: Distribution, model: keras.Model, config: TrainConfig) -> None:
    """Every worker must build the same vocabulary from the same rows and settings, or their gradients would
    mean different things; a checksum of both is compared across the cluster before the first step.

    Raises:
        TrainingError: the checksums differ.
    """
    if distribution.cluster is None:
        return
    vocabulary = "\n".join(model.get_layer("vectorizer").get_vocabulary())
    # 20 bits, so that its square is exact as a float64.
    checksum = float(zlib.crc32(f"{config.to_dict()}\n{vocabulary}".encode()) % 2**20)
    summed = _summer(distribution.strategy)
    replicas = distribution.strategy.num_replicas_in_sync
    # Sums of c and c² match n·c and n·c² on every worker only when all the c are equal (their variance is 0).
    total, squares = (float(summed(tf.constant(value, tf.float64))) for value in (checksum, checksum ** 2))
    distribution.beat()
    if (total, squares) != (replicas * checksum, replicas * checksum ** 2):
        raise TrainingError("The workers built different vocabularies or settings: start every worker with the "
                            "same data file, columns, preset, settings and seed.")


def _summer(strategy: tf.distribute.Strategy) -> Any:
    """A function that sums a scalar over all replicas of all workers (tf.distribute reduces by SUM or MEAN only)."""

    @tf.function
    def summed(value: tf.Tensor) -> tf.Tensor:
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(tf.identity, args=(value,)), axis=None)

    return summed


class _Loop:
    """`model.fit`'s epochs, batches and callbacks over a distributed dataset, with stop decisions agreed by all
    workers (a worker that stopped alone would leave the others waiting in a collective)."""

    def __init__(self, model: keras.Model, strategy: tf.distribute.Strategy, config: TrainConfig,
                 distribution: Distribution) -> None:
        self.model = model
        self.strategy = strategy
        self.config = config
        self.distribution = distribution
        self.step = self._step_function()
        self.summed = _summer(strategy)
        self.evaluate = tf.function(lambda features: model(features, training=False))

    def fit(self, train: Columns, validation: Columns | None, callbacks: Sequence[keras.callbacks.Callback]) -> None:
        for callback in callbacks:
            callback.set_model(self.model)
        data = self.strategy.distribute_datasets_from_function(self._dataset_function(train))
        self.model.stop_training = False
        for callback in callbacks:
            callback.on_train_begin()
        for epoch in range(self.config.epochs):
            for callback in callbacks:
                callback.on_epoch_begin(epoch)
            logs = self._epoch(data, callbacks)
            if validation is not None:
                logs.update(self._validation_logs(validation))
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            if self._agreed_stop():
                break
        for callback in callbacks:
            callback.on_train_end()

    def _epoch(self, data: Any, callbacks: Sequence[keras.callbacks.Callback]) -> dict[str, float]:
        """One pass over the data; returns the epoch's mean loss and accuracy, as `fit` logs them."""
        loss_sum = correct = rows = 0.0
        for batch, inputs in enumerate(data):
            batch_loss, batch_correct, batch_rows = (float(value) for value in self.step(inputs))
            self.distribution.beat()
            loss_sum, correct, rows = loss_sum + batch_loss * batch_rows, correct + batch_correct, rows + batch_rows
            logs = {"loss": loss_sum / rows, "accuracy": correct / rows}
            for callback in callbacks:
                callback.on_train_batch_end(batch, logs)
            if self._agreed_stop():
                break
        return {"loss": loss_sum / max(rows, 1.0), "accuracy": correct / max(rows, 1.0)}

    def _agreed_stop(self) -> bool:
        """Whether any worker's callbacks asked to stop; then every worker stops at the same step."""
        stop = float(self.summed(tf.constant(float(bool(self.model.stop_training))))) > 0
        self.model.stop_training = stop
        return stop

    def _validation_logs(self, validation: Columns) -> dict[str, float]:
        """Validation loss and accuracy on this worker's own full copy of the validation rows (no collective)."""
        data = tf.data.Dataset.from_tensor_slices((validation.features, validation.targets))
        loss_sum = correct = 0.0
        for features, targets in data.batch(1024).map(_densified):
            probabilities = self.evaluate(features)
            loss_sum += float(tf.reduce_sum(keras.losses.categorical_crossentropy(targets, probabilities)))
            correct += float(tf.reduce_sum(_correct(targets, probabilities)))
        return {"val_loss": loss_sum / len(validation), "val_accuracy": correct / len(validation)}

    def _dataset_function(self, train: Columns) -> Any:
        """Each worker reads its own shard of the rows, shuffled per epoch, in whole per-replica batches made dense.

        Every replica gets the same number of full batches, as many as the smallest shard fills: a replica left
        without a batch at the last step gets an empty stand-in from tf.distribute, which fails to trace here.
        So up to a global batch of rows (different ones each epoch, as they are shuffled) sits out each epoch,
        where `fit` would train a last, smaller batch.
        """
        replicas = self.strategy.num_replicas_in_sync
        per_replica_batch = max(1, min(self.config.batch_size, len(train)) // replicas)
        columns = (train.features, train.targets.astype(np.float32), train.weights.astype(np.float32))
        seed = self.config.seed

        def dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
            local_replicas = replicas // context.num_input_pipelines
            smallest_shard = len(train) // context.num_input_pipelines
            batches = max(1, smallest_shard // per_replica_batch // local_replicas) * local_replicas
            data = tf.data.Dataset.from_tensor_slices(columns)
            data = data.shard(context.num_input_pipelines, context.input_pipeline_id)
            data = data.shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
            data = data.batch(per_replica_batch, drop_remainder=True).take(batches)
            return data.map(_densified).prefetch(tf.data.AUTOTUNE)

        return dataset

    def _step_function(self) -> Any:
        """One distributed training step: returns the batch's mean loss, correct predictions and rows."""
        model, strategy = self.model, self.strategy

        def replica_step(features: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor) -> tuple[tf.Tensor, ...]:
            context = tf.distribute.get_replica_context()
            rows = tf.cast(tf.shape(targets)[0], tf.float32)
            # Divided by the rows of the whole global batch, so summing over replicas gives fit's batch mean.
            all_rows = context.all_reduce(tf.distribute.ReduceOp.SUM, rows)
            with tf.GradientTape() as tape:
                probabilities = model(features, training=True)
                loss = tf.reduce_sum(keras.losses.categorical_crossentropy(targets, probabilities) * weights)
                loss = loss / tf.maximum(all_rows, 1.0)
            gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, tape.gradient(loss, model.trainable_variables))
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss, tf.reduce_sum(_correct(targets, probabilities)), rows

        @tf.function
        def step(inputs: tuple[Any, ...]) -> tuple[tf.Tensor, ...]:
            results = strategy.run(replica_step, args=inputs)
            return tuple(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in results)

        return step


class SummedGradientsAdam(keras.optimizers.Adam):
    """Adam given gradients the loop has summed over all replicas already.

    Keras' own Adam clips each replica's gradient (`clipnorm`) and then sums them, which clips at another norm
    than one process clipping the whole batch's gradient would; summing first, then clipping, trains as `fit`
    does on one device. Overrides Keras 3.15's hook that sums them (keras/src/backend/tensorflow/optimizer.py).
    """

    def _all_reduce_sum_gradients(self, grads_and_vars: Any) -> list[Any]:
        return list(grads_and_vars)


def _correct(targets: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.equal(tf.argmax(targets, -1), tf.argmax(probabilities, -1)), tf.float32)


def _densified(features: Any, *rest: tf.Tensor) -> tuple[Any, ...]:
    """A batch of sparse TF-IDF rows as a dense matrix (a replica's share of a batch is small), else as it is."""
    if isinstance(features, tf.SparseTensor):
        features = tf.sparse.to_dense(features)
    return (features, *rest)
