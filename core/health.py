"""Data health: what to fix in a dataset before training on it, in one typed report for the Data page.

Near-duplicate texts, texts shared between the training rows and the test rows (leakage), very short or very long
texts, the mix of languages, class imbalance and labels that look like typos of each other. Near-duplicates are
found with MinHash over character shingles in numpy, so 50,000 rows take about a second (tests/test_health.py).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from core.config import TrainConfig
from core.data import Dataset
from core.experiment import split_for_run
from core.text import MAX_AUTO_SEQUENCE_LENGTH, token_counts

# Fewer tokens than this and a model has almost nothing to go on (0: the text reads as nothing at all).
SHORT_TOKENS = 3
# More tokens than this are cut off by LSTM, GRU and CNN models whose sequence length is automatic.
LONG_TOKENS = MAX_AUTO_SEQUENCE_LENGTH
# The largest class this many times the smallest: accuracy alone starts to mislead.
IMBALANCE_RATIO = 5
# Shingle-set Jaccard similarity from which two texts count as near-duplicates: one word changed in a
# 20-word review stays above it, two reviews that share a phrase stay far below.
NEAR_DUPLICATE_JACCARD = 0.8
# Characters per shingle: short enough for Chinese (two or three words), long enough that unrelated English
# texts share few.
SHINGLE_CHARACTERS = 3
# Normalised texts shorter than this are compared by equality only: a few shingles make Jaccard a coin toss.
MIN_NEAR_CHARACTERS = 10
# Characters of a long text that are shingled: its start decides whether it is a copy, and the cost stays bounded.
MAX_SHINGLED_CHARACTERS = 2000
# MinHash signature: BANDS bands of ROWS_PER_BAND values. Two texts become candidates when one band agrees, which
# happens with probability 1 - (1 - J^4)^8: 0.985 at J = 0.8, 0.06 at J = 0.3. Candidates are then checked exactly.
BANDS = 8
ROWS_PER_BAND = 4
# A bucket of candidates bigger than this is checked against its first text only, so one common template cannot
# cost n² comparisons.
MAX_BUCKET = 32
# Seconds the near-duplicate search may take. Real files need about a second for 50,000 rows, but rows built from a
# few repeated words make nearly every pair a candidate (85 s for a crafted 4.4 MB file, bench/abuse.py); past the
# budget the exact duplicates are still complete and the report says the near ones were not all looked for.
NEAR_DUPLICATE_SECONDS = 10.0
# Candidate pairs checked between two looks at the clock.
_PAIRS_PER_CLOCK = 1024
# Label pairs longer than this are not compared letter by letter.
MAX_LABEL_CHARACTERS = 40
# A Chinese character carries about what three Latin letters do, so a text is Chinese when its Chinese characters
# are at least a third of its letters ("iPhone很好用" is Chinese, "I love 北京" is English).
_HAN_WEIGHT = 3
_SEED = 20240613
_FINAL_MIX = np.uint64(0xBF58476D1CE4E5B9)
_SHINGLE_MULTIPLIER = np.uint64(0x100000001B3)
_NOT_WORD = re.compile(r"[\W_]+")
_LABEL_SEPARATORS = re.compile(r"[\s_\-]+")
# Unicode ranges by script, as (first, last) code points: enough to tell English, Chinese and other scripts apart
# without a per-character Python loop.
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
_LATIN = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
_OTHER_SCRIPTS = ((0x370, 0x1FFF), (0x3040, 0x30FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))
LANGUAGES = ("en", "zh", "other")


@dataclass(frozen=True)
class Row:
    """One row a check points at: where it is, what it says and its label."""

    part: str  # "train" (training file rows trained on, validation included), "test" (its test split), "test_file"
    row: int  # 0-based data row in its file, header excluded
    text: str
    label: str


@dataclass(frozen=True)
class TextGroup:
    """Rows whose texts are the same once case, width, spaces and punctuation are ignored, or nearly the same."""

    rows: tuple[Row, ...]
    exact: bool  # True: equal after normalising; False: at least one pair is only near (shingle Jaccard)

    @property
    def labels_differ(self) -> bool:
        """The same text with different labels: at least one of them is wrong."""
        return len({row.label for row in self.rows}) > 1


@dataclass(frozen=True)
class LabelTypo:
    """A rare label that looks like a misspelling of a commoner one, which it should probably be merged into."""

    label: str
    rows: int
    likely: str
    likely_rows: int
    reason: str  # "variant" (case, width, spaces or separators differ) or "spelling" (a letter or two differ)


@dataclass(frozen=True)
class Imbalance:
    """The largest and smallest class, and how many times bigger the first is."""

    largest: str
    smallest: str
    ratio: float

    @property
    def flagged(self) -> bool:
        return self.ratio >= IMBALANCE_RATIO


@dataclass(frozen=True)
class HealthReport:
    """Every check on one dataset; each list is empty when its check found nothing."""

    rows: int
    duplicates: tuple[TextGroup, ...]  # among the training file's rows, biggest group first
    leaks: tuple[TextGroup, ...]  # groups with a test row and a training row
    leak_source: str  # "split": the training file's test split; "test_file": the uploaded test file
    test_rows: int  # rows in the test part the leaks were looked for in
    short: tuple[Row, ...]  # training file rows under SHORT_TOKENS tokens, emptiest first
    long: tuple[Row, ...]  # training file rows over LONG_TOKENS tokens, longest first
    languages: dict[str, int]  # rows per language ("en", "zh", "other")
    language_examples: dict[str, tuple[str, ...]]
    imbalance: Imbalance
    label_typos: tuple[LabelTypo, ...]
    seconds: float = field(compare=False)
    near_complete: bool = True  # False when NEAR_DUPLICATE_SECONDS ran out before every candidate pair was checked

    @property
    def duplicate_rows(self) -> int:
        """Rows that would go if each group kept one."""
        return sum(len(group.rows) - 1 for group in self.duplicates)

    @property
    def mixed_languages(self) -> bool:
        """At least two languages hold a tenth of the rows each."""
        return sum(count * 10 >= self.rows for count in self.languages.values()) >= 2


def check_health(dataset: Dataset, config: TrainConfig, test_file: Dataset | None = None,
                 max_examples: int = 50) -> HealthReport:
    """Runs every check on `dataset`, with leakage looked for in the test rows the run with `config` would use.

    Args:
        dataset: The training data as loaded.
        config: Settings whose validation split, test split and seed decide the test rows (when no test file).
        test_file: A separate test file; when given, it is the test set (as core.experiment.split_for_run does).
        max_examples: Texts kept per language as examples (the counts are complete).
    """
    started = time.perf_counter()
    rows = _rows(dataset, config, test_file)
    groups, near_complete = near_duplicate_groups([row.text for row in rows])
    in_file = [row for row in rows if row.part != "test_file"]
    counts = token_counts([row.text for row in in_file])
    languages, language_examples = _language_counts(dataset.texts, max_examples)
    return HealthReport(
        rows=len(dataset),
        duplicates=_duplicates(rows, groups),
        leaks=_leaks(rows, groups),
        leak_source="split" if test_file is None else "test_file",
        test_rows=sum(row.part != "train" for row in rows),
        short=tuple(in_file[i] for i in np.argsort(counts, kind="stable") if counts[i] < SHORT_TOKENS),
        long=tuple(in_file[i] for i in np.argsort(-counts, kind="stable") if counts[i] > LONG_TOKENS),
        languages=languages,
        language_examples=language_examples,
        imbalance=imbalance(dataset.class_counts()),
        label_typos=label_typos(dataset.class_counts()),
        seconds=time.perf_counter() - started,
        near_complete=near_complete,
    )


def _rows(dataset: Dataset, config: TrainConfig, test_file: Dataset | None) -> list[Row]:
    """Every row of the training file (tagged train or test as the run would split it), then the test file's."""
    test_texts = set() if test_file is not None else set(split_for_run(dataset, config).test.texts)
    rows = [Row("test" if text in test_texts else "train", dataset.file_row(position), text, label)
            for position, (text, label) in enumerate(zip(dataset.texts, dataset.labels))]
    if test_file is not None:
        rows += [Row("test_file", test_file.file_row(position), text, label)
                 for position, (text, label) in enumerate(zip(test_file.texts, test_file.labels))]
    return rows


