"""Every bound that keeps one file, one run or one visitor from taking the server away from everyone else.

Parsing bounds hold everywhere: they stop a small crafted file from pinning a core. The resource caps (time,
epochs, model size, memory, disk, jobs per visitor) hold in public mode, where strangers share one small server;
locally the user owns the machine and only the settings' own ranges apply. SECURITY.md lists every number here.
Nothing here imports streamlit or TensorFlow.
"""

from __future__ import annotations

import time

from core.errors import FileTooLargeError

# --- parsing (always) ---------------------------------------------------------------------------------------------
# Columns a file may have: real sentiment files have a handful; the header's width also bounds every row's.
MAX_COLUMNS = 1_000
# Characters one cell may hold: a whole long review fits many times over.
MAX_CELL_CHARACTERS = 5_000_000
# Seconds reading one file may take, from decoding to choosing its columns (a 150 MB CSV takes about 40 s).
PARSE_SECONDS = 90.0
# How many records or columns pass between two looks at the clock.
_CHECK_EVERY = 4096


class Deadline:
    """A time budget for one step over user data; `check` raises once it is spent."""

    def __init__(self, seconds: float, display_name: str) -> None:
        self.seconds = seconds
        self.display_name = display_name
        self._ends_at = time.monotonic() + seconds
        self._calls = 0

    def check(self) -> None:
        """Cheap enough to call per record: only every few thousand calls reads the clock.

        Raises:
            FileTooLargeError: the budget is spent; the message gives it in seconds.
        """
        self._calls += 1
        if self._calls % _CHECK_EVERY == 0:
            self.check_now()

    def check_now(self) -> None:
        """As `check`, reading the clock every time (for steps that are each slow, such as a whole column).

        Raises:
            FileTooLargeError: the budget is spent.
        """
        if time.monotonic() > self._ends_at:
            raise FileTooLargeError(
                f"'{self.display_name}' takes longer than the {self.seconds:.0f} s limit to read: load a smaller "
                "file, for example a sample of its rows, with fewer columns."
            )
