"""Every bound of core.limits holds: public mode's training caps, memory estimates, the fair share of training
slots per visitor, the wall-clock cap of a run, the upload limit and the disk quota (issue 16.2-16.4).

Each test is bounded in time (tiny data, small models, short waits) and fails when its bound is taken away.
"""

from __future__ import annotations

import threading
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from core import limits
from core.config import TrainConfig, preset
from core.data import Dataset, load_dataset
from core.errors import DiskQuotaError, FileTooLargeError, LimitError
from core.registry import MODEL_FILE, ModelRegistry
from core.training import JobQueue, JobStatus, TrainingJob
from core.workspace import Workspace
from tests.support import make_texts, tiny_config

SMALL = dict(batch_size=8, learning_rate=0.05, early_stopping=False)
GIGABYTE = 1024 ** 3


def _train_data(count: int = 96) -> tuple[Dataset, Dataset]:
    texts, labels = make_texts(count)
    validation_texts, validation_labels = make_texts(24, seed=1)
    return Dataset(tuple(texts), tuple(labels)), Dataset(tuple(validation_texts), tuple(validation_labels))


def _plenty_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "available_memory", lambda: 64 * GIGABYTE)


# --- estimates -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [
    TrainConfig(family="mlp", layer_sizes=[16, 8], vocab_size=300, ngrams=1),
    TrainConfig(family="lstm", layer_sizes=[8, 4], vocab_size=300, embedding_dim=8, bidirectional=True),
    TrainConfig(family="gru", layer_sizes=[6], vocab_size=300, embedding_dim=8),
    TrainConfig(family="cnn", layer_sizes=[8, 4], vocab_size=300, embedding_dim=8, sequence_length=20),
    TrainConfig(family="mlp", layer_sizes=[16], vocab_size=300, features="encoder"),
    TrainConfig(family="mlp", layer_sizes=[16, 8], vocab_size=300, ngrams=1, features="encoder_tf_idf"),
], ids=["mlp", "bilstm", "gru", "cnn", "encoder", "encoder-and-words"])
def test_the_parameter_estimate_counts_what_keras_builds(config):
    from core.model import build_model

    texts, _ = make_texts(50)
    texts += [" ".join(f"word{index}" for index in range(400))]  # fills the whole vocabulary, as the estimate assumes
    vectors = np.zeros((len(texts), 384), dtype=np.float32) if config.uses_encoder else None
    model = build_model(config, texts, ("negative", "neutral", "positive"), vectors)
    assert limits.estimate_parameters(config, 3) == model.count_params()


def test_the_memory_estimate_grows_with_the_batch_of_a_sequence_model():
    small = TrainConfig(family="lstm", layer_sizes=[64], batch_size=32, sequence_length=100)
    assert limits.estimate_training_bytes(small.replace(batch_size=1024), 2) > 5 * limits.estimate_training_bytes(small, 2)
    assert limits.estimate_training_bytes(small, 2) >= limits.estimate_parameters(small, 2) * limits.BYTES_PER_PARAMETER


# --- public caps on a run, checked before it starts -----------------------------------------------------------------
@pytest.mark.parametrize(("change", "limit"), [
    ({"epochs": 1000}, limits.PUBLIC_MAX_EPOCHS),
    ({"layer_sizes": [4096]}, limits.PUBLIC_MAX_LAYER_UNITS),
    ({"vocab_size": 500_000}, limits.PUBLIC_MAX_VOCABULARY),
], ids=["epochs", "layer_sizes", "vocab_size"])
def test_public_mode_refuses_settings_over_their_cap_naming_it(change, limit, monkeypatch):
    _plenty_of_memory(monkeypatch)
    config = preset("default").replace(**change)
    with pytest.raises(LimitError, match=f"limit of {limit:,}"):
        limits.check_training(config, 2, public=True)
    limits.check_training(config, 2, public=False)  # the user's own machine: only the settings' ranges apply
    limits.check_training(preset("default"), 2, public=True)


def test_public_mode_refuses_a_model_with_too_many_weights(monkeypatch):
    _plenty_of_memory(monkeypatch)
    config = preset("default").replace(vocab_size=100_000, layer_sizes=[512])  # every setting within its own cap
    assert limits.estimate_parameters(config, 2) > limits.PUBLIC_MAX_PARAMETERS
    with pytest.raises(LimitError, match=f"limit of {limits.PUBLIC_MAX_PARAMETERS:,}"):
        limits.check_training(config, 2, public=True)


def test_a_network_that_does_not_fit_in_memory_is_refused_anywhere_with_the_limit(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 8 * GIGABYTE)
    # Issue 16's 2 x 10^9-weight network: a 500,000-word vocabulary into Dense(4096).
    config = preset("default").replace(vocab_size=500_000, layer_sizes=[4096])
    with pytest.raises(LimitError, match=r"about 30\.\d GB of memory, more than the 8\.0 GB this server has free"):
        limits.check_training(config, 2, public=False)