def _duplicates(rows: list[Row], groups: list[tuple[list[int], bool]]) -> tuple[TextGroup, ...]:
    found = []
    for members, exact in groups:
        in_file = [rows[i] for i in members if rows[i].part != "test_file"]
        if len(in_file) > 1:
            found.append(TextGroup(tuple(in_file), exact))
    return tuple(sorted(found, key=lambda group: -len(group.rows)))


def _leaks(rows: list[Row], groups: list[tuple[list[int], bool]]) -> tuple[TextGroup, ...]:
    found = []
    for members, exact in groups:
        parts = {rows[i].part for i in members}
        if "train" in parts and len(parts) > 1:
            found.append(TextGroup(tuple(rows[i] for i in members), exact))
    return tuple(sorted(found, key=lambda group: -len(group.rows)))


# --- near-duplicates --------------------------------------------------------------------------------------------


def normalized(text: str) -> str:
    """`text` as near-duplicates are compared: compatibility forms (full-width letters) folded, case folded,
    and everything but letters and digits removed, so "Great film!!" and "great  film" are one text."""
    # Punctuation goes first: Chinese full-width commas would otherwise send nearly every text through NFKC,
    # and the check is far quicker than normalising.
    text = _NOT_WORD.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text))
    return text.casefold()


def near_duplicate_groups(texts: Sequence[str]) -> tuple[list[tuple[list[int], bool]], bool]:
    """Groups of two or more texts that are equal once normalised, or whose shingle Jaccard similarity reaches
    NEAR_DUPLICATE_JACCARD (looked for during at most NEAR_DUPLICATE_SECONDS).

    Returns:
        (positions in `texts`, exact) per group, exact being True when no near (non-equal) pair joined it; and
        whether every near-duplicate candidate was checked in time (equal texts are always all grouped).
    """
    by_key: dict[str, list[int]] = {}
    for position, text in enumerate(texts):
        key = normalized(text)
        if key:  # a text of punctuation or emoji only has nothing to compare
            by_key.setdefault(key, []).append(position)
    keys = list(by_key)
    long_keys = [index for index, key in enumerate(keys) if len(key) >= MIN_NEAR_CHARACTERS]
    parent = list(range(len(keys)))
    near_pairs, complete = _near_pairs([keys[index] for index in long_keys], time.monotonic() + NEAR_DUPLICATE_SECONDS)
    for first, second in near_pairs:
        _union(parent, long_keys[first], long_keys[second])
    joined_near = {_find(parent, long_keys[first]) for first, _ in near_pairs}
    members: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        members.setdefault(_find(parent, index), []).extend(by_key[key])
    groups = [(sorted(positions), root not in joined_near) for root, positions in members.items() if len(positions) > 1]
    return groups, complete


