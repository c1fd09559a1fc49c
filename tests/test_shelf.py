"""Tests for core.shelf: one session's models and the bundled ones, per-session folders and their cleanup."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from core.data import Dataset
from core.errors import ConfigError, ModelNotFoundError, RegistryError
from core.registry import ModelRegistry
from core.shelf import (
    SESSIONS_FOLDER,
    ModelShelf,
    cleanup_at_start,
    cleanup_stale_sessions,
    session_models_dir,
)

CLASSES = ["bad", "good"]
HOUR = 60 * 60


@pytest.fixture(scope="module")
def text_model():
    """The smallest end-to-end model a Predictor accepts: raw strings in, two class probabilities out."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(1,), dtype="string")
    words = keras.layers.StringLookup(vocabulary=["awful", "great"], output_mode="multi_hot")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(words))


def _save(registry: ModelRegistry, model, name: str) -> Path:
    return registry.save(model, {"classes": CLASSES}, name=name).path


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_public_sessions_save_apart_and_see_bundled_models_read_only(tmp_path: Path, text_model) -> None:
    _save(ModelRegistry(tmp_path), text_model, "bundled")
    alice = ModelShelf(tmp_path, "alice", public=True)
    bob = ModelShelf(tmp_path, "bob", public=True)
    _save(alice.own, text_model, "private")
    _save(alice.own, text_model, "bundled")  # her own model of the same name shadows the bundled one

    assert alice.own.root == session_models_dir(tmp_path, "alice")
    assert [info.name for info in alice.models()] == ["bundled", "private"]  # own first, newest first
    assert alice.find("bundled").path == alice.own.root / "bundled" and not alice.is_bundled("bundled")
    assert alice.bundled_names() == frozenset()
    assert [info.name for info in bob.models()] == ["bundled"]  # the sessions folder is not a model
    assert bob.bundled_names() == {"bundled"} and bob.is_bundled("bundled")
    assert bob.find("bundled").path == tmp_path / "bundled"
    with pytest.raises(ModelNotFoundError):
        bob.find("private")
    with pytest.raises(RegistryError, match="'bundled' comes with the app and is read-only"):
        bob.writable("bundled")
    assert alice.writable("private") is alice.own
    with pytest.raises(RegistryError, match="read-only"):
        bob.bundled.delete("bundled")


def test_locally_the_models_folder_is_the_one_writable_shelf(tmp_path: Path, text_model) -> None:
    shelf = ModelShelf(tmp_path, "anyone", public=False)
    assert shelf.own.root == tmp_path and not shelf.own.read_only and shelf.bundled is None
    _save(shelf.own, text_model, "mine")
    assert shelf.bundled_names() == frozenset() and not shelf.is_bundled("mine")
    assert shelf.writable("mine") is shelf.own


def test_usable_refuses_a_broken_model_with_the_reason_and_loads_the_rest(tmp_path: Path, text_model) -> None:
    shelf = ModelShelf(tmp_path, "anyone", public=False)
    _save(shelf.own, text_model, "good-one")
    (_save(shelf.own, text_model, "cut") / "model.keras").write_bytes(b"PK not a zip")
    assert shelf.usable("good-one").broken is None
    with pytest.raises(RegistryError, match="'cut' cannot be exported: model.keras is damaged or incomplete"):
        shelf.usable("cut", "exported")
    with pytest.raises(RegistryError, match="'cut' cannot be used: model.keras is damaged"):
        shelf.load_predictor("cut")
    predictor = shelf.load_predictor("good-one")
    assert predictor.classes == tuple(CLASSES)
    assert predictor.predict_proba(["great", "awful"]).shape == (2, 2)


