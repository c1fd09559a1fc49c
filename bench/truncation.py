"""How much of each text the sentence encoder should read: accuracy against embedding time per truncation.

The `transfer` preset embeds every text once before training, and long reviews make that the slow step (about
9 texts/s for 130-character hotel reviews read whole). Each row embeds the same rows into an empty cache with one
(encoder_max_tokens, encoder_truncation) pair and scores a logistic regression on the vectors, a fast stand-in
for the Keras head that ranks truncations the same way. "head_tail" keeps the first and last tokens, where
reviews put their verdict.

    .venv/bin/python bench/truncation.py                       # ChnSentiCorp, 1,500 / 500 rows
    .venv/bin/python bench/truncation.py --corpus mr --train-rows 2000 --test-rows 1000
    .venv/bin/python bench/truncation.py --quick               # 60 / 40 rows, two settings
"""

from __future__ import annotations

import os
import tempfile
import time

from _common import CORPORA, base_parser, command_line, load_corpus, report, require_datasets

SETTINGS = ((32, "head"), (64, "head"), (64, "head_tail"), (128, "head_tail"), (512, "head"))
QUICK_SETTINGS = ((32, "head"), (64, "head_tail"))


def measure(corpus: object, max_tokens: int, truncation: str) -> dict[str, object]:
    """One truncation: seconds per text to embed train and test into an empty cache, and the accuracy."""
    from sklearn.linear_model import LogisticRegression

    from core.encoder import Encoding

    encoding = Encoding(max_tokens, truncation)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["STUDIO_CACHE_DIR"] = cache  # empty: every text is embedded, as on a first run
        started = time.perf_counter()
        train = encoding.embed(corpus.train.texts)
        test = encoding.embed(corpus.test.texts)
        seconds = time.perf_counter() - started
    classifier = LogisticRegression(C=1.0, max_iter=2000).fit(train, corpus.train.labels)
    accuracy = classifier.score(test, corpus.test.labels)
    texts = len(corpus.train) + len(corpus.test)
    return {"max tokens": max_tokens, "truncation": truncation, "accuracy %": round(100 * accuracy, 2),
            "embed s": round(seconds, 1), "texts/s": round(texts / seconds, 1)}


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=CORPORA, default="chnsenticorp")
    parser.add_argument("--train-rows", type=int, default=1500)
    parser.add_argument("--test-rows", type=int, default=500)
    args = parser.parse_args()
    require_datasets()
    rows = (60, 40) if args.quick else (args.train_rows, args.test_rows)
    corpus = load_corpus(args.corpus, train_rows=rows[0], test_rows=rows[1])
    results = [measure(corpus, *setting) for setting in (QUICK_SETTINGS if args.quick else SETTINGS)]
    for row in results:
        print(f"  {args.corpus} / {row['max tokens']} {row['truncation']}: {row['accuracy %']}% "
              f"in {row['embed s']} s ({row['texts/s']} texts/s)", flush=True)
    report(f"Encoder truncation on {args.corpus} ({rows[0]:,} train / {rows[1]:,} test rows)", command_line(),
           {"truncation": results}, args.json)


if __name__ == "__main__":
    main()
