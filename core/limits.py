"""Every bound that keeps one file, one run or one visitor from taking the server away from everyone else.

Parsing bounds hold everywhere: they stop a small crafted file from pinning a core. The resource caps (time,
epochs, model size, memory, disk, jobs per visitor) hold in public mode, where strangers share one small server;
locally the user owns the machine and only the settings' own ranges apply. SECURITY.md lists every number here.
Nothing here imports streamlit or TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import FileTooLargeError, LimitError
from core.i18n import Message

if TYPE_CHECKING:
    from core.config import TrainConfig

# --- parsing (always) ---------------------------------------------------------------------------------------------
# Columns a file may have: real sentiment files have a handful; the header's width also bounds every row's.
MAX_COLUMNS = 1_000
# Characters one cell may hold: a whole long review fits many times over.
MAX_CELL_CHARACTERS = 5_000_000
# Seconds reading one file may take, from decoding to choosing its columns (a 150 MB CSV takes about 40 s).
PARSE_SECONDS = 90.0
# How many records or columns pass between two looks at the clock.
_CHECK_EVERY = 4096
# Bytes of memory reading a file takes at its peak, per byte of file: measured 15.6 on a 21 MB CSV of 250,000
# short reviews (bench/abuse.py), and 15 for the 150 MB file of issue 16 (3.0 GB peak over a 0.74 GB server).
PARSE_BYTES_PER_FILE_BYTE = 16

# --- uploads --------------------------------------------------------------------------------------------------------
# Largest file read locally, in bytes: the user's own machine; server.maxUploadSize says the same in megabytes.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
# Largest file read in public mode: 20 MB (about 240,000 reviews) peaks near 320 MB while read, so two visitors
# uploading at once and two runs training still fit a 2.7 GB Community Cloud machine beside the app's ~750 MB.
PUBLIC_MAX_UPLOAD_BYTES = 20 * 1024 * 1024


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
            raise FileTooLargeError(Message("data_too_slow", file=self.display_name, seconds=self.seconds))


# --- public mode: one training run ----------------------------------------------------------------------------------
# Wall-clock seconds one run may train: the presets finish the bundled samples in under a minute and a 20 MB upload
# in under ten; a run still going after 15 minutes stops itself and keeps its best epoch, so a slot frees within it.
PUBLIC_TRAIN_SECONDS = 15 * 60
# Epochs one run may ask for: the article presets' 100 (early stopping usually ends them far sooner).
PUBLIC_MAX_EPOCHS = 100
# Units (or filters) one layer may have: twice the widest preset layer (transfer's 256).
PUBLIC_MAX_LAYER_UNITS = 512
# Vocabulary one run may keep: twice the default preset's 50,000; rarer words add parameters, not accuracy.
PUBLIC_MAX_VOCABULARY = 100_000
# Estimated weights one model may have: 20 million is 80 MB on disk and about 320 MB while training (below), so two
# runs fit beside the app's ~750 MB on a 2.7 GB Community Cloud machine. The default preset has 3.2 million.
PUBLIC_MAX_PARAMETERS = 20_000_000
# Bytes each weight costs while training: the float32 weight, its gradient and Adam's two moments.
BYTES_PER_PARAMETER = 16
# Bytes each weight takes in model.keras, saved without the optimizer's state.
BYTES_PER_SAVED_PARAMETER = 4
# Memory one run may take in public mode: the 320 MB of the largest model allowed, plus room for its batches.
PUBLIC_RUN_MEMORY_BYTES = 400 * 1024 * 1024
# Tokens per text assumed for a sequence model's batches when its length is "auto" (the 95th percentile of the
# training texts, known only once they are read): the four bundled corpora's 95th percentiles are all under 300.
AUTO_SEQUENCE_LENGTH_GUESS = 400
# Disk one session's saved models may take in public mode: 200 MB holds two of the largest models allowed, or
# fifteen default ones; the folder goes when the session ends.
PUBLIC_SESSION_DISK_BYTES = 200 * 1024 * 1024

# --- public mode: visitors --------------------------------------------------------------------------------------------
# Training slots one visitor (one address, whatever number of tabs) may hold at once: with the two slots of a
# Community Cloud machine, one visitor can never keep a second visitor waiting.
PUBLIC_SLOTS_PER_VISITOR = 1
# Runs one visitor may have queued or training at once; a further tab's Train is refused with a message, so one
# visitor cannot fill the line ahead of everyone else.
PUBLIC_JOBS_PER_VISITOR = 2


def max_upload_bytes(public: bool) -> int:
    """The largest file read: smaller in public mode, where strangers share one small machine's memory."""
    return PUBLIC_MAX_UPLOAD_BYTES if public else MAX_UPLOAD_BYTES


