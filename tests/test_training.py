from __future__ import annotations

import threading
import time
import tracemalloc

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.config import TrainConfig
from core.data import Dataset
from core.predict import Predictor
from core.errors import ConfigError, TrainingError
from core.training import (
    balanced_class_weights,
    DEFAULT_CONCURRENT_JOBS,
    JobQueue,
    JobStatus,
    TrainingJob,
    TrainingListener,
    _Recorder,
    device_description,
    max_concurrent_jobs,
)
from tests.support import make_texts, tiny_config

# Unit-length TF-IDF rows are small inputs: a high learning rate lets 96 texts be learnt in 3 epochs.
FAST = dict(batch_size=8, epochs=3, learning_rate=0.05, early_stopping=False)


def _datasets(count: int = 96) -> tuple[Dataset, Dataset]:
    texts, labels = make_texts(count)
    validation_texts, validation_labels = make_texts(24, seed=1)
    return Dataset(tuple(texts), tuple(labels)), Dataset(tuple(validation_texts), tuple(validation_labels))


def test_job_runs_in_the_background_and_records_batches_and_epochs():
    train, validation = _datasets()
    job = TrainingJob(tiny_config(**FAST), train, validation).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED
    snapshot = job.snapshot()
    assert snapshot.progress == 1.0 and snapshot.done
    assert snapshot.batches_per_epoch == 12
    assert len(snapshot.batch_history) == 36
    assert [entry["epoch"] for entry in snapshot.epoch_history] == [1, 2, 3]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"):
        assert key in snapshot.epoch_history[0]
    assert snapshot.log_lines[0].startswith("Epoch 1/3 - ") and "val_accuracy" in snapshot.log_lines[0]
    assert snapshot.device == device_description()
    assert job.classes == ("negative", "positive")
    assert snapshot.epoch_history[-1]["val_accuracy"] > 0.75  # it learns: the sentiment word gives the label away


def test_stop_ends_training_within_one_batch_and_keeps_a_usable_model():
    train, validation = _datasets(400)
    job = TrainingJob(tiny_config(**{**FAST, "epochs": 500, "batch_size": 4}), train, validation).start()
    while not job.snapshot().epoch_history:
        time.sleep(0.05)
    batches_before = len(job.snapshot().batch_history)
    job.stop()
    assert job.wait(timeout=60) == JobStatus.STOPPED
    snapshot = job.snapshot()
    assert len(snapshot.batch_history) <= batches_before + 2
    assert len(snapshot.epoch_history) < 500
    assert Predictor(job.model, job.classes).predict(["terrible phone"])[0].label in job.classes