def test_public_mode_caps_one_runs_memory_below_what_the_machine_has(monkeypatch):
    _plenty_of_memory(monkeypatch)
    config = TrainConfig(family="lstm", layer_sizes=[256], embedding_dim=256, vocab_size=20_000, batch_size=4096,
                         sequence_length=2000)
    with pytest.raises(LimitError, match="400.0 MB one run may take"):
        limits.check_training(config, 2, public=True)


def test_the_workspace_checks_the_caps_before_training(tmp_path, monkeypatch):
    _plenty_of_memory(monkeypatch)
    workspace = Workspace(models_root=tmp_path, public=True, queue=JobQueue(slots=0))
    workspace.data.load_sample()
    with pytest.raises(LimitError, match="epochs"):
        workspace.start_training(preset("default").replace(epochs=1000))
    assert workspace.job is None


# --- memory before parsing and the public upload limit --------------------------------------------------------------
def test_a_file_too_big_to_parse_in_the_memory_left_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 1024 * 1024)
    content = ("text,label\n" + "a fine phone,positive\nan awful phone,negative\n" * 2000).encode()
    with pytest.raises(FileTooLargeError, match=r"about 1\.\d MB of memory, more than the 1\.0 MB this server"):
        load_dataset(content, name="reviews.csv")


def test_public_mode_reads_files_up_to_its_own_smaller_limit(monkeypatch):
    _plenty_of_memory(monkeypatch)
    content = b"text,label\n" + b"x" * limits.PUBLIC_MAX_UPLOAD_BYTES
    monkeypatch.setenv("STUDIO_PUBLIC_MODE", "1")
    with pytest.raises(FileTooLargeError, match=r"over the 20\.0 MB limit"):
        load_dataset(content, name="big.csv")
    monkeypatch.setenv("STUDIO_PUBLIC_MODE", "0")
    with pytest.raises(FileTooLargeError) as raised:  # read, and refused for its one huge cell, not its size
        load_dataset(content, name="big.csv")
    assert "characters" in str(raised.value) and "MB limit" not in str(raised.value)


def test_the_public_upload_limit_fits_the_host():
    two_readers = 2 * limits.PUBLIC_MAX_UPLOAD_BYTES * limits.PARSE_BYTES_PER_FILE_BYTE
    two_runs = 2 * limits.PUBLIC_RUN_MEMORY_BYTES
    app = 750 * 1024 ** 2  # a fresh server (issue 16)
    assert app + two_readers + two_runs < 2.7 * GIGABYTE  # Community Cloud's memory


def test_available_memory_is_known_on_linux():
    free = limits.available_memory()
    assert free is not None and 0 < free < 1 << 50


