"""Saved models on disk: one folder per model holding `model.keras` and `metadata.json`, written atomically.

Keras is imported only inside the functions that need it, so listing models (every page load) never pays
for importing TensorFlow.
"""

from __future__ import annotations

import builtins
import json
import os
import platform
import re
import shutil
import time
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import DiskQuotaError, InvalidModelNameError, ModelNotFoundError, RegistryError
from core.evaluate import check_threshold
from core.i18n import Message
from core.limits import size_words

if TYPE_CHECKING:
    import keras

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
# The metadata key of a two-class model's decision threshold (core.evaluate.decide); absent: the likeliest class.
THRESHOLD_KEY = "threshold"
TEMP_PREFIX = ".tmp-"  # half-written saves; a leading dot keeps them apart from sanitized model names
STALE_TEMP_SECONDS = 60 * 60  # a save older than this cannot still be running
MAX_NAME_LENGTH = 64
# File systems limit a name to 255 bytes, not characters: 64 four-byte characters are already 256. Names are cut
# to this many UTF-8 bytes, leaving room for the "-2" a repeated name gets.
MAX_NAME_BYTES = 200
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10))}
_SAFE_PUNCTUATION = "-_."
_NUMBER = (int, float)
# What each metadata field the pages read must hold when present; a folder breaking this is listed as broken, so
# a damaged or crafted metadata.json ("config": null) cannot break the Models page for every session.
_METADATA_SHAPE: dict[str, type | tuple[type, ...]] = {
    "config": dict, "metrics": dict, "data": dict, "versions": dict, "classes": list, "history": list,
    "preset": (str, type(None)), "created": str, "evaluated_on": str, "epochs_run": int, "train_seconds": _NUMBER,
    "device": str, "name": str,
}
_JSON_NAMES = {dict: "an object", list: "a list", str: "text", int: "a whole number", float: "a number",
               type(None): "null"}
_NESTED_SHAPE: dict[tuple[str, str], type | tuple[type, ...]] = {
    ("config", "family"): str, ("config", "layer_sizes"): list, ("metrics", "accuracy"): _NUMBER,
    ("metrics", "macro_f1"): _NUMBER, ("data", "rows"): dict, ("data", "source"): (str, type(None)),
    ("data", "fingerprint"): (str, type(None)),
}


@dataclass(frozen=True)
class ModelInfo:
    """A model folder as listed: its name, where it is, its metadata, and why it is unusable if it is."""

    name: str
    path: Path
    metadata: dict
    broken: str | None = None  # reason the folder cannot be used, e.g. "model.keras is missing"

    @property
    def reads_encoder(self) -> bool:
        """Whether the model reads the pretrained sentence encoder's vectors (its metadata names the encoder it
        needs), which run outside TensorFlow: no SavedModel or TensorFlow Lite export can carry them."""
        return "encoder" in self.metadata


def sanitize_name(name: str) -> str:
    """Turns a user-typed name into a safe folder name, keeping letters of any script (e.g. "情感模型").

    Anything but letters, digits, "-", "_" and "." becomes "-", so path separators and ".." cannot escape the
    models folder; leading dots are dropped so a name can never be hidden or collide with temporary folders.

    Raises:
        InvalidModelNameError: Nothing usable is left, or the result is reserved on Windows (CON, COM1, ...).
    """
    text = unicodedata.normalize("NFKC", str(name).strip())
    text = "".join(char if _is_name_char(char) else "-" for char in text)
    text = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", text))
    # Trailing dots are dropped too, because Windows silently strips them from folder names.
    text = _shortened(text.lstrip(".-"), MAX_NAME_LENGTH).rstrip(".-")
    if not text:
        raise InvalidModelNameError(Message("name_no_letters", name=repr(name)))
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise InvalidModelNameError(Message("name_reserved", name=repr(name), example=f"'{text}-model'"))
    return text


