"""The live training charts: what they plot, and that long runs are thinned so redraws stay cheap."""

from __future__ import annotations

import pandas as pd

from pages import _ui


def _batches(count: int) -> list[dict]:
    return [{"step": step, "epoch": step / 100, "loss": 1 / step, "accuracy": 0.5} for step in range(1, count + 1)]


def _plotted(batch_rows: list[dict], epoch_rows: list[dict], metric: str = "loss") -> pd.DataFrame:
    return _ui.training_chart(batch_rows, epoch_rows, metric).data


def test_long_runs_are_thinned_to_the_point_limit_from_first_to_near_last() -> None:
    data = _plotted(_batches(10_000), [])
    batches = data[data.series == "training (per batch)"]
    assert 0 < len(batches) <= _ui.MAX_BATCH_POINTS
    assert batches.epoch.iloc[0] == 0.01
    assert batches.epoch.iloc[-1] >= 99  # the latest progress is still visible


def test_short_runs_plot_every_batch_and_the_epoch_and_validation_points() -> None:
    epochs = [{"epoch": 1, "loss": 0.6, "val_loss": 0.7}, {"epoch": 2, "loss": 0.4, "val_loss": float("nan")}]
    data = _plotted(_batches(150), epochs)
    assert data.series.value_counts().to_dict() == {
        "training (per batch)": 150, "training": 2, "validation": 1,  # NaN is left out
    }
