"""What our machinery costs: TrainingJob against a bare `model.fit`, and our vocabulary against scikit-learn's.

(a) The same model, data, epochs and seed trained by a bare script (`build_model` + `model.fit` on a
tf.data pipeline, verbose=0) and through `TrainingJob` (thread, queue, recorder callback, best weights),
alternating so both see the same background load. (b) `core.text.build_vocabulary` (1-2-grams) against
`TfidfVectorizer(ngram_range=(1, 2)).fit` and, for context, Keras `TextVectorization.adapt`.

    .venv/bin/python bench/overhead.py                      # airline tweets, default preset, 5 repeats
    .venv/bin/python bench/overhead.py --presets default article-lstm --epochs 2 --repeats 3
    .venv/bin/python bench/overhead.py --quick              # 2,000 rows, 1 epoch, 1 repeat
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from _common import (
    CORPORA,
    base_parser,
    command_line,
    load_corpus,
    median,
    ratio,
    report,
    require_datasets,
    split_for_training,
    train_ours,
)


def bare_fit(config: Any, split: Any) -> None:
    """The baseline: what a user would write by hand, with no callbacks and no thread."""
    import keras

    from core.model import build_model

    keras.utils.set_random_seed(config.seed)
    classes = split.train.classes
    model = build_model(config, split.train.texts, classes)
    model.fit(
        _tf_dataset(split.train, classes, config, shuffle=True),
        validation_data=_tf_dataset(split.validation, classes, config),
        epochs=config.epochs,
        verbose=0,
    )


def _tf_dataset(dataset: Any, classes: tuple[str, ...], config: Any, shuffle: bool = False) -> Any:
    import numpy as np
    import tensorflow as tf

    index = {label: position for position, label in enumerate(classes)}
    targets = np.eye(len(classes), dtype=np.float32)[[index[label] for label in dataset.labels]]
    data = tf.data.Dataset.from_tensor_slices((tf.constant(list(dataset.texts))[:, None], targets))
    if shuffle:
        data = data.shuffle(len(dataset), seed=config.seed)
    return data.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def alternate(candidates: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Wall seconds of each candidate, run in turn `repeats` times so drifts in machine load hit all alike."""
    timings: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, function in candidates.items():
            timings[name].append(timed(function))
    return timings


def training_overhead(preset_name: str, corpus: Any, epochs: int, repeats: int) -> dict[str, Any]:
    from core.config import preset

    config = preset(preset_name).replace(epochs=epochs, early_stopping=False)
    split = split_for_training(corpus.train, config)
    warmup = split_for_training(corpus.train.subset(range(200)), config)
    alternate({"bare": lambda: bare_fit(config.replace(epochs=1), warmup),
               "job": lambda: train_ours(config.replace(epochs=1), warmup)}, 1)
    timings = alternate({"bare": lambda: bare_fit(config, split), "job": lambda: train_ours(config, split)}, repeats)
    bare, job = median(timings["bare"]), median(timings["job"])
    # Paired ratios and best runs are steadier than a ratio of medians when the machine's load drifts.
    paired = [ratio(job_run, bare_run) for bare_run, job_run in zip(timings["bare"], timings["job"])]
    return {
        "preset": preset_name, "corpus": corpus.name, "train rows": len(split.train), "epochs": epochs,
        "repeats": repeats, "bare fit median s": bare, "TrainingJob median s": job,
        "job × bare": ratio(job, bare), "median paired ratio": median(paired),
        "best-run ratio": ratio(min(timings["job"]), min(timings["bare"])), "target": "≤ 1.05",
        "bare runs s": " / ".join(f"{value:.2f}" for value in timings["bare"]),
        "job runs s": " / ".join(f"{value:.2f}" for value in timings["job"]),
    }


def vocabulary_overhead(corpus: Any, repeats: int, max_tokens: int) -> list[dict[str, Any]]:
    from keras import layers
    from sklearn.feature_extraction.text import TfidfVectorizer

    from core.text import build_vocabulary, standardize

    texts = list(corpus.train.texts)
    candidates = {
        "core.text.build_vocabulary(ngrams=2)": lambda sample: build_vocabulary(sample, max_tokens=max_tokens, ngrams=2),
        "sklearn TfidfVectorizer((1,2)).fit": lambda sample: TfidfVectorizer(ngram_range=(1, 2), max_features=max_tokens).fit(sample),
        "keras TextVectorization(ngrams=2, tf_idf).adapt": lambda sample: layers.TextVectorization(
            max_tokens=max_tokens, ngrams=2, output_mode="tf_idf", standardize=standardize).adapt(sample),
    }
    alternate({name: lambda function=function: function(texts[:50]) for name, function in candidates.items()}, 1)
    timings = alternate({name: lambda function=function: function(texts) for name, function in candidates.items()}, repeats)
    sklearn_seconds = median(timings["sklearn TfidfVectorizer((1,2)).fit"])
    return [
        {"vocabulary builder": name, "texts": len(texts), "repeats": repeats, "median s": median(values),
         "× sklearn": ratio(median(values), sklearn_seconds), "texts/s": len(texts) / median(values)}
        for name, values in timings.items()
    ]


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=CORPORA, default="airline_tweets")
    parser.add_argument("--presets", nargs="*", default=["default"],
                        help="presets whose training overhead to measure; none (a bare --presets) times only the vocabulary")
    parser.add_argument("--epochs", type=int, default=None, help="fixed epochs per run (default 3; quick 1)")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each side (default 5; quick 1)")
    arguments = parser.parse_args()
    require_datasets()
    from core.config import preset

    quick = arguments.quick
    corpus = load_corpus(arguments.corpus, train_rows=2_000 if quick else None)
    epochs = arguments.epochs or (1 if quick else 3)
    repeats = arguments.repeats or (1 if quick else 5)
    training_rows = [training_overhead(name, corpus, epochs, repeats) for name in arguments.presets]
    vocabulary_rows = vocabulary_overhead(corpus, 3 if quick else 7, preset("default").vocab_size - 1)
    report(
        "Overhead of TrainingJob and of our vocabulary builder",
        command_line(),
        {"TrainingJob vs bare model.fit": training_rows, "vocabulary (1-2-grams)": vocabulary_rows},
        arguments.json,
    )


if __name__ == "__main__":
    main()