def available_memory() -> int | None:
    """Bytes this process can still take: the least of the machine's available memory and what its container's
    cgroup (Community Cloud, Docker) has left; None where neither can be read (not Linux)."""
    known = [free for free in (_meminfo_available(), _cgroup_left()) if free is not None]
    return min(known) if known else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_left() -> int | None:
    """The cgroup's limit less its usage (v2, then v1); None when unlimited or absent."""
    for limit_file, usage_file in (("memory.max", "memory.current"), ("memory/memory.limit_in_bytes",
                                                                       "memory/memory.usage_in_bytes")):
        try:
            limit = Path("/sys/fs/cgroup", limit_file).read_text().strip()
            usage = int(Path("/sys/fs/cgroup", usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # "max", or v1's huge number, means unlimited
            return max(int(limit) - usage, 0)
    return None


def check_parse_memory(size: int, display_name: str) -> None:
    """Refuses, before reading, a file whose parsing would not fit in the memory left (PARSE_BYTES_PER_FILE_BYTE).

    Raises:
        FileTooLargeError: the estimate is over the memory available; the message gives both.
    """
    needed, available = size * PARSE_BYTES_PER_FILE_BYTE, available_memory()
    if available is not None and needed > available:
        raise FileTooLargeError(Message("data_too_large_for_memory", file=display_name, size=size_words(size),
                                        needed=size_words(needed), available=size_words(available)))


def size_words(n_bytes: float) -> str:
    """A size as people read it: 512 bytes, 20.0 MB, 2.7 GB (1 MB = 1024² bytes, as the upload limit)."""
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{int(n_bytes):,} bytes"


def estimate_parameters(config: TrainConfig, classes: int) -> int:
    """The weights a model built from `config` would have, from its settings alone, before any text is read.

    The vocabulary is taken as full (`vocab_size`), so the estimate is an upper bound for the vocabulary's share;
    layer by layer it counts as Keras does (Dense, Embedding, LSTM, GRU with reset_after, Conv1D of width 5).
    """
    from core.config import SEQUENCE_FAMILIES

    if config.family in SEQUENCE_FAMILIES:
        width, total = config.embedding_dim, config.vocab_size * config.embedding_dim
        for units in config.layer_sizes:
            layer, width = _sequence_layer(config, width, units)
            total += layer
        return total + (width + 1) * classes
    # The dense family: one head per input it reads (TF-IDF, encoder vectors), as core.model builds them.
    total = 0
    if config.uses_tf_idf:  # one inverse document frequency per token, then a head over the TF-IDF row
        total += config.vocab_size + _dense_head(config, config.vocab_size, classes)
    if config.uses_encoder:
        from core.encoder import DIMENSION

        total += 2 * DIMENSION + 1 + _dense_head(config, DIMENSION, classes)  # after a mean, variance and count
    return total


def _dense_head(config: TrainConfig, width: int, classes: int) -> int:
    """The weights of `config.layer_sizes` dense layers over inputs `width` wide, and the softmax after them."""
    total = 0
    for units in config.layer_sizes:
        total, width = total + (width + 1) * units, units
    return total + (width + 1) * classes


def _sequence_layer(config: TrainConfig, width: int, units: int) -> tuple[int, int]:
    """One recurrent or convolution layer's weights over inputs `width` wide, and the width it hands on."""
    if config.family == "cnn":
        return 5 * width * units + units, units
    gates = 4 if config.family == "lstm" else 3
    weights = gates * units * (width + units + (1 if config.family == "lstm" else 2))
    directions = 2 if config.bidirectional else 1
    return directions * weights, directions * units


def estimate_training_bytes(config: TrainConfig, classes: int) -> int:
    """Memory a run of `config` takes: every weight with its gradient and Adam's moments, plus one batch's layer
    outputs kept for the backward pass (for sequence models, every token's)."""
    sequence = config.family != "mlp"
    tokens = (config.sequence_length or AUTO_SEQUENCE_LENGTH_GUESS) if sequence else 1
    per_token = (config.embedding_dim if sequence else 0) + sum(config.layer_sizes) * 4
    batch = 2 * 4 * config.batch_size * tokens * per_token  # float32 outputs and their gradients
    return estimate_parameters(config, classes) * BYTES_PER_PARAMETER + batch


def check_training(config: TrainConfig, classes: int, public: bool) -> None:
    """Refuses, before anything is built, a run that would take more than its share: in public mode over the
    epoch, layer, vocabulary or parameter caps; anywhere over the memory this server has left.

    Raises:
        LimitError: names the setting (or the estimate), its value and the limit.
    """
    if public:
        _check_public_caps(config, classes)
    needed = estimate_training_bytes(config, classes)
    budgets = [(PUBLIC_RUN_MEMORY_BYTES, "limit_memory_per_run")] if public else []
    budgets.append((available_memory(), "limit_memory_free"))
    for budget, where_key in budgets:
        if budget is not None and needed > budget:
            raise LimitError(Message("limit_run_memory", needed=size_words(needed), budget=size_words(budget),
                                     where=Message(where_key)))


def _check_public_caps(config: TrainConfig, classes: int) -> None:
    caps = (("epochs", config.epochs, PUBLIC_MAX_EPOCHS), ("layer_sizes", max(config.layer_sizes),
            PUBLIC_MAX_LAYER_UNITS), ("vocab_size", config.vocab_size, PUBLIC_MAX_VOCABULARY))
    for name, value, cap in caps:
        if value > cap:
            raise LimitError(Message("limit_setting", name=name, value=value, cap=cap))
    parameters = estimate_parameters(config, classes)
    if parameters > PUBLIC_MAX_PARAMETERS:
        raise LimitError(Message("limit_parameters", parameters=parameters, cap=PUBLIC_MAX_PARAMETERS))


def visitor_of(ip_address: str | None, forwarded_for: str | None = None) -> str | None:
    """Who a browser session belongs to, for the fair share of training slots: one address, however many tabs.

    Behind a proxy (Community Cloud) every connection comes from the proxy, so the address is the last entry of
    X-Forwarded-For: the one the proxy itself appended, which a client cannot forge (entries a client sends come
    before it). Without the header, the connection's own address; None when neither is known (localhost).
    """
    forwarded = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
    return forwarded[-1] if forwarded else ip_address or None


def duration_words(seconds: float) -> str:
    """A limit in time as people say it: 15 minutes, 90 seconds."""
    return f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds"
