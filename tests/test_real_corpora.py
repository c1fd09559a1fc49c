"""Slow checks on the real corpora in ../shared/datasets: `default` must match a strong classic baseline."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.config import preset
from core.data import load_dataset, load_test_dataset, split_dataset
from core.evaluate import evaluate
from core.predict import Predictor
from core.training import JobStatus, TrainingJob
from tests.support import REPO, shared_dataset

pytestmark = pytest.mark.slow


def _peer_accuracy(train, test, chinese: bool) -> float:
    """scikit-learn TF-IDF + logistic regression, the one-liner a user would try instead of us."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)) if chinese else TfidfVectorizer(ngram_range=(1, 2))
    peer = make_pipeline(vectorizer, LogisticRegression(max_iter=1000)).fit(list(train.texts), list(train.labels))
    return float((peer.predict(list(test.texts)) == list(test.labels)).mean())


@pytest.mark.parametrize("corpus", ["mr", "chnsenticorp"])
def test_default_preset_is_at_least_as_accurate_as_tfidf_logistic_regression(corpus):
    folder = shared_dataset(corpus)
    dataset = load_dataset(folder / "train.csv")
    test = load_test_dataset(folder / "test.csv", classes=dataset.classes)
    config = preset("default")
    split = split_dataset(dataset, validation_fraction=config.validation_split, test_fraction=0.0, seed=config.seed)
    job = TrainingJob(config, split.train, split.validation).start()
    assert job.wait(timeout=900) == JobStatus.FINISHED, job.snapshot().error
    ours = evaluate(Predictor(job.model, job.classes), test).accuracy
    peer = _peer_accuracy(split.train, test, chinese=corpus == "chnsenticorp")
    assert ours >= peer, f"default {ours:.4f} < TF-IDF + logistic regression {peer:.4f} on {corpus}"


def test_cli_trains_on_airline_tweets_and_predicts_like_a_new_user(tmp_path):
    folder = shared_dataset("airline_tweets")
    command = [sys.executable, "-m", "core", "train", str(folder / "train.csv"), "--test-file", str(folder / "test.csv"),
               "--models-dir", str(tmp_path), "--json"]
    trained = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=True)
    result = json.loads(trained.stdout.strip().splitlines()[-1])
    assert result["test_accuracy"] > 0.75 and result["epochs_run"] >= 1
    predicted = subprocess.run(
        [sys.executable, "-m", "core", "predict", result["model_dir"], "@united lost my bag again", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )
    answer = json.loads(predicted.stdout.strip().splitlines()[-1])
    assert answer["predictions"][0]["label"] == "negative"
    assert answer["predict_seconds"] < 1.0
