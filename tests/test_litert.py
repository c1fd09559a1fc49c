"""TensorFlow Lite export: the numpy preprocessor reads texts exactly as core/text.py, and the exported folder
predicts what the saved model predicts, through the CLI too, and in a venv holding only numpy and ai-edge-litert."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from core import cli
from core.config import TrainConfig
from core.data import Dataset, load_dataset
from core.errors import ExportError
from core.litert import MAX_UNROLLED_STEPS, character_ranges, numeric_model, preprocessing_spec, write_export
from core.litert_preprocess import LiteModel, Preprocessor
from core.model import build_model
from core.registry import ModelRegistry
from core.text import tokenize
from core.training import TrainingJob
from tests.support import REPO, csv_bytes, labelled_rows, make_texts, shared_dataset, tiny_config

# HTML, quotes and apostrophes, CJK, kana and hangul, emoji and symbols, combining marks, Unicode spaces and
# control characters, digits of other scripts, a long text: where a hand-written copy of the regexes would slip.
TRICKY = [
    "Hello <br /> WORLD!! <a href='x'>link</a> <unclosed tag", "don't 'quote' it'' '' x '' '", "x'\ny 'end'\n",
    "这个手机很差😀👍，不过还行。", "한국어 テスト ひらがな 漢字", "I ❤️ it ™ © $5 @user #tag http://x.com/a?b=c",
    "Ünïcödé ÀÉ café e\u0301 ǅ ﬁ ẞ ß İ", "a\u3000b\u00a0c\x85d\ve\x1cf\tg\r\nh", "١٢٣ numbers 3.14 1,000",
    "", "   ", "great " * 300,
]
SMALL = {
    "mlp": tiny_config(vocab_size=300, learning_rate=0.05),
    "cnn": TrainConfig(family="cnn", layer_sizes=[8], vocab_size=200, embedding_dim=8, epochs=2, batch_size=16),
    "lstm": TrainConfig(family="lstm", layer_sizes=[4], bidirectional=True, vocab_size=200, embedding_dim=8,
                        epochs=1, batch_size=16, sequence_length=12),
}


@pytest.fixture(scope="module")
def characters() -> dict:
    return character_ranges()


def _preprocessor(model, characters: dict, classes=("negative", "positive")) -> Preprocessor:
    spec = preprocessing_spec(model, classes)
    assert spec["characters"] == characters
    return Preprocessor(spec)


def _vectorized(model, texts: list[str]) -> np.ndarray:
    """What the model's own TextVectorization layer makes of the texts: ids, or counts for the mlp."""
    output = model.get_layer("vectorizer")(np.array(texts, dtype=object)[:, None])
    return output.numpy() if hasattr(output, "numpy") else np.asarray(output)


def _saved(tmp_path: Path, family: str) -> Path:
    texts, labels = make_texts(64)
    job = TrainingJob(SMALL[family], Dataset(tuple(texts), tuple(labels))).start()
    job.wait(timeout=120)
    assert job.model is not None, job.snapshot().error
    return ModelRegistry(tmp_path / "models").save(job.model, {"classes": list(job.classes)}, name=family).path


def test_tricky_texts_give_the_tokens_and_ids_of_core_text(characters) -> None:
    texts, _ = make_texts(32)
    sequence = build_model(SMALL["lstm"].replace(sequence_length=40), texts + TRICKY, ["negative", "positive"])
    preprocessor = _preprocessor(sequence, characters)
    assert [preprocessor.tokens(text) for text in TRICKY] == tokenize(TRICKY)
    np.testing.assert_array_equal(preprocessor.token_ids(TRICKY), _vectorized(sequence, TRICKY))


def test_tf_idf_rows_equal_the_models_own(characters) -> None:
    import tensorflow as tf

    texts, _ = make_texts(32)
    for normalize in (True, False):
        config = SMALL["mlp"].replace(ngrams=2, normalize_tf_idf=normalize)
        model = build_model(config, texts + TRICKY, ["negative", "positive"])
        counts = model.get_layer("vectorizer")(tf.constant(TRICKY)[:, None])
        expected = tf.sparse.to_dense(model.get_layer("tf_idf")(counts)).numpy()
        np.testing.assert_allclose(_preprocessor(model, characters).tf_idf(TRICKY), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["mr", "chnsenticorp", "airline_tweets", "online_shopping"])
