"""Chart legends show every name whole on a phone-wide chart (issue 14.7, 15.7: "valida…", "validatic").

Vega never wraps a legend to the chart's width: names beyond `labelLimit` are cut with "…", and a row of legend
entries wider than the chart runs off its right edge. These tests lay each chart's legends out as Vega does (entries
in `columns` per row, legends on the same side next to each other) with widths measured in Chromium at Streamlit's
legend font, and check that every legend fits the chart a 390 px phone shows. tests/e2e/test_polish.py measures
the same in a real browser.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from core.registry import ModelInfo
from pages import _compare, _ui
from pages._charts import CJK

# The chart's width on a 390 px phone: the page has 16 px of padding each side (measured: 358 px).
PHONE_CHART_PX = 358
# Upper bounds of what Chromium draws at Streamlit's 14 px legend font: "validation" is 58 px, a 24-character
# model name 151 px, so 7 px per Latin character; CJK characters are square. Each entry adds its symbol and the
# gaps around it (32 px between "training" and "validation"), and legends side by side are 10 px apart.
LATIN_PX, CJK_PX, ENTRY_PX, LEGEND_GAP_PX = 7, 14, 32, 10
MODELS = ["transfer-20261203-140024", "default-20261203-140007"]  # names as the app makes them up


def _label_px(label: str) -> int:
    return sum(CJK_PX if CJK.match(char) else LATIN_PX for char in label) + ENTRY_PX


def _legend_px(labels: list[str], legend: dict) -> int:
    """The legend's width: `columns` entries per row (one row when unset), each column as wide as its widest."""
    columns = legend.get("columns") or len(labels)
    widths = defaultdict(int)
    for position, label in enumerate(labels):
        widths[position % columns] = max(widths[position % columns], _label_px(label))
    return sum(widths.values())


def _legends(spec: dict) -> list[tuple[dict, list[str]]]:
    """Every (legend, its labels) in a Vega-Lite spec, layers included, each channel once."""
    found = {}
    for part in [spec, *spec.get("layer", [])]:
        for channel, encoding in part.get("encoding", {}).items():
            if isinstance(encoding, dict) and "legend" in encoding and encoding["legend"] is not None:
                labels = encoding.get("scale", {}).get("domain") or encoding.get("sort")
                assert isinstance(labels, list), f"{channel}: the test needs the legend's labels in domain or sort"
                found[channel] = (encoding["legend"], labels)
    return list(found.values())


def assert_legends_fit_a_phone(chart) -> None:
    spec = chart.to_dict()
    legends = _legends(spec)
    assert legends, "the chart has no legend"
    if "height" in spec and isinstance(spec["height"], int):  # a fixed height (bar charts grow by their bars)
        assert spec.get("autosize", {}).get("type") == "fit-x", "legend rows would be taken from the plot's height"
    beside_each_other = defaultdict(list)
    for legend, labels in legends:
        assert legend.get("labelLimit") == 0, f"names longer than labelLimit are cut with '…': {legend}"
        assert legend.get("orient") in ("top", "bottom"), f"a legend beside the chart squeezes a phone's plot: {legend}"
        beside_each_other[legend["orient"]].append(_legend_px(labels, legend))
    for orient, widths in beside_each_other.items():
        width = sum(widths) + LEGEND_GAP_PX * (len(widths) - 1)
        assert width <= PHONE_CHART_PX, f"the {orient} legends need {width} px of a {PHONE_CHART_PX} px chart"


def _info(name: str) -> ModelInfo:
    history = [{"epoch": 1, "loss": 0.7, "accuracy": 0.5, "val_loss": 0.69, "val_accuracy": 0.55}]
    return ModelInfo(name, Path(name), {"history": history, "metrics": {"accuracy": 0.8, "macro_f1": 0.7}})


@pytest.fixture(params=["en", "zh"])
def language(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("pages._nav.lang", lambda: request.param)
    return request.param


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_the_train_pages_live_chart_legend_fits_a_phone(language: str, metric: str) -> None:
    batches = [{"epoch": step / 10, "loss": 1 / step, "accuracy": 0.5} for step in range(1, 11)]
    epochs = [{"epoch": 1, "loss": 0.5, "accuracy": 0.6, "val_loss": 0.6, "val_accuracy": 0.55}]
    assert_legends_fit_a_phone(_ui.training_chart(batches, epochs, metric, epochs=3))


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_the_compare_charts_legends_fit_a_phone(language: str, metric: str) -> None:
    frame = _compare.curves_frame([_info(name) for name in MODELS])
    assert_legends_fit_a_phone(_compare.curves_chart(frame, metric, MODELS))


def test_the_compare_scores_legend_fits_a_phone(language: str) -> None:
    scores = _compare.scores_frame([_info(name) for name in MODELS])
    assert_legends_fit_a_phone(_compare.scores_chart(scores, MODELS))


def test_a_row_of_entries_wider_than_a_phone_is_caught() -> None:
    """The layout model itself: the old live-chart legend (three entries in one row below the chart) overflows."""
    labels = ["training (per batch)", "training", "validation"]
    assert _legend_px(labels, {"orient": "bottom"}) > PHONE_CHART_PX
    assert _legend_px(labels, {"orient": "bottom", "columns": 2}) <= PHONE_CHART_PX
