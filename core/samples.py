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
DEFAULT_SAMPLE = "reviews-mixed"


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