def test_every_text_of_the_shared_corpora_gets_the_same_ids(corpus: str, characters) -> None:
    folder = shared_dataset(corpus)
    texts = list(load_dataset(folder / "train.csv").texts) + list(load_dataset(folder / "test.csv").texts)
    model = build_model(SMALL["lstm"].replace(vocab_size=20_000, sequence_length=400), texts, ["a", "b"])
    preprocessor = _preprocessor(model, characters, ("a", "b"))
    mismatched = [text for text, tokens in zip(texts, tokenize(texts)) if preprocessor.tokens(text) != tokens]
    assert not mismatched, f"{len(mismatched)} texts tokenized differently, e.g. {mismatched[:3]}"
    np.testing.assert_array_equal(preprocessor.token_ids(texts), _vectorized(model, texts))


@pytest.mark.parametrize("family", list(SMALL))
def test_export_predicts_like_the_saved_model_and_int8_agrees(family: str, tmp_path) -> None:
    from core.predict import Predictor

    model_dir = _saved(tmp_path, family)
    texts = make_texts(40, seed=1)[0] + TRICKY
    expected = Predictor.load(model_dir).predict_proba(texts)
    exported = LiteModel(write_export(model_dir, tmp_path / "float"))
    np.testing.assert_allclose(exported.predict_proba(texts), expected, atol=1e-5)
    assert exported.classes == ("negative", "positive")
    quantized = LiteModel(write_export(model_dir, tmp_path / "int8", quantize="int8"))
    agreement = (quantized.predict_proba(texts).argmax(1) == expected.argmax(1)).mean()
    assert agreement >= 0.9, agreement


def test_recurrent_models_too_long_to_unroll_are_refused_before_converting() -> None:
    texts, _ = make_texts(16)
    model = build_model(SMALL["lstm"].replace(sequence_length=MAX_UNROLLED_STEPS + 1), texts, ["a", "b"])
    with pytest.raises(ExportError, match=f"at most {MAX_UNROLLED_STEPS}.*SavedModel"):
        numeric_model(model)


def test_cli_exports_int8_and_evaluates_the_folder_as_it_evaluates_the_model(tmp_path, capsys) -> None:
    model_dir = _saved(tmp_path, "mlp")
    rows = labelled_rows(30, seed=2)
    data = tmp_path / "test.csv"
    data.write_bytes(csv_bytes(rows))
    destination = tmp_path / "lite"
    assert cli.main(["export", str(model_dir), str(destination), "--format", "tflite", "--quantize", "int8"]) == 0
    assert {"model.tflite", "preprocessing.json", "litert_preprocess.py", "example.py", "README.md"} <= {
        path.name for path in destination.iterdir()}
    capsys.readouterr()
    scores = []
    for folder in (model_dir, destination):
        assert cli.main(["evaluate", str(folder), str(data), "--json"]) == 0
        scores.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert scores[1]["accuracy"] == pytest.approx(scores[0]["accuracy"], abs=0.05)
    assert scores[1]["confusion"] and sum(map(sum, scores[1]["confusion"])) == len(rows)


def test_cli_refuses_bad_export_requests_in_one_line(tmp_path, capsys) -> None:
    model_dir = _saved(tmp_path, "mlp")
    (tmp_path / "taken").mkdir()
    assert cli.main(["export", str(model_dir), str(tmp_path / "taken"), "--format", "tflite"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["export", str(model_dir), str(tmp_path / "new"), "--quantize", "int8"]) == 2
    assert "--quantize int8 needs --format tflite" in capsys.readouterr().err


def test_example_runs_in_a_venv_with_only_numpy_and_ai_edge_litert(tmp_path) -> None:
    """The folder's example.py, run by a Python that has no TensorFlow and no project code."""
    folder = write_export(_saved(tmp_path, "mlp"), tmp_path / "export")
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    pins = [line.strip() for line in (REPO / "requirements-dev.txt").read_text().splitlines()
            + (REPO / "requirements.txt").read_text().splitlines() if line.startswith(("ai-edge-litert==", "numpy=="))]
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", *pins], capture_output=True, text=True,
                               timeout=300, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if installed.returncode != 0:
        pytest.skip(f"pip could not install {' '.join(pins)} (no registry or cache here): {installed.stderr[-300:]}")
    missing = subprocess.run([str(python), "-c", "import tensorflow"], capture_output=True, timeout=60)
    assert missing.returncode != 0, "the clean venv must not have TensorFlow"
    ran = subprocess.run([str(python), str(folder / "example.py"), "love it, great", "awful, I hate it"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, check=True)
    lines = ran.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.split("\t")[0] in ("negative", "positive") for line in lines), ran.stdout
    expected = LiteModel(folder).predict(["love it, great", "awful, I hate it"])
    assert [line.split("\t")[0] for line in lines] == [label for label, _ in expected]