class ModelRegistry:
    """The models folder: save, list, load, rename and delete models without leaving half-written ones."""

    def __init__(self, root: str | Path, *, read_only: bool = False, quota_bytes: int | None = None) -> None:
        """Opens a models folder; nothing is read or created until a method needs it.

        Args:
            root: Folder holding one sub-folder per model; created on first save.
            read_only: True for models bundled with the app, which users must not change.
            quota_bytes: Most bytes the folder may hold (a public session's PUBLIC_SESSION_DISK_BYTES); a save
                that would go over is refused. None: no quota.
        """
        self.root = Path(root)
        self.read_only = read_only
        self.quota_bytes = quota_bytes

    def save(self, model: keras.Model, metadata: dict, name: str | None = None) -> ModelInfo:
        """Saves a model under a sanitized name, adding "-2", "-3"... if the name is taken.

        Everything is written into a temporary folder that is renamed into place in one step, so a crash
        leaves either the complete model or only a `.tmp-*` folder that `list` ignores and `cleanup` removes.

        The optimizer's state is not saved (`_without_optimizer_state`): nothing resumes training from a saved
        model, and Adam's two moments would double the file.

        Raises:
            InvalidModelNameError: The name has nothing usable in it.
            DiskQuotaError: The model would take the folder over its quota; nothing is kept.
            RegistryError: The registry is read-only or the files cannot be written.
        """
        self._check_writable()
        name = sanitize_name(name if name is not None else _default_name(metadata))
        temp_dir = self.root / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            temp_dir.mkdir(parents=True)
            _without_optimizer_state(model)
            model.save(temp_dir / MODEL_FILE)
            self._check_quota(name)
            full_metadata = {**metadata, "created": datetime.now(timezone.utc).isoformat(), "versions": _versions()}
            return self._publish(temp_dir, name, full_metadata)
        except DiskQuotaError:
            raise
        except Exception as error:  # Keras and json raise many types; the user needs one message
            raise RegistryError(f"The model {name!r} could not be saved in {self.root}: {error}") from error
        finally:
            shutil.rmtree(temp_dir, ignore_errors=True)  # gone already after a successful rename

    def list(self) -> builtins.list[ModelInfo]:
        """All models, newest first; unreadable folders are listed with the reason instead of raising."""
        infos = [_read_info(path) for path in self._model_folders()]
        return sorted(infos, key=lambda info: (str(info.metadata.get("created", "")), info.name), reverse=True)

    def get(self, name: str) -> ModelInfo:
        """The model called `name`, possibly marked broken.

        Raises:
            ModelNotFoundError: No model folder has that exact name.
        """
        return _read_info(self._existing_path(name))

    def load_model(self, name: str) -> keras.Model:
        """Loads a saved model with Keras' safe mode on, so a file cannot run arbitrary code (Lambda layers).

        Raises:
            ModelNotFoundError: No model has that name.
            RegistryError: The file is missing, damaged, or needs code safe mode refuses to run.
        """
        return load_model_folder(self._existing_path(name))

    def rename(self, old: str, new: str) -> ModelInfo:
        """Renames a model folder in one atomic step and records the new name in its metadata.

        Raises:
            ModelNotFoundError: No model is called `old`.
            InvalidModelNameError: `new` has nothing usable in it.
            RegistryError: The registry is read-only or a model called `new` exists.
        """
        self._check_writable()
        source = self._existing_path(old)
        new_name = sanitize_name(new)
        target = self.root / new_name
        if target.exists() and not target.samefile(source):
            raise RegistryError(Message("model_name_taken", name=repr(new_name)))
        try:
            os.rename(source, target)
        except OSError as error:
            raise RegistryError(f"The model {old!r} could not be renamed to {new_name!r}: {error}") from error
        info = _read_info(target)
        if info.broken is None:
            _write_metadata(target, {**info.metadata, "name": new_name})
        return _read_info(target)

    def set_threshold(self, name: str, threshold: float | None) -> ModelInfo:
        """Saves a two-class model's decision threshold in its metadata (None goes back to the likeliest class), so
        Predict, batch prediction, the CLI and every export decide the same way.

        Raises:
            ModelNotFoundError: No model has that name.
            ConfigError: The model has more than two classes, or the threshold is not between 0 and 1.
            RegistryError: The registry is read-only or the model is broken.
        """
        self._check_writable()
        info = _read_info(self._existing_path(name))
        if info.broken:
            raise RegistryError(f"The model {name!r} is broken: {info.broken}")
        metadata = {key: value for key, value in info.metadata.items() if key != THRESHOLD_KEY}
        if threshold is not None:
            check_threshold(threshold, metadata.get("classes", ()))
            metadata[THRESHOLD_KEY] = float(threshold)
        _write_metadata(info.path, metadata)
        return _read_info(info.path)

    def delete(self, name: str) -> None:
        """Deletes a model folder, after checking it really is a folder directly inside the models folder.

        Raises:
            ModelNotFoundError: No model has that name.
            RegistryError: The registry is read-only.
        """
        self._check_writable()
        path = self._existing_path(name)  # outside the try: ModelNotFoundError is an OSError too
        try:
            shutil.rmtree(path)
        except OSError as error:
            raise RegistryError(f"The model {name!r} could not be deleted: {error}") from error

    def cleanup(self, *, force: bool = False) -> int:
        """Removes temporary folders left by crashed saves; returns how many were removed.

        Args:
            force: Remove every temporary folder, not only those older than an hour; only safe when no
                save can be running (e.g. at app start).

        Raises:
            RegistryError: The registry is read-only.
        """
        self._check_writable()
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - STALE_TEMP_SECONDS
        stale = [
            path for path in self.root.iterdir()
            if path.name.startswith(TEMP_PREFIX) and (force or path.stat().st_mtime < cutoff)
        ]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return len(stale)

    def _publish(self, temp_dir: Path, name: str, metadata: dict) -> ModelInfo:
        """Renames the finished temporary folder to the first free name, retrying if another save wins."""
        number = 1
        while True:
            candidate = _numbered_name(name, number)
            target = self.root / candidate
            number += 1
            if target.exists():
                continue
            _write_metadata(temp_dir, {**metadata, "name": candidate})
            try:
                os.rename(temp_dir, target)
            except OSError:
                if target.exists():  # another save took the name between the check and the rename
                    continue
                raise
            return _read_info(target)

    def _model_folders(self) -> builtins.list[Path]:
        """Real folders directly inside root, skipping hidden and temporary ones and symlinks that may point out."""
        if not self.root.is_dir():
            return []
        return [
            path for path in self.root.iterdir()
            if path.is_dir() and not path.is_symlink() and not path.name.startswith(".")
        ]

    def _existing_path(self, name: str) -> Path:
        """The folder of model `name`, found among the listed folders so no name (e.g. "../x") can leave root."""
        for path in self._model_folders():
            if path.name == name:
                return path
        raise ModelNotFoundError(Message("model_not_found", name=repr(name), folder=str(self.root)))

    def disk_bytes(self) -> int:
        """Bytes every file under the folder takes (half-written saves included)."""
        if not self.root.is_dir():
            return 0
        return sum(path.lstat().st_size for path in self.root.rglob("*") if path.is_file() and not path.is_symlink())

    def check_room(self, needed: int, what: Message) -> None:
        """Refuses to go on when `needed` more bytes would take the folder over its quota; `what` names the step
        ("This model").

        Raises:
            DiskQuotaError: says how much is used, the quota, and what to delete.
        """
        used = self.disk_bytes()
        if self.quota_bytes is not None and used + needed > self.quota_bytes:
            raise DiskQuotaError(Message("disk_quota", what=what, size=size_words(used + needed),
                                         quota=size_words(self.quota_bytes)))

    def _check_quota(self, name: str) -> None:
        """Called with the new model written into its temporary folder, which `disk_bytes` already counts."""
        self.check_room(0, Message("quota_saving_model", name=repr(name)))

    def _check_writable(self) -> None:
        """Refuses changes to the bundled models."""
        if self.read_only:
            raise RegistryError(Message("bundled_models_read_only"))