def _find(parent: list[int], index: int) -> int:
    while parent[index] != index:
        parent[index] = parent[parent[index]]
        index = parent[index]
    return index


def _union(parent: list[int], first: int, second: int) -> None:
    first, second = _find(parent, first), _find(parent, second)
    parent[max(first, second)] = min(first, second)


def _near_pairs(keys: list[str], ends_at: float) -> tuple[list[tuple[int, int]], bool]:
    """Pairs of `keys` (each at least SHINGLE_CHARACTERS long) whose shingle sets have Jaccard similarity at
    least NEAR_DUPLICATE_JACCARD: MinHash-LSH candidates, then checked exactly until `ends_at` (time.monotonic).

    Returns:
        The pairs found, and False when the clock ran out before every candidate was checked.
    """
    if len(keys) < 2:
        return [], True
    hashes, starts = _shingle_hashes(keys)
    signatures = _minhash(hashes, starts)
    ends = np.append(starts[1:], len(hashes))
    shingles: dict[int, set[int]] = {}

    def shingle_set(index: int) -> set[int]:
        if index not in shingles:
            shingles[index] = set(hashes[starts[index]:ends[index]].tolist())
        return shingles[index]

    pairs = []
    for checked, (first, second) in enumerate(sorted(_candidates(signatures))):
        if checked % _PAIRS_PER_CLOCK == 0 and time.monotonic() > ends_at:
            return pairs, False
        if _jaccard(shingle_set(first), shingle_set(second)) >= NEAR_DUPLICATE_JACCARD:
            pairs.append((first, second))
    return pairs, True


