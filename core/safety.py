"""What keeps a public deployment safe: formula-safe CSV downloads, user text shown as plain text, public-mode
detection.

Per-session model folders live with the rest of the model shelves in core.shelf.

Nothing here imports streamlit or TensorFlow, so pages can call it on every rerun for free.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

# OWASP "CSV Injection": a cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
PUBLIC_MODE_VARIABLE = "STUDIO_PUBLIC_MODE"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
# Characters that show nothing but change what a reader sees: zero-width ones make two labels look the same, and
# text-direction controls make "txt.exe" read "exe.txt".
INVISIBLE_CHARACTERS = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u061c"  # zero-width space, (non-)joiners, joiner, BOM, soft hyphen
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # direction marks and controls
)
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARACTERS}]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:])")
# Where Streamlit's Markdown finds a link, an icon or an entity: a word joiner (U+2060) between ":" or "&" and
# what follows, between a word and "@", and before the dot of "www." breaks each pattern and shows nothing.
# A colon or ampersand before a space ("file: ...") starts no pattern and is left alone.
_LIVE_MARKUP = re.compile(r"(?<=[:&])(?=\S)|(?<=\S)(?=@)|(?i:(?<=www)(?=\\?\.))")
WORD_JOINER = "\u2060"
# An absolute path of two or more folders (/mount/src/app/models/x), not part of a URL or a longer word.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])(?:/[^\s'\"/]+){2,}/?")


def markdown_literal(text: object) -> str:
    """User text (a file name, a label, a typed sentence) as Markdown that shows it exactly as written.

    Markdown characters are backslash-escaped; links (https://..., www...., e-mail addresses), icon and emoji
    shortcodes (:material/warning:) and HTML entities (&lt;) are broken with an invisible word joiner, since
    Streamlit finds them even after escaping; invisible characters are shown as their code, e.g. [U+202E].
    """
    visible = _INVISIBLE.sub(lambda match: f"[U+{ord(match.group()):04X}]", str(text))
    return _LIVE_MARKUP.sub(WORD_JOINER, _MARKDOWN_SPECIAL.sub(r"\\\1", visible))


def without_server_paths(message: str) -> str:
    """The message with every absolute path cut to its last part ("/mount/src/app/models/x" -> ".../x"): where
    the app lives on the server tells a visitor nothing and an attacker something."""
    return _ABSOLUTE_PATH.sub(lambda match: ".../" + match.group().rstrip("/").rsplit("/", 1)[-1], message)


def escape_formula(value: str) -> str:
    """Prefixes an apostrophe to a cell a spreadsheet would run as a formula, and returns other text unchanged.

    Leading spaces and line breaks do not protect a formula in every spreadsheet, so they are looked past.
    """
    if value.startswith(FORMULA_CHARACTERS) or value.lstrip().startswith(FORMULA_CHARACTERS):
        return "'" + value
    return value


def escape_cell(value: str) -> str:
    """`escape_formula` for every line of a cell: a reader that splits records on a bare CR or LF (or a
    spreadsheet that pastes the cell as rows) must not find a formula at the start of any of them. The whole
    cell is checked last, since one that starts with a CR (a formula character itself) has an empty first line."""
    lines = "".join(escape_formula(part) if index % 2 == 0 else part
                    for index, part in enumerate(_LINE_BREAK.split(value)))
    return escape_formula(lines)


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV bytes with a byte-order mark (so Excel shows Chinese), every text cell escaped.

    Header names are escaped too: they come from the user's file. Numbers stay numbers. Records end in CRLF
    (RFC 4180), which also makes the writer quote every cell holding a CR or an LF: with LF endings alone a bare
    CR went out unquoted and a reader started a new record, beginning with whatever followed it.
    """
    escaped = frame.map(lambda cell: escape_cell(cell) if isinstance(cell, str) else cell)
    escaped.columns = [escape_cell(name) if isinstance(name, str) else name for name in frame.columns]
    return escaped.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


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