def _without_optimizer_state(model: keras.Model) -> None:
    """Compiles a trained model again with a fresh optimizer of the same settings, so that saving it writes its
    weights but not the optimizer's moments. Its weights, and so its predictions, do not change."""
    compile_config = model.get_compile_config() if model.compiled else None
    if compile_config:
        import keras

        model.compile(**keras.saving.deserialize_keras_object(compile_config))


def read_model_folder(path: str | Path) -> ModelInfo:
    """One model folder's entry, read straight from its path (as the CLI is given it), possibly marked broken.

    Raises:
        ModelNotFoundError: `path` is not a folder.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelNotFoundError(
            f"There is no saved model at {path}: give the folder that holds {MODEL_FILE} and {METADATA_FILE}."
        )
    return _read_info(path)


def load_model_folder(path: str | Path) -> keras.Model:
    """Loads the model.keras of a model folder with Keras' safe mode on, so a file cannot run arbitrary code
    (Lambda layers). Not compiled: a loaded model only predicts and exports, and its optimizer was not saved.

    Raises:
        RegistryError: The file is missing, damaged, or needs code safe mode refuses to run.
    """
    path = Path(path)
    import keras

    import core.text  # noqa: F401  (registers `standardize` with Keras; saved text models refer to it)

    try:
        return keras.saving.load_model(path / MODEL_FILE, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for a bad file; the user needs one message
        raise RegistryError(
            f"The model {path.name!r} could not be loaded: {error}. Retrain it or delete it."
        ) from error


def _is_name_char(char: str) -> bool:
    """Letters, digits and combining marks of any script (so Hindi or Thai names survive), plus - _ ."""
    return unicodedata.category(char)[0] in "LMN" or char in _SAFE_PUNCTUATION


def _default_name(metadata: dict) -> str:
    """A name such as "article-lstm-20250101-120000" from the preset used, or "model-..." without one."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{metadata.get('preset') or 'model'}-{stamp}"