# --- visitors and the fair share of slots ---------------------------------------------------------------------------
def test_a_visitor_is_the_address_the_proxy_appended_not_one_the_client_sent():
    assert limits.visitor_of("10.0.0.1", "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    assert limits.visitor_of("198.51.100.2", None) == "198.51.100.2"
    assert limits.visitor_of(None, "") is None


class _Waiting:
    """What JobQueue reads of a job: who it is for and whether it was stopped."""

    def __init__(self, visitor: str | None) -> None:
        self.visitor = visitor
        self.stop_requested = False
        self.admitted = threading.Event()

    def enter(self, queue: JobQueue) -> _Waiting:
        threading.Thread(target=lambda: queue.enter(self) and self.admitted.set(), daemon=True).start()
        return self


def test_one_visitor_with_many_tabs_holds_one_slot_and_others_pass_it():
    queue = JobQueue(slots=2, slots_per_visitor=1)
    first = _Waiting("alice").enter(queue)
    assert first.admitted.wait(5)
    second, third = _Waiting("alice").enter(queue), _Waiting("alice").enter(queue)
    time.sleep(0.3)
    bob = _Waiting("bob").enter(queue)
    assert bob.admitted.wait(5), "Bob waited behind Alice's second tab though a slot was free"
    assert not second.admitted.is_set() and not third.admitted.is_set()
    assert queue.position(second) == 1 and queue.jobs_of("alice") == 3
    queue.leave(first)
    assert second.admitted.wait(5)
    for job in (second, third, bob):
        job.stop_requested = True
        queue.leave(job)
    queue.wake()


def test_jobs_without_a_visitor_fill_every_slot():
    queue = JobQueue(slots=2, slots_per_visitor=1)
    jobs = [_Waiting(None).enter(queue) for _ in range(2)]
    assert all(job.admitted.wait(5) for job in jobs)


def test_a_visitor_cannot_queue_more_runs_than_allowed_from_other_tabs(tmp_path, monkeypatch):
    _plenty_of_memory(monkeypatch)
    queue = JobQueue(slots=0)  # nothing is admitted: every run stays queued
    tabs = [Workspace(models_root=tmp_path, public=True, queue=queue, visitor="203.0.113.7") for _ in range(3)]
    for tab in tabs:
        tab.data.load_sample()
    config = tiny_config(**SMALL, epochs=1)
    try:
        for tab in tabs[:limits.PUBLIC_JOBS_PER_VISITOR]:
            tab.start_training(config)
        with pytest.raises(LimitError, match=f"{limits.PUBLIC_JOBS_PER_VISITOR} training runs going"):
            tabs[-1].start_training(config)
        other = Workspace(models_root=tmp_path, public=True, queue=queue, visitor="198.51.100.2")
        other.data.load_sample()
        other.start_training(config)  # another visitor is not held back
        tabs.append(other)
    finally:
        for tab in tabs:
            tab.close(wait_seconds=5)


# --- the wall-clock cap of a run -------------------------------------------------------------------------------------
def test_a_run_over_its_time_limit_stops_itself_and_keeps_its_best_epoch():
    train, validation = _train_data(400)
    job = TrainingJob(tiny_config(**{**SMALL, "epochs": 500, "batch_size": 4}), train, validation,
                      time_limit=2.0).start()
    assert job.wait(timeout=90) == JobStatus.FINISHED  # finished, not failed nor stopped by the user
    snapshot = job.snapshot()
    assert snapshot.time_limited and snapshot.time_limit == 2.0
    assert job.model is not None and 1 <= job.epochs_run < 500
    assert not job.stop_requested
    assert any("limit of 2 seconds for one run" in line for line in snapshot.log_lines)


def test_a_public_run_over_the_limit_is_saved_and_used(tmp_path, monkeypatch):
    _plenty_of_memory(monkeypatch)
    monkeypatch.setattr(limits, "PUBLIC_TRAIN_SECONDS", 2.0)
    workspace = Workspace(models_root=tmp_path, public=True, queue=JobQueue(slots=1))
    workspace.data.load_sample()
    job = workspace.start_training(tiny_config(**{**SMALL, "epochs": 100, "batch_size": 1}))
    assert job.wait(timeout=120) == JobStatus.FINISHED
    assert job.snapshot().time_limited and job.epochs_run < 100
    assert workspace.active is not None and workspace.stopped_run is None
    workspace.close()


# --- disk -------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_model():
    train, validation = _train_data()
    job = TrainingJob(tiny_config(**SMALL, epochs=2), train, validation).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED
    return job.model


def test_a_saved_model_holds_no_optimizer_state_and_predicts_the_same(tmp_path, trained_model):
    import tensorflow as tf

    texts = tf.constant(["a great phone", "an awful film"])[:, None]
    before = np.asarray(trained_model(texts))
    info = ModelRegistry(tmp_path).save(trained_model, {"classes": ["negative", "positive"]}, name="m")
    with zipfile.ZipFile(info.path / MODEL_FILE) as archive, archive.open("model.weights.h5") as weights:
        with h5py.File(weights) as h5:
            optimizer_variables = len(h5["optimizer"]["vars"]) if "optimizer" in h5 else 0
    assert optimizer_variables <= 2  # the step count and learning rate; Adam's moments would be 2 per weight
    loaded = ModelRegistry(tmp_path).load_model("m")
    np.testing.assert_allclose(np.asarray(loaded(texts)), before, rtol=1e-6)


def test_a_save_over_the_disk_quota_is_refused_and_leaves_nothing(tmp_path, trained_model):
    registry = ModelRegistry(tmp_path, quota_bytes=10_000)
    with pytest.raises(DiskQuotaError, match=r"over the 9\.8 KB each visitor may keep"):
        registry.save(trained_model, {"classes": ["negative", "positive"]}, name="m")
    assert registry.disk_bytes() == 0 and registry.list() == []


def test_a_public_session_has_a_disk_quota_checked_before_training(tmp_path, monkeypatch):
    _plenty_of_memory(monkeypatch)
    monkeypatch.setattr(limits, "PUBLIC_SESSION_DISK_BYTES", 1000)
    workspace = Workspace(models_root=tmp_path, public=True, queue=JobQueue(slots=0))
    assert workspace.registry.quota_bytes == 1000
    workspace.data.load_sample()
    with pytest.raises(DiskQuotaError, match="This model would take your saved models"):
        workspace.start_training(tiny_config(**SMALL, epochs=1))
    assert Workspace(models_root=tmp_path, public=False).registry.quota_bytes is None


def _spellings(name: str, value: float) -> set[str]:
    """How SECURITY.md may write a bound: 1,000 or 16; sizes in MB; times in seconds or minutes."""
    forms = {f"{value:,}", f"{value:g}"}
    if name.endswith("_BYTES"):
        forms.add(f"{value / 1024 ** 2:g} MB")
    if name.endswith("_SECONDS"):
        forms |= {f"{value:g} s", f"{value / 60:g} minutes"}
    return forms


def test_security_md_lists_every_bound_with_its_number():
    text = (Path(__file__).resolve().parents[1] / "SECURITY.md").read_text(encoding="utf-8")
    bounds = {name: value for name, value in vars(limits).items()
              if name.isupper() and not name.startswith("_") and type(value) in (int, float)}
    assert len(bounds) >= 18
    for name, value in bounds.items():
        rows = [line for line in text.splitlines() if f"`{name}`" in line or f".{name}`" in line]
        assert rows, f"SECURITY.md does not list {name}"
        assert any(form in row for row in rows for form in _spellings(name, value)), f"{name}={value} not in {rows}"
