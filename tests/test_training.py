from __future__ import annotations

import threading
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.config import TrainConfig
from core.data import Dataset
from core.predict import Predictor
from core.errors import TrainingError
from core.training import JobStatus, TrainingJob, JobQueue, _Recorder, device_description
from tests.conftest import make_texts

# Unit-length TF-IDF rows are small inputs: a high learning rate lets 96 texts be learnt in 3 epochs.
FAST = dict(family="mlp", layer_sizes=[8], vocab_size=500, batch_size=8, epochs=3, learning_rate=0.05, early_stopping=False)


def _datasets(count: int = 96) -> tuple[Dataset, Dataset]:
    texts, labels = make_texts(count)
    validation_texts, validation_labels = make_texts(24, seed=1)
    return Dataset(tuple(texts), tuple(labels)), Dataset(tuple(validation_texts), tuple(validation_labels))


def test_job_runs_in_the_background_and_records_batches_and_epochs():
    train, validation = _datasets()
    job = TrainingJob(TrainConfig(**FAST), train, validation).start()
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
    job = TrainingJob(TrainConfig(**{**FAST, "epochs": 500, "batch_size": 4}), train, validation).start()
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
    config = TrainConfig(**{**FAST, "epochs": 60, "early_stopping": True, "patience": 2, "learning_rate": 0.05})
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
        job = TrainingJob(TrainConfig(**FAST), train, validation).start()
        job.wait(timeout=120)
        results.append(Predictor(job.model, job.classes).predict_proba(list(validation.texts)))
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_an_exception_inside_training_fails_the_job_with_its_message():
    train, validation = _datasets()
    job = TrainingJob(TrainConfig(**FAST), train, validation)
    job._record_batch = lambda batch, loss, accuracy: (_ for _ in ()).throw(OverflowError("boom"))
    job.start()
    assert job.wait(timeout=120) == JobStatus.FAILED
    assert "OverflowError" in job.snapshot().error and job.model is None


def test_nan_loss_is_reported_as_divergence():
    train, validation = _datasets()
    recorder = _Recorder(TrainingJob(TrainConfig(**FAST), train, validation))
    recorder.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    with pytest.raises(TrainingError, match="diverged"):
        recorder.on_train_batch_end(0, {"loss": float("nan"), "accuracy": 0.5})


def test_an_error_in_on_done_marks_the_job_failed():
    train, validation = _datasets()

    def broken_save(job: TrainingJob) -> None:
        raise OSError("disk full")

    job = TrainingJob(TrainConfig(**{**FAST, "epochs": 1}), train, validation, on_done=broken_save).start()
    assert job.wait(timeout=120) == JobStatus.FAILED
    assert "disk full" in job.snapshot().error


def test_queue_admits_jobs_in_order_and_a_waiting_job_can_be_cancelled():
    train, validation = _datasets()
    queue = JobQueue(slots=1)
    release = threading.Event()
    first = TrainingJob(TrainConfig(**FAST), train, validation, on_done=lambda job: release.wait(30), queue=queue).start()
    second = TrainingJob(TrainConfig(**FAST), train, validation, queue=queue).start()
    third = TrainingJob(TrainConfig(**FAST), train, validation, queue=queue).start()
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
    assert progress.fraction() == pytest.approx(0.5) and progress.log_lines == ["Epoch 1/2 - 5.0s - loss: 0.4000 - accuracy: 0.8000"]