def _numbered_name(name: str, number: int) -> str:
    """`name` for number 1, else `name-2`, `name-3`... shortened to fit the length limit."""
    if number == 1:
        return name
    suffix = f"-{number}"
    return _shortened(name, MAX_NAME_LENGTH - len(suffix), MAX_NAME_BYTES - len(suffix)).rstrip(".-") + suffix


def _shortened(name: str, characters: int, max_bytes: int = MAX_NAME_BYTES) -> str:
    """The first `characters` characters of `name`, fewer if they would take more than `max_bytes` in UTF-8;
    never half a character."""
    name = name[:characters]
    while len(name.encode("utf-8")) > max_bytes:
        name = name[:-1]
    return name


def _read_info(path: Path) -> ModelInfo:
    """Reads one model folder, describing what is wrong instead of raising."""
    metadata_path = path / METADATA_FILE
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ModelInfo(path.name, path, {}, broken=f"{METADATA_FILE} is missing")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return ModelInfo(path.name, path, {}, broken=f"{METADATA_FILE} is not valid JSON: {error}")
    except OSError as error:  # strerror only: the error's text holds the server's path
        return ModelInfo(path.name, path, {}, broken=f"{METADATA_FILE} cannot be read: {error.strerror}")
    problem = _metadata_problem(metadata)
    if problem:
        return ModelInfo(path.name, path, {}, broken=f"{METADATA_FILE} {problem}")
    if not (path / MODEL_FILE).is_file():
        return ModelInfo(path.name, path, metadata, broken=f"{MODEL_FILE} is missing")
    # A .keras file is a zip with its directory at the end: a cut-off copy fails this check, which reads only the tail.
    if not zipfile.is_zipfile(path / MODEL_FILE):
        return ModelInfo(path.name, path, metadata, broken=f"{MODEL_FILE} is damaged or incomplete")
    return ModelInfo(path.name, path, metadata)


def _metadata_problem(metadata: Any) -> str | None:
    """What is wrong with the shape of a model's metadata, in words, or None when every field the app reads
    holds the kind of value it expects."""
    if not isinstance(metadata, dict):
        return "does not hold a JSON object"
    for key, kind in _METADATA_SHAPE.items():
        if key in metadata and not isinstance(metadata[key], kind):
            return f"has a {key!r} that is {type(metadata[key]).__name__}, not {_kind_words(kind)}"
    for (outer, key), kind in _NESTED_SHAPE.items():
        value = metadata.get(outer, {}).get(key)
        if value is not None and not isinstance(value, kind):
            return f"has a {outer}.{key} that is {type(value).__name__}, not {_kind_words(kind)}"
    if not all(isinstance(label, str) for label in metadata.get("classes", [])):
        return "has classes that are not all text"
    if not all(isinstance(count, int) for count in metadata.get("data", {}).get("rows", {}).values()):
        return "has row counts that are not whole numbers"
    return None


def _kind_words(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_JSON_NAMES.get(each, each.__name__) for each in kinds)


def _write_metadata(folder: Path, metadata: dict) -> None:
    """Writes metadata.json via a synced temporary file and an atomic replace, so it is never half-written."""
    temp_path = folder / f"{METADATA_FILE}.tmp"
    with temp_path.open("w", encoding="utf-8") as file:
        json.dump(metadata, file, ensure_ascii=False, indent=2, default=_to_json)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp_path, folder / METADATA_FILE)


def _to_json(value: Any) -> Any:
    """Converts numpy scalars and arrays (common in metrics) to plain Python for JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} values cannot be saved in {METADATA_FILE}")


def _versions() -> dict[str, str | None]:
    """Library versions saved with each model, to explain a model that later fails to load."""
    import keras
    import numpy

    import tensorflow

    return {
        "python": platform.python_version(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }
