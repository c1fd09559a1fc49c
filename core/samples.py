"""The bundled sample data, written for this project, so the app works with nothing to upload."""

from __future__ import annotations

from pathlib import Path

from core.data import Dataset, load_dataset
from core.errors import DataError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SAMPLES: dict[str, tuple[Path, ...]] = {
    "reviews-mixed": (DATA_DIR / "sample_en.csv", DATA_DIR / "sample_zh.csv"),
    "reviews-en": (DATA_DIR / "sample_en.csv",),
    "reviews-zh": (DATA_DIR / "sample_zh.csv",),
}
DEFAULT_SAMPLE = "reviews-mixed"  # holds every sample text, so its vectors are all the bundle needs


def sample_names() -> list[str]:
    return list(SAMPLES)


def load_sample(name: str = DEFAULT_SAMPLE) -> Dataset:
    """English and Chinese product, film and service reviews; "reviews-mixed" holds both languages.

    Raises:
        DataError: the name is not a bundled sample.
    """
    if name not in SAMPLES:
        raise DataError(f"There is no bundled sample called {name!r}; choose one of {', '.join(SAMPLES)}.")
    content = b"".join(_rows(path, keep_header=index == 0) for index, path in enumerate(SAMPLES[name]))
    return load_dataset(content, name=f"{name}.csv")


def _rows(path: Path, keep_header: bool) -> bytes:
    content = path.read_bytes()
    content = content if content.endswith(b"\n") else content + b"\n"
    return content if keep_header else content.split(b"\n", 1)[1]


def write_sample_vectors() -> Path:
    """Embeds every sample text as the `transfer` preset reads it and writes data/sample_vectors.npz (`make
    sample-vectors`), so the one-click sample path trains `transfer` in seconds instead of embedding first.

    Float16 halves the file (about 0.9 MB); the vectors are unit length, so the rounding moves a cosine by
    about 1e-3. Run it again whenever the sample files or the encoder change: a test checks the bundle is current.

    Raises:
        EncoderMissingError: the encoder is not installed.
    """
    import numpy as np

    from core.config import preset
    from core.encoder import BUNDLED_VECTORS, Encoding, encoder

    texts = list(dict.fromkeys(load_sample(DEFAULT_SAMPLE).texts))
    encoding = Encoding.of(preset("transfer"))
    identity = encoder().identity
    vectors = encoder().embed([encoder().truncate(text, encoding.max_tokens, encoding.truncation) for text in texts])
    # Raw bytes, not numpy's "S16", which drops a key's trailing zero bytes.
    keys = np.frombuffer(b"".join(encoding.key(text, identity) for text in texts), dtype=np.uint8).reshape(len(texts), -1)
    np.savez_compressed(BUNDLED_VECTORS, keys=keys, vectors=vectors.astype(np.float16))
    return BUNDLED_VECTORS
