"""Tests for core.safety: formula-safe downloads, public-mode detection and per-session model folders."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from core.errors import ConfigError, RegistryError
from core.registry import ModelRegistry
from core.safety import (
    PUBLIC_MODE_VARIABLE,
    SESSIONS_FOLDER,
    cleanup_session_dir,
    cleanup_stale_sessions,
    escape_formula,
    public_mode,
    registries_for_session,
    session_models_dir,
    to_safe_csv,
)


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
     ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("\n@x", "'\n@x"), ("great", "great"), ("a=b", "a=b"), ("", "")],
)
def test_escape_formula(value: str, escaped: str) -> None:
    assert escape_formula(value) == escaped


def test_safe_csv_has_a_bom_keeps_chinese_and_numbers_and_escapes_text_and_headers() -> None:
    frame = pd.DataFrame({"text": ["好评 =)", "=HYPERLINK(1)"], "=label": ["-1", "+1"], "p": [-0.5, 0.25]})
    download = to_safe_csv(frame)
    assert download.startswith(b"\xef\xbb\xbf")
    assert download.decode("utf-8-sig").splitlines() == [
        "text,'=label,p", "好评 =),'-1,-0.5", "'=HYPERLINK(1),'+1,0.25",
    ]


@pytest.mark.parametrize(("setting", "expected"), [("1", True), ("true", True), ("TRUE", True), ("0", False),
                                                   ("false", False), (" off ", False)])
def test_public_mode_setting_wins(monkeypatch, setting: str, expected: bool) -> None:
    monkeypatch.setenv(PUBLIC_MODE_VARIABLE, setting)
    monkeypatch.setenv("HOSTNAME", "streamlit")
    assert public_mode() is expected


def test_public_mode_refuses_an_unknown_setting(monkeypatch) -> None:
    monkeypatch.setenv(PUBLIC_MODE_VARIABLE, "sometimes")
    with pytest.raises(ConfigError, match="STUDIO_PUBLIC_MODE is 'sometimes': set it to 1"):
        public_mode()


@pytest.mark.parametrize(("hostname", "expected"), [("streamlit", True), ("my-laptop", False)])
def test_public_mode_detects_community_cloud(monkeypatch, hostname: str, expected: bool) -> None:
    monkeypatch.delenv(PUBLIC_MODE_VARIABLE, raising=False)
    monkeypatch.setenv("HOSTNAME", hostname)
    assert public_mode() is expected  # this checkout is not under /mount/src


def test_session_folders_stay_inside_root_and_never_collide(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    assert session_models_dir(tmp_path, session) == tmp_path / SESSIONS_FOLDER / session
    hostile = ["../../etc", "/abs", "a/b", "ab", "..", "x" * 1000, "sha-abc", "\x00", "名前"]
    folders = [session_models_dir(tmp_path, session_id) for session_id in hostile]
    assert len(set(folders)) == len(hostile)
    assert all(folder.parent == tmp_path / SESSIONS_FOLDER and len(folder.name) <= 64 for folder in folders)
    with pytest.raises(ConfigError, match="session id is empty"):
        session_models_dir(tmp_path, "")


def test_public_sessions_save_apart_and_see_bundled_models_read_only(tmp_path: Path, tiny_model) -> None:
    ModelRegistry(tmp_path).save(tiny_model, {"classes": ["a", "b"]}, name="bundled")
    mine, bundled = registries_for_session(tmp_path, "alice", public=True)
    theirs, _ = registries_for_session(tmp_path, "bob", public=True)
    mine.save(tiny_model, {"classes": ["a", "b"]}, name="private")

    assert [info.name for info in mine.list()] == ["private"]
    assert theirs.list() == []
    assert [info.name for info in bundled.list()] == ["bundled"]  # the sessions folder is not a model
    with pytest.raises(RegistryError, match="read-only"):
        bundled.delete("bundled")
    assert mine.root == session_models_dir(tmp_path, "alice")


def test_local_mode_writes_to_root(tmp_path: Path) -> None:
    writable, bundled = registries_for_session(tmp_path, "anyone", public=False)
    assert writable.root == tmp_path and not writable.read_only and bundled is None


def test_session_cleanup_removes_only_that_session(tmp_path: Path) -> None:
    for session in ("alice", "bob"):
        (session_models_dir(tmp_path, session) / "model").mkdir(parents=True)
    assert cleanup_session_dir(tmp_path, "alice") is True
    assert cleanup_session_dir(tmp_path, "alice") is False
    assert not session_models_dir(tmp_path, "alice").exists() and session_models_dir(tmp_path, "bob").exists()


def test_stale_sessions_are_removed_without_following_links(tmp_path: Path) -> None:
    old, fresh = session_models_dir(tmp_path, "old"), session_models_dir(tmp_path, "fresh")
    for folder in (old, fresh):
        (folder / "model").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    link = tmp_path / SESSIONS_FOLDER / "link"
    link.symlink_to(outside, target_is_directory=True)
    yesterday = time.time() - 24 * 60 * 60
    for path in (old, old / "model", link):
        os.utime(path, (yesterday, yesterday), follow_symlinks=False)

    assert cleanup_stale_sessions(tmp_path) == 2
    assert not old.exists() and not link.is_symlink() and fresh.exists() and outside.exists()
    assert cleanup_stale_sessions(tmp_path / "missing") == 0