def test_models_of_the_same_classes_are_scored_one_by_one_on_the_same_rows(tmp_path: Path, text_model) -> None:
    shelf = ModelShelf(tmp_path, "anyone", public=False)
    for name in ("active", "twin"):
        _save(shelf.own, text_model, name)
    shelf.own.save(text_model, {"classes": ["no", "yes"]}, name="other-classes")
    (tmp_path / "half-saved").mkdir()
    assert shelf.comparable(CLASSES, besides="active") == ["twin"]

    rows = Dataset(("great", "awful", "great great"), ("good", "bad", "good"))
    scores = shelf.score(["twin", "active"], rows, CLASSES)
    assert [name for name, _ in scores] == ["twin", "active"]
    assert scores[0][1] == scores[1][1] and sum(map(sum, scores[0][1].confusion)) == 3  # same model, same rows
    only_good = Dataset(("great",), ("good",))  # a file may lack a class; the model's classes still count
    assert shelf.score(["twin"], only_good, CLASSES)[0][1].classes == tuple(CLASSES)
    with pytest.raises(RegistryError, match="'other-classes' predicts no, yes, not bad, good"):
        shelf.score(["other-classes"], rows, CLASSES)
    with pytest.raises(ModelNotFoundError):
        shelf.score(["no-such-model"], rows, CLASSES)


def test_session_folders_stay_inside_root_and_never_collide(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    assert session_models_dir(tmp_path, session) == tmp_path / SESSIONS_FOLDER / session
    hostile = ["../../etc", "/abs", "a/b", "ab", "..", "x" * 1000, "sha-abc", "\x00", "名前"]
    folders = [session_models_dir(tmp_path, session_id) for session_id in hostile]
    assert len(set(folders)) == len(hostile)
    assert all(folder.parent == tmp_path / SESSIONS_FOLDER and len(folder.name) <= 64 for folder in folders)
    with pytest.raises(ConfigError, match="session id is empty"):
        ModelShelf(tmp_path, "", public=True)


def test_removing_a_session_folder_removes_only_that_session_and_never_locally(tmp_path: Path) -> None:
    for session in ("alice", "bob"):
        (session_models_dir(tmp_path, session) / "model").mkdir(parents=True)
    alice = ModelShelf(tmp_path, "alice", public=True)
    assert alice.remove_session_folder() is True
    assert alice.remove_session_folder() is False
    assert not session_models_dir(tmp_path, "alice").exists() and session_models_dir(tmp_path, "bob").exists()
    (tmp_path / "local-model").mkdir()
    assert ModelShelf(tmp_path, "bob", public=False).remove_session_folder() is False
    assert (tmp_path / "local-model").is_dir()


def test_stale_sessions_are_removed_without_following_links(tmp_path: Path) -> None:
    old, fresh = session_models_dir(tmp_path, "old"), session_models_dir(tmp_path, "fresh")
    for folder in (old, fresh):
        (folder / "model").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    link = tmp_path / SESSIONS_FOLDER / "link"
    link.symlink_to(outside, target_is_directory=True)
    for path in (old, old / "model", link):
        _age(path, 24 * HOUR)

    assert cleanup_stale_sessions(tmp_path) == 2
    assert not old.exists() and not link.is_symlink() and fresh.exists() and outside.exists()
    assert cleanup_stale_sessions(tmp_path / "missing") == 0


def _leftovers(folder: Path) -> tuple[Path, Path]:
    """A half-written save from two hours ago and one from a moment ago, as crashes leave them."""
    old, recent = folder / ".tmp-old", folder / ".tmp-recent"
    for leftover in (old, recent):
        leftover.mkdir(parents=True)
        (leftover / "model.keras").write_bytes(b"partial")
    _age(old, 2 * HOUR)
    return old, recent


def test_a_local_start_removes_every_half_written_save(tmp_path: Path, text_model) -> None:
    _save(ModelRegistry(tmp_path), text_model, "kept")
    old, recent = _leftovers(tmp_path)
    assert cleanup_at_start(tmp_path, public=False) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept"]
    assert cleanup_at_start(tmp_path / "missing", public=False) == 0


def test_a_public_start_removes_stale_sessions_and_only_old_half_written_saves(tmp_path: Path) -> None:
    root_old, root_recent = _leftovers(tmp_path)
    open_session = session_models_dir(tmp_path, "open-tab")
    session_old, session_recent = _leftovers(open_session)
    gone_session = session_models_dir(tmp_path, "gone-tab")
    (gone_session / "a-model").mkdir(parents=True)
    for path in (gone_session, gone_session / "a-model"):
        _age(path, 24 * HOUR)

    assert cleanup_at_start(tmp_path, public=True) == 3
    assert not gone_session.exists() and not root_old.exists() and not session_old.exists()
    assert root_recent.is_dir() and session_recent.is_dir()  # another server process may be writing these
