"""Compare runs: the training curves and scores of a few saved models, shaped from their metadata and drawn on
shared charts for the Models page. No streamlit, so it is tested without a browser (tests/app/test_compare_runs.py).

The leading underscore keeps this file out of the page list; the Models page imports it as `pages._compare`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import pandas as pd

from core.registry import ModelInfo
from pages._charts import FIT_WIDTH, legend, y_axis
from pages._nav import t

# How many saved models one comparison overlays: more lines than this on one chart cannot be told apart.
MIN_RUNS = 2
MAX_RUNS = 4
CURVE_METRICS = ("loss", "accuracy")
SCORE_METRICS = ("accuracy", "macro_f1")
_CURVE_COLUMNS = ["model", "epoch", "metric", "part", "value"]


def curves_frame(infos: Sequence[ModelInfo]) -> pd.DataFrame:
    """One row per model, epoch, metric (loss, accuracy) and part (training, validation), from the per-epoch
    history saved with each model; missing and non-finite values are left out."""
    points = [
        {"model": info.name, "epoch": int(entry["epoch"]), "metric": metric, "part": part, "value": float(value)}
        for info in infos
        for entry in info.metadata.get("history", [])
        for metric in CURVE_METRICS
        for part, key in (("training", metric), ("validation", f"val_{metric}"))
        if isinstance(value := entry.get(key), (int, float)) and math.isfinite(value) and "epoch" in entry
    ]
    return pd.DataFrame(points, columns=_CURVE_COLUMNS)


def scores_frame(infos: Sequence[ModelInfo]) -> pd.DataFrame:
    """One row per model and score (accuracy, macro-F1) as saved when it was evaluated."""
    rows = [{"model": info.name, "metric": metric, "value": float(info.metadata["metrics"][metric])}
            for info in infos for metric in SCORE_METRICS if metric in info.metadata.get("metrics", {})]
    return pd.DataFrame(rows, columns=["model", "metric", "value"])


def same_data(infos: Sequence[ModelInfo]) -> bool:
    """Whether every model was trained and scored on the same data (one data fingerprint), so scores compare."""
    return len({info.metadata.get("data", {}).get("fingerprint") for info in infos}) == 1


def curves_chart(frame: pd.DataFrame, metric: str, models: Sequence[str]) -> alt.Chart:
    """One metric over epochs: a colour per model, solid for training and dashed for validation."""
    title = t("chart_loss") if metric == "loss" else t("chart_accuracy")
    data = frame[frame.metric == metric].assign(part=lambda rows: rows.part.map(
        {"training": t("series_train_epoch"), "validation": t("series_validation")}))
    # Whole model names, one per row, below the chart; the key to the line styles goes above it, since two
    # legends side by side below a phone-wide chart ran past its right edge ("validatic").
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("epoch:Q", title=t("axis_epoch"), axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=metric == "accuracy"), axis=y_axis(title)),
        color=alt.Color("model:N", title=None, scale=alt.Scale(domain=list(models)), legend=legend(columns=1)),
        strokeDash=alt.StrokeDash("part:N", title=None, legend=legend(orient="top"),
                                  sort=[t("series_train_epoch"), t("series_validation")]),
        tooltip=[alt.Tooltip("model:N", title=t("name")), alt.Tooltip("part:N", title=""),
                 alt.Tooltip("epoch:Q"), alt.Tooltip("value:Q", title=title, format=".4f")],
    ).properties(title=title, height=260, autosize=FIT_WIDTH)


def scores_chart(frame: pd.DataFrame, models: Sequence[str]) -> alt.Chart:
    """Accuracy and macro-F1 of every model as grouped bars, the score printed at each bar's end."""
    data = frame.assign(metric=frame.metric.map({"accuracy": t("accuracy"), "macro_f1": t("macro_f1")}))
    base = alt.Chart(data).encode(
        x=alt.X("value:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        y=alt.Y("metric:N", title=None),
        yOffset=alt.YOffset("model:N", sort=list(models)),
        color=alt.Color("model:N", title=None, scale=alt.Scale(domain=list(models)),
                        legend=legend(columns=1)),
        tooltip=[alt.Tooltip("model:N", title=t("name")), alt.Tooltip("metric:N", title=""),
                 alt.Tooltip("value:Q", format=".2%")],
    )
    text = base.mark_text(align="left", dx=4).encode(text=alt.Text("value:Q", format=".1%"), color=alt.value("#1e2235"))
    return (base.mark_bar() + text).properties(height=alt.Step(18))
