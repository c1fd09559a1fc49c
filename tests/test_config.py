from __future__ import annotations

import json
import re

import pytest

from core.config import FAMILIES, PRESET_NAMES, PRESETS, SETTINGS, Setting, TrainConfig, _number_words, parse_layer_sizes, preset
from core.errors import ConfigError
from core.i18n import STRINGS


def test_article_presets_match_the_reference_design():
    lstm, mlp = preset("article-lstm"), preset("article-mlp")
    assert (lstm.family, lstm.layer_sizes, lstm.batch_size, lstm.validation_split) == ("lstm", [64, 128], 32, 0.1)
    assert lstm.epochs == 100 and lstm.early_stopping
    assert (mlp.family, mlp.layer_sizes, mlp.ngrams, mlp.batch_size) == ("mlp", [128, 64], 1, 32)


def test_preset_returns_an_independent_copy():
    config = preset("default")
    config.layer_sizes.append(32)
    assert PRESETS["default"].layer_sizes == [64]


def test_json_round_trip_rebuilds_an_equal_config():
    config = TrainConfig(family="gru", layer_sizes=[32, 16], bidirectional=True, sequence_length=50)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"family": "transformer"}, "family"),
        ({"layer_sizes": []}, "layer_sizes"),
        ({"layer_sizes": [64, 0]}, "layer_sizes"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 5.0}, "learning_rate"),
        ({"dropout": 1.0}, "dropout"),
        ({"validation_split": 0.0}, "validation_split"),
        ({"validation_split": 0.5, "test_split": 0.45}, "test_split"),
        ({"vocab_size": 10}, "vocab_size"),
        ({"sequence_length": 1}, "sequence_length"),
    ],
)
def test_out_of_range_settings_name_the_field_and_value(changes, field):
    with pytest.raises(ConfigError, match=field) as raised:
        TrainConfig(**changes)
    assert repr(changes[field]) in str(raised.value)


def test_unknown_preset_and_unknown_json_keys_are_refused():
    with pytest.raises(ConfigError, match="bert"):
        preset("bert")
    with pytest.raises(ConfigError, match="preset='bert' is out of range: use one of default, article-lstm"):
        TrainConfig(preset="bert")
    with pytest.raises(ConfigError, match="hidden_units"):
        TrainConfig.from_dict({"hidden_units": 3})


def test_unknown_json_keys_are_counted_as_one_setting_or_several():
    with pytest.raises(ConfigError, match="^1 unknown training setting: hidden_units; known: augment_copies, "):
        TrainConfig.from_dict({"hidden_units": 3})
    with pytest.raises(ConfigError, match="^2 unknown training settings: hidden_units, optimizer; known: "):
        TrainConfig.from_dict({"optimizer": "adam", "hidden_units": 3})


def test_the_preset_field_allows_exactly_the_presets_names():
    assert tuple(PRESETS) == PRESET_NAMES == SETTINGS["preset"].options
    assert all(config.preset == name for name, config in PRESETS.items())
    assert preset(None) == TrainConfig() and TrainConfig().preset is None  # None: custom, the user's own settings


# --- every setting is described once, and validation comes from that description ---------------------------------
NUMBERS = [name for name, setting in SETTINGS.items() if setting.kind in ("int", "float", "sizes")]
KINDS = {"choice", "int", "float", "bool", "sizes"}


@pytest.mark.parametrize("name", [*SETTINGS])
def test_every_field_has_a_complete_description(name: str) -> None:
    setting = SETTINGS[name]
    assert setting.kind in KINDS and setting.group in ("model", "training", "data", None)
    assert {setting.label, setting.help} <= set(STRINGS)  # both languages: tests/app/test_i18n.py checks pairs
    assert set(setting.families) <= set(FAMILIES) and setting.families
    assert getattr(TrainConfig(), name) == (list(setting.default) if setting.kind == "sizes" else setting.default)
    if setting.kind in ("int", "float", "sizes"):
        number = float if setting.kind == "float" else int  # a float slider needs float bounds and step
        assert type(setting.minimum) is number and type(setting.maximum) is number and setting.minimum < setting.maximum
        if setting.kind != "sizes" and setting.group is not None and not setting.offered:  # a slider or +/- box
            assert type(setting.step) is number and setting.step > 0
    if setting.kind == "sizes":
        assert setting.max_items >= 1
    if setting.kind == "choice":
        assert setting.default in setting.choices
        assert {f"{name}_{setting.none if option is None else option}" for option in setting.choices} <= set(STRINGS)
    if setting.offered:
        assert all(setting.minimum <= value <= setting.maximum for value in setting.offered)
    if setting.requires is not None:
        assert SETTINGS[setting.requires].kind == "bool"
    if setting.none is not None and setting.group is not None:
        assert setting.none in STRINGS  # the widget shows it as the empty value's placeholder


def _beyond(setting: Setting) -> tuple[float, float]:
    """A number just under the minimum and one just over the maximum, or the bound itself where it is excluded."""
    step = setting.step or setting.minimum or 1
    low = setting.minimum - step if setting.min_inclusive else setting.minimum
    high = setting.maximum + step if setting.max_inclusive else setting.maximum
    return low, high


