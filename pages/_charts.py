"""Chart pieces every chart shares (the Train page's live curves, Evaluate's and the Models page's charts): legends
that show whole names and axis titles that read well in Chinese. Altair only, no streamlit and no TensorFlow, so
pages/_compare.py can use them without importing pages/_ui.py.

The leading underscore keeps this file out of the page list.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import altair as alt

# How a chart with a legend above or below is sized: Streamlit's theme fits the whole chart, legend rows included,
# into its height, which squeezed the plot of a chart with two rows of legend to a strip 55 px high. "fit-x" still
# fits the width to the page but keeps the plot's own height, and the legend rows add to it.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
# Chinese, Japanese and Korean characters: an axis title in them reads better written across than turned sideways.
CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")


def legend(orient: Literal["top", "bottom"] = "bottom", columns: int | None = None) -> alt.Legend:
    """A legend above or below the chart whose names are never shortened ("valida…"): `columns` names per row,
    all in one row when None. Beside the chart a legend takes its width from the plot, and a phone-wide chart has
    none to spare; tests/app/test_legends.py checks that every chart's legends fit a phone."""
    return alt.Legend(orient=orient, direction="horizontal", labelLimit=0,
                      columns=alt.Undefined if columns is None else columns)


def y_axis(title: str, **options: Any) -> alt.Axis:
    """A y axis titled `title`. A Chinese (CJK) title is written across, above the axis: CJK characters turned
    sideways are hard to read."""
    if CJK.search(title):
        options = {"titleAngle": 0, "titleAlign": "left", "titleAnchor": "end", "titleBaseline": "bottom",
                   "titleY": -6, **options}
    return alt.Axis(**options)