def _shingle_hashes(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of every SHINGLE_CHARACTERS-long piece of each key, all keys end to end, and where each key's
    pieces start; computed on all characters at once, then the pieces spanning two keys are dropped."""
    clipped = [key[:MAX_SHINGLED_CHARACTERS] for key in keys]
    lengths = np.fromiter(map(len, clipped), dtype=np.int64, count=len(clipped))
    codes = np.frombuffer("".join(clipped).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    windows = len(codes) - SHINGLE_CHARACTERS + 1
    hashes = np.zeros(windows, dtype=np.uint64)
    for offset in range(SHINGLE_CHARACTERS):
        hashes = hashes * _SHINGLE_MULTIPLIER + codes[offset:offset + windows]
    hashes = _mix(hashes)
    pieces = lengths - SHINGLE_CHARACTERS + 1
    piece_starts = np.cumsum(pieces) - pieces
    char_starts = np.cumsum(lengths) - lengths
    kept = np.arange(pieces.sum()) + np.repeat(char_starts - piece_starts, pieces)
    return hashes[kept], piece_starts


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: nearby inputs (shingles one letter apart) get unrelated hashes."""
    values = values ^ (values >> np.uint64(30))
    values = values * _FINAL_MIX
    return values ^ (values >> np.uint64(31))


def _minhash(hashes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(keys, BANDS * ROWS_PER_BAND) MinHash signature: per random affine map, each key's smallest hash."""
    rng = np.random.default_rng(_SEED)
    count = BANDS * ROWS_PER_BAND
    multipliers = rng.integers(1, 2**63, size=count, dtype=np.uint64) | np.uint64(1)
    offsets = rng.integers(0, 2**63, size=count, dtype=np.uint64)
    signatures = np.empty((len(starts), count), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(count):
            signatures[:, column] = np.minimum.reduceat(hashes * multipliers[column] + offsets[column], starts)
    return signatures


def _candidates(signatures: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of keys whose signatures agree on all rows of at least one band."""
    pairs: set[tuple[int, int]] = set()
    for band in range(BANDS):
        columns = signatures[:, band * ROWS_PER_BAND:(band + 1) * ROWS_PER_BAND]
        bucket = np.zeros(len(signatures), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for column in columns.T:
                bucket = _mix(bucket * _SHINGLE_MULTIPLIER + column)
        order = np.argsort(bucket, kind="stable")
        starts = np.flatnonzero(np.diff(bucket[order], prepend=bucket[order[0]] - np.uint64(1)))
        ends = np.append(starts[1:], len(order))
        for start, end in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist()):
            pairs.update(_bucket_pairs(sorted(order[start:end].tolist())))
    return pairs


def _bucket_pairs(members: list[int]) -> list[tuple[int, int]]:
    if len(members) > MAX_BUCKET:
        return [(members[0], other) for other in members[1:]]
    return list(combinations(members, 2))


def _jaccard(first: set[int], second: set[int]) -> float:
    return len(first & second) / len(first | second)


# --- languages --------------------------------------------------------------------------------------------------


def language_of_each(texts: Sequence[str]) -> list[str]:
    """"zh" when Chinese characters are at least a third of a text's letters, else "en" when Latin letters
    outnumber other scripts', else "other" (other scripts, or no letters at all)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bounds = np.concatenate([[0], np.cumsum(lengths)])

    def per_text(ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
        inside = np.zeros(len(codes), dtype=bool)
        for first, last in ranges:
            inside |= (codes >= first) & (codes <= last)
        totals = np.concatenate([[0], np.cumsum(inside)])
        return totals[bounds[1:]] - totals[bounds[:-1]]

    han, latin, other = per_text(_HAN), per_text(_LATIN), per_text(_OTHER_SCRIPTS)
    letters = han + latin + other
    chinese = (letters > 0) & (han * _HAN_WEIGHT >= letters)
    english = ~chinese & (latin > 0) & (latin >= other)
    return np.where(chinese, "zh", np.where(english, "en", "other")).tolist()


def _language_counts(texts: Sequence[str], max_examples: int) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    languages = language_of_each(texts)
    counts = {language: 0 for language in LANGUAGES}
    examples: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    for text, language in zip(texts, languages):
        counts[language] += 1
        if len(examples[language]) < max_examples:
            examples[language].append(text)
    return counts, {language: tuple(found) for language, found in examples.items()}


# --- labels -----------------------------------------------------------------------------------------------------


def imbalance(class_counts: dict[str, int]) -> Imbalance:
    """The largest class against the smallest (ties: the first in class order)."""
    largest = max(class_counts, key=class_counts.__getitem__)
    smallest = min(class_counts, key=class_counts.__getitem__)
    return Imbalance(largest, smallest, class_counts[largest] / max(class_counts[smallest], 1))


def label_typos(class_counts: dict[str, int]) -> tuple[LabelTypo, ...]:
    """Labels that differ from another only by case, width, spaces or separators ("variant"), or by a letter
    (two in labels of eight or more letters: "spelling"), each pointed at the commoner one.

    Numbers ("1" and "2" stars) and a label inside another ("relevant", "irrelevant") are different classes.
    """
    found = []
    for first, second in combinations(class_counts, 2):
        rare, common = sorted((first, second), key=lambda label: (class_counts[label], label))
        reason = _typo_reason(rare, common)
        if reason:
            found.append(LabelTypo(rare, class_counts[rare], common, class_counts[common], reason))
    return tuple(sorted(found, key=lambda typo: typo.rows))


def _typo_reason(first: str, second: str) -> str | None:
    first_key, second_key = _label_key(first), _label_key(second)
    if first_key == second_key:
        return "variant"
    if any(character.isdigit() for character in first_key + second_key):
        return None
    shorter = min(len(first_key), len(second_key))
    allowed = 2 if shorter >= 8 else 1 if shorter >= 4 else 0
    if not allowed or max(len(first_key), len(second_key)) > MAX_LABEL_CHARACTERS:
        return None
    if first_key.endswith(second_key) or second_key.endswith(first_key):  # a prefix negates: un-, ir-, dis-
        return None
    return "spelling" if _edit_distance(first_key, second_key, allowed) <= allowed else None


def _label_key(label: str) -> str:
    return _LABEL_SEPARATORS.sub("", unicodedata.normalize("NFKC", label).casefold())


def _edit_distance(first: str, second: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it must exceed `limit`."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous = list(range(len(second) + 1))
    for row, first_char in enumerate(first, start=1):
        current = [row]
        for column, second_char in enumerate(second, start=1):
            current.append(min(previous[column] + 1, current[column - 1] + 1,
                               previous[column - 1] + (first_char != second_char)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