@pytest.mark.parametrize("name", NUMBERS)
def test_out_of_bound_values_are_refused_with_the_described_bounds(name: str) -> None:
    setting = SETTINGS[name]
    for value in _beyond(setting):
        value = [64, value] if setting.kind == "sizes" else value
        with pytest.raises(ConfigError) as raised:
            TrainConfig(**{name: value})
        message = str(raised.value)
        assert f"{name}={value!r}" in message and setting.allowed() in message
        assert _number_words(setting.minimum) in message and _number_words(setting.maximum) in message


@pytest.mark.parametrize("name", NUMBERS)
def test_the_bounds_themselves_are_allowed_where_inclusive(name: str) -> None:
    setting = SETTINGS[name]
    ends = {setting.minimum: setting.min_inclusive, setting.maximum: setting.max_inclusive}
    for end in (end for end, inclusive in ends.items() if inclusive):
        value = [end] if setting.kind == "sizes" else end
        assert getattr(TrainConfig(**{name: value}), name) == value


def test_dropout_bound_and_message_agree() -> None:
    # Config allowed anything below 1 while its message said 0.95 and the slider stopped at 0.9.
    assert TrainConfig(dropout=0.9).dropout == 0.9
    with pytest.raises(ConfigError, match=r"dropout=0\.95 is out of range: use 0 to 0\.9\."):
        TrainConfig(dropout=0.95)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": "20"}, "epochs='20' is not a whole number: use 1 to 1000"),
        ({"epochs": 2.5}, "is not a whole number"),
        ({"early_stopping": "yes"}, "early_stopping='yes' is not True or False"),
        ({"dropout": None}, "dropout=None is not a number"),
        ({"layer_sizes": "64"}, "is not a list of whole numbers"),
        ({"learning_rate": float("nan")}, "out of range"),
        ({"layer_sizes": [8] * 9}, "1 to 8 sizes"),
        ({"clipnorm": 0.0}, "clipnorm=0.0 is out of range: use above 0 and at most 100"),
        ({"ngrams": 4}, "ngrams=4 is out of range: use one of 1, 2, 3"),
    ],
)
def test_values_of_the_wrong_type_or_shape_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        TrainConfig(**changes)


def test_settings_that_allow_none_say_what_it_means() -> None:
    assert TrainConfig(sequence_length=None, clipnorm=None, preset=None).sequence_length is None
    assert SETTINGS["sequence_length"].parse("sequence_length", " AUTO ") is None
    assert SETTINGS["clipnorm"].parse("clipnorm", "none") is None
    assert SETTINGS["ngrams"].parse("ngrams", "auto") is None and TrainConfig().ngrams is None
    assert SETTINGS["ngrams"].choices == (None, 1, 2, 3) and SETTINGS["family"].choices == SETTINGS["family"].options


def test_the_preset_select_lists_custom_after_the_presets_as_it_always_did() -> None:
    assert SETTINGS["preset"].choices == (*PRESETS, None)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [("epochs", "7", 7), ("dropout", "0.25", 0.25), ("family", "gru", "gru"), ("ngrams", "3", 3),
     ("sequence_length", "120", 120), ("preset", "default", "default")],
)
def test_typed_text_is_read_as_the_settings_kind(name: str, text: str, value: object) -> None:
    assert SETTINGS[name].parse(name, text) == value


@pytest.mark.parametrize(("name", "text"), [("epochs", "many"), ("dropout", "half"), ("ngrams", "two")])
def test_typed_text_of_the_wrong_kind_names_the_setting(name: str, text: str) -> None:
    with pytest.raises(ConfigError, match=f"Setting {name}='{text}' is not .*: use "):
        SETTINGS[name].parse(name, text)


@pytest.mark.parametrize(("text", "sizes"), [("64", [64]), ("64, 128", [64, 128]), ("64 128", [64, 128]),
                                             ("64,128", [64, 128]), ("64; 128", [64, 128]), (" 32 ;16 ", [32, 16])])
def test_layer_sizes_are_parsed(text: str, sizes: list[int]) -> None:
    assert parse_layer_sizes(text) == sizes
    assert SETTINGS["layer_sizes"].parse("layer_sizes", text) == sizes


@pytest.mark.parametrize(("text", "message"), [("64, x", "whole numbers"), ("  ", "at least one layer size")])
def test_bad_layer_sizes_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_layer_sizes(text)


@pytest.mark.parametrize("name", [*PRESETS])
def test_every_preset_survives_a_json_round_trip(name: str) -> None:
    config = preset(name)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_a_config_saved_before_the_fields_were_described_still_loads() -> None:
    # metadata.json of a model saved by an earlier version: keys in the old field order.
    saved = {"family": "lstm", "layer_sizes": [64, 128], "ngrams": 2, "normalize_tf_idf": True, "vocab_size": 20000,
             "sequence_length": None, "embedding_dim": 128, "bidirectional": False, "dropout": 0.0,
             "learning_rate": 0.0005, "clipnorm": 1.0, "epochs": 100, "batch_size": 32, "validation_split": 0.1,
             "test_split": 0.1, "early_stopping": True, "patience": 3, "seed": 42, "preset": "article-lstm"}
    # ngrams was 2 for every model until "auto" became the default; an LSTM never reads it.
    assert TrainConfig.from_dict(saved) == preset("article-lstm").replace(ngrams=2)
