"""What keeps a public deployment safe: formula-safe CSV downloads, public-mode detection, per-session model folders.

Nothing here imports streamlit or TensorFlow, so pages can call it on every rerun for free.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError
from core.registry import ModelRegistry

if TYPE_CHECKING:
    import pandas as pd

# OWASP "CSV Injection": a cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
PUBLIC_MODE_VARIABLE = "STUDIO_PUBLIC_MODE"
# Hidden (leading dot) so the bundled registry at the models root never lists it as a broken model.
SESSIONS_FOLDER = ".sessions"
# A session's folder untouched this long belongs to a browser tab that is gone; Streamlit has no session-end hook.
STALE_SESSION_SECONDS = 6 * 60 * 60
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_PLAIN_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HASHED_PREFIX = "sha-"


def escape_formula(value: str) -> str:
    """Prefixes an apostrophe to a cell a spreadsheet would run as a formula, and returns other text unchanged.

    Leading spaces and line breaks do not protect a formula in every spreadsheet, so they are looked past.
    """
    if value.startswith(FORMULA_CHARACTERS) or value.lstrip().startswith(FORMULA_CHARACTERS):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV bytes with a byte-order mark (so Excel shows Chinese), every text cell escaped.

    Header names are escaped too: they come from the user's file. Numbers stay numbers.
    """
    escaped = frame.map(lambda cell: escape_formula(cell) if isinstance(cell, str) else cell)
    escaped.columns = [escape_formula(name) if isinstance(name, str) else name for name in frame.columns]
    return escaped.to_csv(index=False).encode("utf-8-sig")


def public_mode() -> bool:
    """Whether strangers share this server, so each browser session must see only its own models.

    $STUDIO_PUBLIC_MODE ("1"/"true" or "0"/"false") decides when set. Otherwise Streamlit Community Cloud is
    recognised by two undocumented but long-stable markers: it clones the repository under /mount/src and runs
    the container with HOSTNAME "streamlit".

    Raises:
        ConfigError: $STUDIO_PUBLIC_MODE has a value other than 1/true/yes/on or 0/false/no/off.
    """
    setting = os.environ.get(PUBLIC_MODE_VARIABLE, "").strip().casefold()
    if setting in _TRUE:
        return True
    if setting in _FALSE:
        return False
    if setting:
        raise ConfigError(
            f"{PUBLIC_MODE_VARIABLE} is {setting!r}: set it to 1 (strangers share the app) or 0 (only you use it)."
        )
    return _on_community_cloud()


def _on_community_cloud() -> bool:
    in_mount = Path(__file__).resolve().is_relative_to("/mount/src")
    return in_mount or os.environ.get("HOSTNAME") == "streamlit"


def session_models_dir(root: str | Path, session_id: str) -> Path:
    """The folder where one browser session saves its models: `<root>/.sessions/<id>`.

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


def registries_for_session(
    root: str | Path, session_id: str, *, public: bool | None = None
) -> tuple[ModelRegistry, ModelRegistry | None]:
    """(where this session saves, the bundled read-only models or None).

    In public mode a session writes only into its own folder and sees the models shipped in `root` read-only;
    locally the user owns `root` and writes there directly.

    Args:
        root: the models folder (core.experiment.models_dir()).
        session_id: the browser session's id.
        public: overrides `public_mode()`, for tests and the CLI.
    """
    if not (public_mode() if public is None else public):
        return ModelRegistry(root), None
    return ModelRegistry(session_models_dir(root, session_id)), ModelRegistry(root, read_only=True)


def cleanup_session_dir(root: str | Path, session_id: str) -> bool:
    """Deletes one session's models (when its browser session ends); True if there was a folder to delete."""
    return _remove_folder(session_models_dir(root, session_id))


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
