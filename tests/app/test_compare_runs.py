"""Compare runs on the Models page: 2-4 saved models' training curves and scores overlaid (pages/_compare.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from core.registry import METADATA_FILE, ModelInfo
from pages import _compare
from tests.app.support import open_page

HISTORY = [{"epoch": 1, "loss": 0.7, "accuracy": 0.5, "val_loss": 0.69, "val_accuracy": 0.55},
           {"epoch": 2, "loss": 0.4, "accuracy": 0.8, "val_loss": float("nan"), "val_accuracy": 0.75}]


def _info(name: str, history: list[dict] | None = None, accuracy: float = 0.8, fingerprint: str = "abc") -> ModelInfo:
    metadata = {"history": history if history is not None else HISTORY,
                "metrics": {"accuracy": accuracy, "macro_f1": accuracy - 0.1}, "data": {"fingerprint": fingerprint}}
    return ModelInfo(name, Path(name), metadata)


def test_curves_hold_every_model_epoch_metric_and_part_and_skip_missing_values() -> None:
    frame = _compare.curves_frame([_info("a"), _info("b", history=HISTORY[:1])])
    assert len(frame) == 7 + 4  # a: 2 epochs × 4 values, less the NaN; b: 1 epoch × 4
    assert set(frame.model) == {"a", "b"} and set(frame.part) == {"training", "validation"}
    assert frame[(frame.model == "a") & (frame.epoch == 2) & (frame.metric == "loss")].part.tolist() == ["training"]


def test_scores_and_whether_they_compare() -> None:
    scores = _compare.scores_frame([_info("a", accuracy=0.9), _info("b", accuracy=0.6)])
    assert scores.set_index(["model", "metric"]).value.round(3).to_dict() == {
        ("a", "accuracy"): 0.9, ("a", "macro_f1"): 0.8, ("b", "accuracy"): 0.6, ("b", "macro_f1"): 0.5}
    assert _compare.same_data([_info("a"), _info("b")])
    assert not _compare.same_data([_info("a"), _info("b", fingerprint="other")])


def test_charts_draw_one_line_per_model_and_part_and_show_whole_names() -> None:
    frame = _compare.curves_frame([_info("a-rather-long-model-name"), _info("b")])
    chart = _compare.curves_chart(frame, "accuracy", ["a-rather-long-model-name", "b"])
    assert set(chart.data.metric) == {"accuracy"} and set(chart.data.part) == {"training", "validation"}
    encoding = chart.to_dict()["encoding"]
    assert encoding["color"]["legend"]["labelLimit"] == 0 and encoding["strokeDash"]["field"] == "part"


@pytest.fixture
def three_models(saved_model: str, models_dir: Path) -> list[str]:
    """The tiny model and two copies: 'second' with other curves and scores, 'other-data' trained on other data."""
    names = [saved_model, "second", "other-data"]
    for name, accuracy, fingerprint in (("second", 0.61, None), ("other-data", 0.42, "0" * 64)):
        folder = models_dir / name
        shutil.copytree(models_dir / saved_model, folder)
        metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
        metadata["history"] = HISTORY
        metadata["metrics"]["accuracy"] = accuracy
        if fingerprint:
            metadata["data"]["fingerprint"] = fingerprint
        (folder / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")
    return names


def _charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


def _plotted_models(at: AppTest) -> list[set[str]]:
    """The model names each chart's rows hold (Streamlit sends the rows as Arrow beside the Vega-Lite spec)."""
    found = []
    for chart in _charts(at):
        frames = [convert_arrow_bytes_to_pandas_df(dataset.data.data) for dataset in chart.proto.datasets]
        if chart.proto.data.data:
            frames.append(convert_arrow_bytes_to_pandas_df(chart.proto.data.data))
        found.append({name for frame in frames if "model" in frame for name in frame["model"]})
    return found


def _titles(at: AppTest) -> set[str]:
    titles = [json.loads(chart.proto.spec).get("title") for chart in _charts(at)]
    return {title if isinstance(title, str) else title.get("text") for title in titles if title}


def test_two_saved_models_are_overlaid_on_the_curves_and_the_scores(app: AppTest, three_models: list[str]) -> None:
    open_page(app, "pages/5_Models.py")
    assert "Compare runs" in [subheader.value for subheader in app.subheader]
    assert not _charts(app)  # nothing drawn before two are chosen
    assert any("Choose two to 4 models" in caption.value for caption in app.caption)
    app.multiselect(key="runs_compared").set_value(three_models[:2]).run()
    assert not app.exception
    assert _plotted_models(app) == [set(three_models[:2])] * 3  # loss, accuracy, scores
    assert not app.warning  # same data fingerprint: the scores compare
    app.multiselect(key="runs_compared").set_value(three_models).run()
    assert "different data" in app.warning[0].value


def test_compare_runs_speaks_chinese(app: AppTest, three_models: list[str]) -> None:
    app.sidebar.radio(key="language").set_value("zh").run()
    open_page(app, "pages/5_Models.py")
    app.multiselect(key="runs_compared").set_value(three_models[:2]).run()
    assert "比较训练结果" in [subheader.value for subheader in app.subheader]
    assert {"损失", "准确率"} <= _titles(app)
