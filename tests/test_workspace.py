"""The per-session workspace without a browser: loading, training, models, evaluation, public mode, lifetime."""

from __future__ import annotations

import gc
import io
import json
import shutil
import threading
import time
import weakref
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.errors import (
    ColumnError,
    DataError,
    ExportError,
    ModelNotFoundError,
    NotTextError,
    RegistryError,
    TrainingError,
)
from core.shelf import SESSIONS_FOLDER
from core.evaluate import evaluate
from core.limits import PUBLIC_MAX_EPOCHS
from core.training import JobStatus
from core.workspace import Workspace
from tests.support import RUN_TIMEOUT, TINY_MODEL, csv_bytes, labelled_rows, tiny_config, wait_for

TINY = tiny_config(preset="default")


class _StubJob:
    """Stands in for a TrainingJob where only stopping matters."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def wait(self, timeout: float | None = None) -> None:
        self.stopped.wait(timeout)


def test_failed_upload_keeps_the_loaded_dataset() -> None:
    workspace = Workspace()
    workspace.data.load_upload(csv_bytes(labelled_rows(20)), name="good.csv")
    with pytest.raises(NotTextError):
        workspace.data.load_upload(b"%PDF-1.7 binary", name="report.pdf")
    assert workspace.dataset.report.source == "good.csv"


def test_reload_columns_needs_an_upload() -> None:
    workspace = Workspace()
    workspace.data.load_sample("reviews-en")
    assert not workspace.data.can_change_columns
    with pytest.raises(ColumnError, match="upload a CSV file first"):
        workspace.data.reload_columns("text", "label")


def test_training_needs_data_and_predicting_needs_a_model() -> None:
    from core.config import TrainConfig

    workspace = Workspace()
    with pytest.raises(TrainingError, match="Load training data"):
        workspace.start_training(TrainConfig())
    with pytest.raises(RegistryError, match="No model is active"):
        workspace.predict(["hello"])


def test_release_closes_after_the_grace_period_unless_held() -> None:
    workspace = Workspace()
    workspace.job = _StubJob()
    workspace.release(grace_seconds=0.05)
    workspace.hold()  # the browser reconnected in time
    assert not workspace.job.stopped.wait(0.3)
    job = workspace.job
    workspace.release(grace_seconds=0.05)
    assert job.stopped.wait(2)


def test_closing_a_public_session_stops_training_frees_models_and_deletes_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "models"
    workspace = Workspace(models_root=root, public=True)
    workspace.data.load_upload(csv_bytes(labelled_rows(80)), name="tiny.csv")
    first = workspace.start_training(TINY, name="mine")
    assert first.wait(RUN_TIMEOUT) == JobStatus.FINISHED, first.snapshot().error
    folder = workspace.registry.root
    assert folder.parent == root / SESSIONS_FOLDER and (folder / "mine").is_dir()
    model_ref = weakref.ref(first.model)
    del first
    job = workspace.start_training(TINY.replace(epochs=PUBLIC_MAX_EPOCHS, early_stopping=False))  # the most allowed
    wait_for(lambda: job.snapshot().batch_history)
    started = time.monotonic()
    workspace.close()
    assert time.monotonic() - started < 10
    assert job.status == JobStatus.STOPPED and not job._thread.is_alive()
    assert workspace.closed and workspace.job is workspace.active is workspace.evaluation is None
    assert workspace.dataset is workspace.test_dataset is None
    assert not folder.exists() and root.is_dir()
    job_ref = weakref.ref(job)
    del job
    gc.collect()
    assert job_ref() is None and model_ref() is None


def test_closing_a_local_session_keeps_the_shared_models(tmp_path: Path) -> None:
    kept = tmp_path / "models" / "someone-elses"
    kept.mkdir(parents=True)
    workspace = Workspace(models_root=tmp_path / "models", public=False)
    assert workspace.registry.root == tmp_path / "models" and workspace.shelf.bundled is None
    workspace.close()
    assert kept.is_dir()


def test_public_sessions_see_their_own_models_and_the_bundled_ones_read_only(
    trained_models: Path, tmp_path: Path
) -> None:
    root = tmp_path / "models"
    shutil.copytree(trained_models, root)  # the bundled model
    first, second = Workspace(models_root=root, public=True), Workspace(models_root=root, public=True)
    shutil.copytree(trained_models / TINY_MODEL, first.registry.root / "first-own")
    assert [info.name for info in first.models()] == ["first-own", TINY_MODEL]
    assert [info.name for info in second.models()] == [TINY_MODEL]
    assert first.shelf.bundled_names() == second.shelf.bundled_names() == {TINY_MODEL}
    assert not first.shelf.is_bundled("first-own")
    with pytest.raises(ModelNotFoundError):
        second.delete_model("first-own")
    with pytest.raises(ModelNotFoundError):
        second.activate_model("first-own")
    for change in (lambda: second.delete_model(TINY_MODEL), lambda: second.rename_model(TINY_MODEL, "mine")):
        with pytest.raises(RegistryError, match="comes with the app and is read-only"):
            change()
    assert second.activate_model(TINY_MODEL).name == TINY_MODEL  # bundled models can be used and downloaded
    assert (second.shelf.find(TINY_MODEL).path / "model.keras").is_file()
    first.delete_model("first-own")
    assert (root / TINY_MODEL).is_dir() and [info.name for info in first.models()] == [TINY_MODEL]


def test_models_are_compared_on_the_same_uploaded_rows(trained_models: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(trained_models, root)
    shutil.copytree(root / TINY_MODEL, root / "tiny-copy")
    other = root / "other-classes"
    shutil.copytree(root / TINY_MODEL, other)
    metadata = json.loads((other / "metadata.json").read_text(encoding="utf-8"))
    (other / "metadata.json").write_text(json.dumps({**metadata, "classes": ["bad", "good"]}), encoding="utf-8")
    workspace = Workspace(models_root=root)
    workspace.activate_model(TINY_MODEL)
    with pytest.raises(DataError, match="Upload a labelled file"):
        workspace.compare(["tiny-copy"])  # the saved test rows are not kept, so there is nothing to compare on
    assert workspace.comparable_models() == ["tiny-copy"]  # not itself, not a model of other classes

    result = workspace.evaluate_upload(csv_bytes(labelled_rows(30, seed=3)))
    scores = workspace.compare(["tiny-copy"])
    assert [name for name, _ in scores] == [TINY_MODEL, "tiny-copy"]
    assert scores[0][1] is result.evaluation  # the active model's evaluation on the file is not redone
    assert scores[1][1].accuracy == result.evaluation.accuracy  # same model, same rows
    with pytest.raises(RegistryError, match="'other-classes' predicts bad, good, not negative, positive"):
        workspace.compare(["other-classes"])
    with pytest.raises(ModelNotFoundError):
        workspace.compare(["no-such-model"])


def test_a_saved_model_exports_as_a_zipped_savedmodel(trained_models: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(trained_models, root)
    (root / "half-saved").mkdir()
    workspace = Workspace(models_root=root)
    names = zipfile.ZipFile(io.BytesIO(workspace.saved_model_zip(TINY_MODEL))).namelist()
    assert f"{TINY_MODEL}/saved_model.pb" in names
    with pytest.raises(RegistryError, match="'half-saved' cannot be exported: metadata.json is missing"):
        workspace.saved_model_zip("half-saved")


def test_a_saved_model_downloads_as_a_zipped_tflite_folder_converted_in_a_subprocess(
        trained_models: Path, monkeypatch) -> None:
    import core.litert

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the conversion must run in a subprocess, not in the app's process")

    monkeypatch.setattr(core.litert, "write_export", not_here)
    workspace = Workspace(models_root=trained_models)
    names = zipfile.ZipFile(io.BytesIO(workspace.tflite_zip(TINY_MODEL, "int8"))).namelist()
    assert {f"{TINY_MODEL}/model.tflite", f"{TINY_MODEL}/litert_preprocess.py", f"{TINY_MODEL}/example.py"} <= set(names)
    with pytest.raises(ExportError, match="Unknown quantization 'int4'"):
        workspace.tflite_zip(TINY_MODEL, "int4")


def test_a_file_is_predicted_with_the_active_models_classes(trained_models: Path) -> None:
    workspace = Workspace(models_root=trained_models)
    workspace.activate_model(TINY_MODEL)
    predictions = workspace.predict_file(b"id,review\n1,great phone\n2,\n3,awful film\n")
    assert predictions.table.texts == ["great phone", "", "awful film"]
    assert predictions.classes == ("negative", "positive") and predictions.probabilities.shape == (3, 2)
    assert list(predictions.predicted) == [True, False, True]
    np.testing.assert_allclose(predictions.probabilities[[0, 2]].sum(axis=1), 1.0, atol=1e-5)


def test_an_uploaded_evaluation_is_stored_under_the_lock(trained_models: Path, monkeypatch) -> None:
    # The lock keeps `active` and `evaluation` consistent: a run finishing meanwhile sets both at once.
    workspace = Workspace(models_root=trained_models)
    workspace.activate_model(TINY_MODEL)
    saved = workspace.evaluation
    scored = threading.Event()

    def evaluate_and_signal(*args):
        evaluation = evaluate(*args)
        scored.set()
        return evaluation

    monkeypatch.setattr("core.compare.evaluate", evaluate_and_signal)
    with workspace._lock:  # as another writer (a finishing run) holds it
        upload = threading.Thread(target=workspace.evaluate_upload, args=(csv_bytes(labelled_rows(12)),))
        upload.start()
        assert scored.wait(RUN_TIMEOUT)
        upload.join(0.5)
        assert workspace.evaluation is saved and upload.is_alive()  # waits for the lock before writing
    upload.join(RUN_TIMEOUT)
    assert workspace.evaluation is not saved and workspace.evaluation.rows == 12


def test_an_uploaded_evaluation_does_not_replace_that_of_a_model_activated_meanwhile(
    trained_models: Path, monkeypatch
) -> None:
    workspace = Workspace(models_root=trained_models)
    before = workspace.activate_model(TINY_MODEL)

    def evaluate_while_the_user_loads_a_model(*args):
        workspace.activate_model(TINY_MODEL)
        return evaluate(*args)

    monkeypatch.setattr("core.compare.evaluate", evaluate_while_the_user_loads_a_model)
    result = workspace.evaluate_upload(csv_bytes(labelled_rows(12)))
    assert workspace.active is not before and result.rows == 12
    assert workspace.evaluation is not result and workspace.evaluation.source == "test"  # the new model's own


def _two_sessions(trained_models: Path, tmp_path: Path) -> tuple[Workspace, Workspace]:
    """Two local sessions sharing one models folder; the first uses the tiny model."""
    root = tmp_path / "models"
    shutil.copytree(trained_models, root)
    mine, other = Workspace(models_root=root, public=False), Workspace(models_root=root, public=False)
    mine.activate_model(TINY_MODEL)
    return mine, other


def test_a_model_renamed_by_another_session_stays_active_under_its_new_name(
        trained_models: Path, tmp_path: Path) -> None:
    mine, other = _two_sessions(trained_models, tmp_path)
    assert mine.check_active() is None  # nothing changed yet
    other.rename_model(TINY_MODEL, "renamed-elsewhere")
    change = mine.check_active()
    assert change == (TINY_MODEL, "renamed-elsewhere")
    assert mine.active.name == "renamed-elsewhere" and mine.lost_model is None
    assert mine.check_active() is None and mine.predict(["good"])  # found again, and it still predicts


def test_a_model_deleted_by_another_session_is_no_longer_active_and_is_named(
        trained_models: Path, tmp_path: Path) -> None:
    mine, other = _two_sessions(trained_models, tmp_path)
    other.delete_model(TINY_MODEL)
    assert mine.check_active() == (TINY_MODEL, None)
    assert mine.active is None and mine.evaluation is None and mine.lost_model == TINY_MODEL
    with pytest.raises(RegistryError, match="No model is active"):
        mine.predict(["a ghost would answer this"])


def test_a_model_replaced_under_the_same_name_counts_as_gone(trained_models: Path, tmp_path: Path) -> None:
    mine, other = _two_sessions(trained_models, tmp_path)
    folder = other.models_root / TINY_MODEL
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    (folder / "metadata.json").write_text(json.dumps({**metadata, "created": "2099-01-01T00:00:00+00:00"}),
                                          encoding="utf-8")  # another run saved over it
    assert mine.check_active() == (TINY_MODEL, None) and mine.lost_model == TINY_MODEL
    mine.activate_model(TINY_MODEL)  # choosing a model again clears the notice
    assert mine.lost_model is None and mine.check_active() is None
