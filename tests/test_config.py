from __future__ import annotations

import json

import pytest

from core.config import PRESETS, TrainConfig, preset
from core.errors import ConfigError


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
    with pytest.raises(ConfigError, match="hidden_units"):
        TrainConfig.from_dict({"hidden_units": 3})