def test_early_stopping_restores_the_best_epoch():
    train, validation = _datasets()
    config = tiny_config(**{**FAST, "epochs": 60, "early_stopping": True, "patience": 2, "learning_rate": 0.05})
    job = TrainingJob(config, train, validation).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED
    history = job.snapshot().epoch_history
    assert len(history) < 60
    best = min(history, key=lambda entry: entry["val_loss"])
    texts = [[text] for text in validation.texts]
    targets = keras.utils.to_categorical([job.classes.index(label) for label in validation.labels], 2)
    loss = job.model.evaluate(tf.constant(texts), targets, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(best["val_loss"], rel=1e-3)


def test_same_seed_gives_the_same_model_on_cpu():
    train, validation = _datasets()
    results = []
    for _ in range(2):
        job = TrainingJob(tiny_config(**FAST), train, validation).start()
        job.wait(timeout=120)
        results.append(Predictor(job.model, job.classes).predict_proba(list(validation.texts)))
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_an_exception_inside_training_fails_the_job_with_its_message():
    class Overflowing(TrainingJob):
        def on_batch_end(self, batch: int, loss: float, accuracy: float) -> None:
            raise OverflowError("boom")

    train, validation = _datasets()
    job = Overflowing(tiny_config(**FAST), train, validation).start()
    assert job.wait(timeout=120) == JobStatus.FAILED
    assert "OverflowError" in job.snapshot().error and job.model is None


def test_nan_loss_is_reported_as_divergence():
    recorder = _Recorder(TrainingListener(), tiny_config(**FAST))
    recorder.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    with pytest.raises(TrainingError, match="diverged"):
        recorder.on_train_batch_end(0, {"loss": float("nan"), "accuracy": 0.5})


def test_an_error_in_on_done_marks_the_job_failed():
    train, validation = _datasets()

    def broken_save(job: TrainingJob) -> None:
        raise OSError("disk full")

    job = TrainingJob(tiny_config(**{**FAST, "epochs": 1}), train, validation, on_done=broken_save).start()
    assert job.wait(timeout=120) == JobStatus.FAILED
    assert "disk full" in job.snapshot().error


def test_queue_admits_jobs_in_order_and_a_waiting_job_can_be_cancelled():
    train, validation = _datasets()
    queue = JobQueue(slots=1)
    release = threading.Event()
    first = TrainingJob(tiny_config(**FAST), train, validation, on_done=lambda job: release.wait(30), queue=queue).start()
    second = TrainingJob(tiny_config(**FAST), train, validation, queue=queue).start()
    third = TrainingJob(tiny_config(**FAST), train, validation, queue=queue).start()
    deadline = time.monotonic() + 30
    while third.snapshot().queue_position != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second.snapshot().queue_position == 1 and third.snapshot().queue_position == 2
    assert second.status == JobStatus.QUEUED
    second.stop()
    assert second.wait(timeout=10) == JobStatus.STOPPED and second.model is None
    release.set()
    assert first.wait(timeout=60) == JobStatus.FINISHED
    assert third.wait(timeout=60) == JobStatus.FINISHED


def test_progress_and_eta_while_running_ignore_the_setup_before_the_first_batch():
    from core.training import _Progress

    progress = _Progress(epochs=2, batches_per_epoch=10)
    assert progress.eta() is None and progress.fraction() == 0.0
    for batch in range(5):
        progress.add_batch(batch, loss=0.5, accuracy=0.5)
    progress.first_batch_at -= 4.0  # as if 4 batches after the first took a second each
    assert progress.fraction() == pytest.approx(0.25)
    assert progress.eta() == pytest.approx(15.0, rel=0.05)  # 15 batches left at about 1 s each
    progress.add_epoch({"epoch": 1, "loss": 0.4, "accuracy": 0.8, "seconds": 5.0})
    assert progress.fraction() == pytest.approx(0.5) and progress.log_lines == [
        "Epoch 1/2 (stopped after batch 5/10) - 5.0s - loss: 0.4000 - accuracy: 0.8000"]  # 5 of its 10 batches ran


class _Listening(TrainingListener):
    """Writes down every hook call and asks to stop after `stop_after` batches."""

    def __init__(self, stop_after: int) -> None:
        self.stop_after = stop_after
        self.calls: list[tuple] = []

    def on_train_begin(self, batches_per_epoch: int) -> None:
        self.calls.append(("begin", batches_per_epoch))

    def on_batch_end(self, batch: int, loss: float, accuracy: float) -> None:
        self.calls.append(("batch", batch))

    def on_epoch_end(self, entry: dict[str, float]) -> None:
        self.calls.append(("epoch", entry["epoch"]))

    def should_stop(self) -> bool:
        return sum(call[0] == "batch" for call in self.calls) >= self.stop_after


def test_the_keras_callback_reports_to_any_listener_and_stops_when_it_asks():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    features = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    targets = keras.utils.to_categorical(features[:, 0] > 0, 2)
    listener = _Listening(stop_after=5)
    recorder = _Recorder(listener, tiny_config(**FAST), batches_per_epoch=8)
    model.fit(features, targets, batch_size=4, epochs=3, callbacks=[recorder], verbose=0)
    assert listener.calls == [("begin", 8), *[("batch", batch) for batch in range(5)], ("epoch", 1)]


def test_the_job_is_saving_while_on_done_runs_and_not_done_until_it_returns():
    seen = []

    def save(job: TrainingJob) -> None:
        seen.append((job.status, job.snapshot().status, job.done))

    train, validation = _datasets()
    job = TrainingJob(tiny_config(**{**FAST, "epochs": 1}), train, validation, on_done=save).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED
    assert seen == [(JobStatus.SAVING, JobStatus.SAVING, False)] and job.done


def _recorded(job: TrainingJob, batches: int) -> TrainingJob:
    """The job as if its training thread had reported `batches` batches (the job is never started)."""
    job.on_train_begin(batches_per_epoch=100)
    for batch in range(batches):
        job.on_batch_end(batch % 100, loss=0.5, accuracy=0.5)
    return job


def test_a_snapshot_keeps_its_history_as_it_was_while_the_job_goes_on():
    train, validation = _datasets()
    job = _recorded(TrainingJob(tiny_config(**FAST), train, validation), batches=3)
    before = job.snapshot()
    _recorded(job, batches=2)
    job.on_epoch_end({"epoch": 1, "loss": 0.4, "accuracy": 0.8, "seconds": 1.0})
    after = job.snapshot()
    assert len(before.batch_history) == 3 and len(after.batch_history) == 5
    assert [row["batch"] for row in before.batch_history] == [1, 2, 3]
    assert before.batch_history[-1]["batch"] == 3 and [row["batch"] for row in before.batch_history[::2]] == [1, 3]
    with pytest.raises(IndexError):
        before.batch_history[3]  # appended after the snapshot: not part of it
    assert not before.epoch_history and not before.log_lines and len(after.log_lines) == 1


def test_a_snapshot_of_a_long_run_copies_none_of_its_history():
    train, validation = _datasets()
    job = _recorded(TrainingJob(tiny_config(**FAST), train, validation), batches=20_000)
    tracemalloc.start()
    try:
        job.snapshot()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000  # bytes; a copy of the list alone takes 8 per batch, 160 kB here


@pytest.mark.parametrize("setting", ["two", "0", "-1", "1.5"])
def test_a_bad_max_concurrent_jobs_is_a_config_error_that_says_what_to_set(setting, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_CONCURRENT_JOBS", setting)
    with pytest.raises(ConfigError, match=f"STUDIO_MAX_CONCURRENT_JOBS is '{setting}': set it to a whole number"):
        max_concurrent_jobs()


def test_max_concurrent_jobs_reads_the_variable_or_defaults(monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_CONCURRENT_JOBS", " 3 ")
    assert max_concurrent_jobs() == 3
    monkeypatch.delenv("STUDIO_MAX_CONCURRENT_JOBS")
    assert max_concurrent_jobs() == DEFAULT_CONCURRENT_JOBS == 2


def test_balanced_class_weights_weigh_every_class_alike():
    weights = balanced_class_weights(["a"] * 6 + ["b"] * 2, ["a", "b", "c"])
    assert weights == pytest.approx({"a": 8 / 18, "b": 8 / 6, "c": 0.0})
    assert 6 * weights["a"] == pytest.approx(2 * weights["b"])  # each present class weighs the same in all


def _minority_probability(class_weight: str) -> float:
    """Mean probability a briefly trained model gives the rare class on its own training rows."""
    texts, labels = make_texts(400)
    rare = [index for index, label in enumerate(labels) if label == "positive"][:20]
    keep = [index for index, label in enumerate(labels) if label == "negative"] + rare
    data = Dataset(tuple(texts[i] for i in keep), tuple(labels[i] for i in keep))
    config = tiny_config(learning_rate=0.01, early_stopping=False, dropout=0.0, class_weight=class_weight)
    job = TrainingJob(config, data).start()
    job.wait(timeout=120)
    assert job.model is not None, job.snapshot().error
    rare_texts = [texts[i] for i in rare]
    return float(Predictor(job.model, job.classes).predict_proba(rare_texts)[:, job.classes.index("positive")].mean())


def test_balanced_class_weights_raise_the_rare_class_in_training():
    # 200 negative rows, 20 positive: unweighted, the loss hardly notices the positives after two epochs.
    plain, balanced = _minority_probability("none"), _minority_probability("balanced")
    assert balanced > plain + 0.1, (plain, balanced)


def test_class_weight_is_a_checked_setting():
    assert TrainConfig(class_weight="balanced").class_weight == "balanced"
    with pytest.raises(ConfigError, match="class_weight='even'.*none, balanced"):
        TrainConfig(class_weight="even")
