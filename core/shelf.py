"""The saved models one browser session sees: its own shelf and, in public mode, the models bundled with the app.

Locally the models folder is the one shelf and the user owns it. In public mode strangers share the server, so
each session saves into its own folder, `<models>/.sessions/<id>`, and sees the bundled models read-only; a
session's folder is deleted when the session ends, or at a later start when it ended without a goodbye.
Nothing here imports streamlit or TensorFlow (predictors are loaded on demand), so pages list models for free.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core import limits
from core.errors import ConfigError, ModelNotFoundError, RegistryError
from core.evaluate import Evaluation, evaluate
from core.i18n import Listing, Message
from core.registry import ModelInfo, ModelRegistry

if TYPE_CHECKING:
    from core.data import Dataset
    from core.predict import Predictor

# Hidden (leading dot) so the bundled registry at the models root never lists it as a broken model.
SESSIONS_FOLDER = ".sessions"
# A session's folder untouched this long belongs to a browser tab that is gone; Streamlit has no session-end hook.
STALE_SESSION_SECONDS = 6 * 60 * 60
_PLAIN_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HASHED_PREFIX = "sha-"


class ModelShelf:
    """Where one session finds, saves and changes models, and the bundled ones it may only use."""

    def __init__(self, root: str | Path, session_id: str, *, public: bool) -> None:
        """Opens the shelves; nothing is read or created until a method needs it.

        Args:
            root: The models folder (core.experiment.models_dir()).
            session_id: The browser session's id; names its own folder in public mode.
            public: Whether strangers share the app (core.safety.public_mode()).

        Raises:
            ConfigError: public mode and an empty session id.
        """
        self.root = Path(root)
        self.public = public
        # Where this session saves, renames and deletes; the bundled models are None locally (they are in `own`).
        # In public mode its folder has a disk quota, so one visitor cannot fill the server's disk.
        self.own = ModelRegistry(session_models_dir(root, session_id), quota_bytes=limits.PUBLIC_SESSION_DISK_BYTES) \
            if public else ModelRegistry(root)
        self.bundled = ModelRegistry(root, read_only=True) if public else None

    def models(self) -> list[ModelInfo]:
        """This session's models, newest first, then the bundled ones it does not shadow; broken ones are
        included with their reason."""
        infos = self.own.list()
        names = {info.name for info in infos}
        return infos + [info for info in (self.bundled.list() if self.bundled else []) if info.name not in names]

    def bundled_names(self) -> frozenset[str]:
        """Names of the models `models()` lists that ship with the app and cannot be changed (public mode)."""
        if self.bundled is None:
            return frozenset()
        return frozenset(info.name for info in self.bundled.list()) - {info.name for info in self.own.list()}

    def is_bundled(self, name: str) -> bool:
        """True for a model shipped with the app in public mode: it can be used and downloaded, not changed."""
        return self.bundled is not None and not _has_model(self.own, name) and _has_model(self.bundled, name)

    def find(self, name: str) -> ModelInfo:
        """The model `name` among this session's models, else among the bundled ones; possibly broken.

        Raises:
            ModelNotFoundError: neither has it.
        """
        if self.bundled is not None and self.is_bundled(name):
            return self.bundled.get(name)
        return self.own.get(name)

    def writable(self, name: str) -> ModelRegistry:
        """The registry that may change model `name`.

        Raises:
            RegistryError: `name` is a bundled model.
        """
        if self.is_bundled(name):
            raise RegistryError(Message("bundled_model_read_only", name=repr(name)))
        return self.own

    def usable(self, name: str, use: str = "used") -> ModelInfo:
        """The saved model `name`, unless it is broken.

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken; the message says why it cannot be `use`d ("used", "exported").
        """
        info = self.find(name)
        if info.broken:
            raise RegistryError(f"The model {name!r} cannot be {use}: {info.broken}. Delete it or retrain it.")
        return info

    def load_predictor(self, name: str, use: str = "used") -> Predictor:
        """A predictor for the saved model `name` (loading imports TensorFlow, so only here).

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken or cannot be loaded.
        """
        from core.predict import Predictor

        return Predictor.load(self.usable(name, use).path)

    def comparable(self, classes: Sequence[str], besides: str) -> list[str]:
        """Names of the models that can be scored on a file of `classes`: usable, predicting exactly those
        classes, and not the model `besides` (the one they are compared with)."""
        return [info.name for info in self.models()
                if not info.broken and info.name != besides and info.metadata.get("classes") == list(classes)]

    def score(self, names: Sequence[str], dataset: Dataset, classes: Sequence[str]) -> list[tuple[str, Evaluation]]:
        """The models `names` evaluated on the same labelled rows, in that order; each must predict exactly
        `classes`, the classes the rows were checked against (a file may lack some of them).

        Models are loaded one at a time and let go once scored, so scoring several costs the memory of one.

        Raises:
            ModelNotFoundError: no model has one of the names.
            RegistryError: a model is broken, cannot be loaded, or knows other classes than the rows'.
        """
        scores = []
        for name in names:
            predictor = self.load_predictor(name)
            if predictor.classes != tuple(classes):
                raise RegistryError(Message("model_other_classes", name=repr(name),
                                            classes=Listing(predictor.classes), expected=Listing(tuple(classes))))
            scores.append((name, evaluate(predictor, dataset)))
        return scores

    def remove_session_folder(self) -> bool:
        """Deletes this session's own models when the session ends (public mode only; locally the user keeps
        them). True if there was a folder to delete."""
        return self.public and _remove_folder(self.own.root)


def session_models_dir(root: str | Path, session_id: str) -> Path:
    """The folder where one browser session saves its models in public mode: `<root>/.sessions/<id>`.

    Streamlit session ids are UUIDs and are used as they are; anything else (slashes, dots, 1,000 characters)
    is replaced by its hash, so no id can leave the sessions folder and two ids never share one.

    Raises:
        ConfigError: the session id is empty.
    """
    if not session_id:
        raise ConfigError("The session id is empty: pass the browser session's id.")
    plain = _PLAIN_SESSION_ID.fullmatch(session_id) and not session_id.startswith(_HASHED_PREFIX)
    folder = session_id if plain else _HASHED_PREFIX + hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:32]
    return Path(root) / SESSIONS_FOLDER / folder


def cleanup_stale_sessions(root: str | Path, max_age_seconds: float = STALE_SESSION_SECONDS) -> int:
    """Deletes session folders nothing was written to for `max_age_seconds`; returns how many went.

    Tabs closed without a goodbye and server restarts leave folders behind, so the app calls this at start.
    """
    sessions = Path(root) / SESSIONS_FOLDER
    if not sessions.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    stale = [folder for folder in sessions.iterdir() if _last_write(folder) < cutoff]
    return sum(_remove_folder(folder) for folder in stale)


def cleanup_at_start(root: str | Path, *, public: bool) -> int:
    """What a server process does once, at start: deletes stale session folders and half-written saves
    (`.tmp-*` folders a crash left); returns how many folders went.

    Locally every half-written save goes: this process has just started, so none of its sessions can be saving.
    In public mode the models folder may be shared with other server processes (a restart overlapping the old
    one), so only saves older than an hour go (`ModelRegistry.cleanup` without force), there and in the
    sessions that are left.
    """
    removed = cleanup_stale_sessions(root)
    registries = [ModelRegistry(root)]
    sessions = Path(root) / SESSIONS_FOLDER
    if public and sessions.is_dir():
        registries += [ModelRegistry(folder) for folder in sessions.iterdir()
                       if folder.is_dir() and not folder.is_symlink()]
    return removed + sum(registry.cleanup(force=not public) for registry in registries)


def _has_model(registry: ModelRegistry, name: str) -> bool:
    try:
        registry.get(name)
    except ModelNotFoundError:
        return False
    return True


def _last_write(folder: Path) -> float:
    """The newest modification time of the folder and of what is directly inside it (each model folder)."""
    try:
        inside = list(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []
        return max(path.lstat().st_mtime for path in [folder, *inside])
    except FileNotFoundError:  # deleted meanwhile by another session's cleanup
        return time.time()


def _remove_folder(folder: Path) -> bool:
    """Removes a real folder, or just the link or file in its place, never following a link out of root."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink(missing_ok=True)
        return True
    if not folder.is_dir():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
