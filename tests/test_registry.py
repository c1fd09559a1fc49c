"""Tests for core.registry: round trips, atomic saves, broken folders, safe loading and name sanitation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import registry as registry_module
from core.errors import InvalidModelNameError, ModelNotFoundError, RegistryError
from core.registry import MAX_NAME_BYTES, MAX_NAME_LENGTH, ModelRegistry, load_model_folder, read_model_folder, sanitize_name
from tests.support import REPO, assert_same_model



@pytest.fixture(scope="module")
def keras():
    """Keras (and TensorFlow) imported once for the module, since the registry itself imports it lazily."""
    import keras

    return keras


@pytest.fixture(scope="module")
def tiny_model(keras):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


def _save(registry: ModelRegistry, model, name: str | None = "tiny", **metadata) -> registry_module.ModelInfo:
    return registry.save(model, {"config": {"family": "mlp"}, "labels": ["neg", "pos"], **metadata}, name)


def test_save_list_load_round_trip(registry: ModelRegistry, tiny_model) -> None:
    info = _save(registry, tiny_model, preset="default")
    assert info.name == "tiny" and info.broken is None
    assert sorted(p.name for p in info.path.iterdir()) == ["metadata.json", "model.keras"]
    assert [listed.name for listed in registry.list()] == ["tiny"]
    metadata = registry.get("tiny").metadata
    assert metadata["name"] == "tiny" and metadata["labels"] == ["neg", "pos"]
    assert metadata["created"].endswith("+00:00")
    assert set(metadata["versions"]) == {"python", "tensorflow", "keras", "numpy"}
    assert all(metadata["versions"].values())

    assert_same_model(registry.load_model("tiny"), tiny_model)


def test_taken_name_gets_numbered_suffix_and_list_is_newest_first(registry: ModelRegistry, tiny_model) -> None:
    names = [_save(registry, tiny_model).name for _ in range(3)]
    assert names == ["tiny", "tiny-2", "tiny-3"]
    assert [info.name for info in registry.list()] == ["tiny-3", "tiny-2", "tiny"]
    long_name = "x" * MAX_NAME_LENGTH
    assert _save(registry, tiny_model, long_name).name == long_name
    assert _save(registry, tiny_model, long_name).name == "x" * (MAX_NAME_LENGTH - 2) + "-2"


def test_default_name_comes_from_preset(registry: ModelRegistry, tiny_model) -> None:
    assert registry.save(tiny_model, {"preset": "article-lstm"}).name.startswith("article-lstm-20")
    assert registry.save(tiny_model, {}).name.startswith("model-20")


def test_metadata_keeps_unicode_and_numpy_values(registry: ModelRegistry, tiny_model) -> None:
    info = _save(registry, tiny_model, "情感模型", labels=["正面", "负面"], accuracy=np.float32(0.5))
    text = (info.path / "metadata.json").read_text(encoding="utf-8")
    assert "正面" in text and json.loads(text)["accuracy"] == 0.5
    assert info.name == "情感模型"


def test_failed_save_leaves_nothing(registry: ModelRegistry, tiny_model, monkeypatch) -> None:
    _save(registry, tiny_model, "existing")
    real_rename = os.rename

    def crash_on_publish(source, target):
        if Path(source).name.startswith(".tmp-"):
            raise OSError("disk full")
        real_rename(source, target)

    monkeypatch.setattr(registry_module.os, "rename", crash_on_publish)
    with pytest.raises(RegistryError, match="'broken-save' could not be saved.*disk full"):
        _save(registry, tiny_model, "broken-save")
    assert sorted(p.name for p in registry.root.iterdir()) == ["existing"]
    assert [info.name for info in registry.list()] == ["existing"]


def test_failed_model_write_leaves_nothing(registry: ModelRegistry, tiny_model, monkeypatch) -> None:
    def half_write(path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError("no space left on device")

    monkeypatch.setattr(tiny_model, "save", half_write)
    with pytest.raises(RegistryError, match="no space left"):
        _save(registry, tiny_model, "half")
    assert list(registry.root.iterdir()) == []


def test_crash_leftovers_are_ignored_then_cleaned(registry: ModelRegistry, tiny_model) -> None:
    _save(registry, tiny_model)
    stale, fresh = registry.root / ".tmp-stale", registry.root / ".tmp-fresh"
    for leftover in (stale, fresh):  # what a killed process leaves: a complete-looking but unpublished save
        leftover.mkdir()
        (leftover / "model.keras").write_bytes(b"partial")
        (leftover / "metadata.json").write_text("{}", encoding="utf-8")
    two_hours_ago = time.time() - 2 * 60 * 60
    os.utime(stale, (two_hours_ago, two_hours_ago))

    assert [info.name for info in registry.list()] == ["tiny"]
    assert registry.cleanup() == 1
    assert not stale.exists() and fresh.exists()
    assert registry.cleanup(force=True) == 1
    assert sorted(p.name for p in registry.root.iterdir()) == ["tiny"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda path: (path / "metadata.json").write_text("{not json", encoding="utf-8"),
         "metadata.json is not valid JSON: "),
        (lambda path: (path / "metadata.json").unlink(), "metadata.json is missing"),
        (lambda path: (path / "metadata.json").write_text("[1, 2]", encoding="utf-8"),
         "metadata.json does not hold a JSON object"),
        (lambda path: (path / "model.keras").unlink(), "model.keras is missing"),
    ],
)
def test_broken_folders_are_listed_with_reason(registry: ModelRegistry, tiny_model, damage, reason: str) -> None:
    good = _save(registry, tiny_model, "good")
    damage(_save(registry, tiny_model, "damaged").path)
    infos = {info.name: info for info in registry.list()}
    assert infos["good"].broken is None
    assert infos["damaged"].broken.startswith(reason)
    assert registry.get("damaged").broken == infos["damaged"].broken
    assert good.name == "good"


def test_missing_model_file_cannot_be_loaded(registry: ModelRegistry, tiny_model) -> None:
    (_save(registry, tiny_model).path / "model.keras").unlink()
    with pytest.raises(RegistryError, match="'tiny' could not be loaded"):
        registry.load_model("tiny")


def test_safe_mode_refuses_lambda_layers(registry: ModelRegistry, keras) -> None:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    _save(registry, model, "lambda")
    with pytest.raises(RegistryError, match="'lambda' could not be loaded"):
        registry.load_model("lambda")


def test_a_folder_is_read_and_loaded_by_path_alone(registry: ModelRegistry, tiny_model, keras, tmp_path: Path) -> None:
    info = _save(registry, tiny_model)
    assert read_model_folder(info.path) == registry.get("tiny")
    assert_same_model(load_model_folder(info.path), tiny_model)
    (info.path / "model.keras").unlink()
    assert read_model_folder(info.path).broken == "model.keras is missing"
    with pytest.raises(RegistryError, match="'tiny' could not be loaded"):
        load_model_folder(info.path)
    with pytest.raises(ModelNotFoundError, match="no saved model at .*nowhere"):
        read_model_folder(tmp_path / "nowhere")
    lambda_model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    with pytest.raises(RegistryError, match="'lambda' could not be loaded"):  # safe mode, as through a registry
        load_model_folder(_save(registry, lambda_model, "lambda").path)


def test_rename(registry: ModelRegistry, tiny_model) -> None:
    _save(registry, tiny_model, "old")
    _save(registry, tiny_model, "other")
    info = registry.rename("old", "  new name ")
    assert info.name == "new-name" and info.metadata["name"] == "new-name"
    assert sorted(i.name for i in registry.list()) == ["new-name", "other"]
    with pytest.raises(RegistryError, match="'other' already exists"):
        registry.rename("new-name", "other")
    with pytest.raises(ModelNotFoundError, match="'old'"):
        registry.rename("old", "x")
    with pytest.raises(InvalidModelNameError):
        registry.rename("new-name", "///")


def test_delete(registry: ModelRegistry, tiny_model) -> None:
    _save(registry, tiny_model, "gone")
    registry.delete("gone")
    assert registry.list() == []
    with pytest.raises(ModelNotFoundError, match="'gone'"):
        registry.delete("gone")


@pytest.mark.parametrize("name", ["missing", "..", ".", "../models", "", ".tmp-x"])
def test_unknown_names_are_not_found(registry: ModelRegistry, tiny_model, name: str) -> None:
    _save(registry, tiny_model)
    (registry.root / ".tmp-x").mkdir()
    for action in (registry.get, registry.load_model, registry.delete):
        with pytest.raises(ModelNotFoundError):
            action(name)
    assert registry.root.is_dir() and (registry.root / "tiny").is_dir()


def test_delete_refuses_symlink_out_of_root(registry: ModelRegistry, tiny_model, tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("data", encoding="utf-8")
    _save(registry, tiny_model)
    (registry.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ModelNotFoundError):
        registry.delete("link")
    assert (outside / "keep.txt").exists()


def test_read_only_registry(registry: ModelRegistry, tiny_model) -> None:
    _save(registry, tiny_model)
    bundled = ModelRegistry(registry.root, read_only=True)
    assert [info.name for info in bundled.list()] == ["tiny"]
    assert_same_model(bundled.load_model("tiny"), tiny_model)
    for action in (lambda: _save(bundled, tiny_model, "x"), lambda: bundled.rename("tiny", "x"),
                   lambda: bundled.delete("tiny"), bundled.cleanup):
        with pytest.raises(RegistryError, match="bundled models are read-only"):
            action()
    assert [info.name for info in bundled.list()] == ["tiny"]


def test_missing_root_lists_nothing(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "nowhere")
    assert registry.list() == [] and registry.cleanup() == 0
    with pytest.raises(ModelNotFoundError):
        registry.get("x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../x", "x"),
        ("..\\..\\x", "x"),
        ("/etc/passwd", "etc-passwd"),
        ("  my model  ", "my-model"),
        ("情感模型", "情感模型"),
        ("Ｆｕｌｌ ｗｉｄｔｈ", "Full-width"),
        ("a///b", "a-b"),
        ("a..b", "a.b"),
        ("v1.2_final", "v1.2_final"),
        ("reviews.", "reviews"),
        ("CONSOLE", "CONSOLE"),
        ("हिन्दी", "हिन्दी"),
    ],
)
def test_sanitize_name(raw: str, expected: str) -> None:
    assert sanitize_name(raw) == expected


def test_sanitize_truncates_long_names() -> None:
    assert sanitize_name("a" * 300) == "a" * MAX_NAME_LENGTH
    assert sanitize_name("a" * 63 + "/b") == "a" * 63


def test_names_of_four_byte_letters_are_cut_to_fit_a_file_name(registry: ModelRegistry, tiny_model) -> None:
    wide = "\U00020000" * MAX_NAME_LENGTH  # a CJK letter taking 4 bytes: 256 bytes, over the 255 a file name may use
    name = sanitize_name(wide)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES and name == "\U00020000" * (MAX_NAME_BYTES // 4)
    assert _save(registry, tiny_model, wide).name == name
    assert _save(registry, tiny_model, wide).name == name[:-1] + "-2"  # the suffix fits in the same bytes


@pytest.mark.parametrize("raw", ["", "   ", "..", "../..", "///", "CON", "con", "Nul", "com1", "LPT9", "aux.txt"])
def test_sanitize_refuses_unusable_names(raw: str) -> None:
    with pytest.raises(InvalidModelNameError) as raised:
        sanitize_name(raw)
    assert repr(raw) in str(raised.value)


def test_traversal_name_saves_inside_root(registry: ModelRegistry, tiny_model, tmp_path: Path) -> None:
    info = _save(registry, tiny_model, "../../x")
    assert info.name == "x" and info.path.parent == registry.root
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_listing_does_not_import_tensorflow(registry: ModelRegistry, tiny_model) -> None:
    _save(registry, tiny_model)
    code = (
        "import sys; from core.registry import ModelRegistry; "
        f"names = [i.name for i in ModelRegistry({str(registry.root)!r}).list()]; "
        "sys.exit(names != ['tiny'] or 'tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0
