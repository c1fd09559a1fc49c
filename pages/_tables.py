"""The tables the pages show, shaped from core's results: plain rows and frames, no streamlit, so they are
unit-tested without a browser (tests/test_tables.py). Pages add only the column labels and formats.

The leading underscore keeps this file out of the page list; pages import it as `pages._tables`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.evaluate import Evaluation, probability_column
from core.registry import ModelInfo

if TYPE_CHECKING:
    from core.suspects import Suspect
    from core.workspace import FilePredictions

# A suspect label's columns, as the CLI's JSON names them; the download keeps these names.
SUSPECT_COLUMNS = ("row", "text", "label", "suggested", "confidence")
# The columns of a misclassified example before its class probabilities, in the order the Evaluate page shows.
EXAMPLE_COLUMNS = ("text", "true", "predicted", "confidence")


def models_frame(infos: Sequence[ModelInfo], active_name: str | None = None,
                 bundled: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The Models page table: one row per saved model (see `model_rows`); the "bundled" column only when
    some model is bundled and the "problem" column only when some model is broken, since otherwise they would
    be empty and take room from the columns that matter."""
    frame = pd.DataFrame(model_rows(infos, active_name, bundled))
    empty = [column for column, used in (("bundled", bool(bundled)), ("problem", frame["problem"].astype(bool).any()))
             if not used]
    return frame.drop(columns=empty)


def model_rows(infos: Sequence[ModelInfo], active_name: str | None = None,
               bundled: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One row per saved model: broken models carry their reason, and models named in `bundled` are marked as
    shipped with the app (read-only)."""
    return [_model_row(info, info.name == active_name, info.name in bundled) for info in infos]


def _model_row(info: ModelInfo, active: bool, bundled: bool) -> dict[str, Any]:
    metadata = info.metadata
    metrics = metadata.get("metrics", {})
    config = metadata.get("config", {})
    data = metadata.get("data", {})
    rows = data.get("rows", {})
    return {
        "active": active,
        "name": info.name,
        "bundled": bundled,
        "created": str(metadata.get("created", ""))[:16].replace("T", " "),  # to the minute: it only tells runs apart
        "preset": metadata.get("preset") or "",
        "family": config.get("family", ""),
        "layers": ", ".join(map(str, config.get("layer_sizes", []))),
        "network": _network(metadata.get("preset") or "", config),
        "accuracy": metrics.get("accuracy"),
        "macro_f1": metrics.get("macro_f1"),
        "evaluated_on": metadata.get("evaluated_on", ""),
        # Scores compare fairly only between models trained on the same data: same source and fingerprint.
        "data": f"{data.get('source') or ''} · {str(data.get('fingerprint') or '')[:8]}".strip(" ·"),
        "rows": sum(rows.values()) if rows else None,
        "epochs": metadata.get("epochs_run"),
        "train_seconds": metadata.get("train_seconds"),
        "device": metadata.get("device", ""),
        "problem": info.broken or "",
    }


def _network(preset: str, config: dict[str, Any]) -> str:
    """Preset, family and layer sizes in one short column ("default · mlp 64, 32"), so the table fits a screen."""
    layers = ", ".join(map(str, config.get("layer_sizes", [])))
    shape = " ".join(part for part in (str(config.get("family", "")), layers) if part)
    return " · ".join(part for part in (preset, shape) if part)


def detail_rows(values: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A model's saved settings, data or versions as (name, value) rows a person reads: nested entries get
    dotted names ("rows.train"), lists are joined with commas, yes/no is ✓/✗ and a missing value is "–"
    (where the raw JSON said null)."""
    rows = []
    for name, value in values.items():
        if isinstance(value, dict):
            rows.extend(detail_rows(value, f"{prefix}{name}."))
        else:
            rows.append((f"{prefix}{name}", _readable(value)))
    return rows


def _readable(value: Any) -> str:
    if value is None or value == []:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_readable, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def comparison_rows(scores: Sequence[tuple[str, Evaluation]]) -> list[dict[str, Any]]:
    """The comparison table: per model, accuracy, macro-F1, ROC AUC and F1 per class ("f1_<label>"), best
    accuracy first (ties keep their order, so the active model, scored first, leads among equals)."""
    rows = [
        {"model": name, "accuracy": evaluation.accuracy, "macro_f1": evaluation.macro_f1,
         "roc_auc": evaluation.roc_auc, **{f"f1_{metrics.label}": metrics.f1 for metrics in evaluation.per_class}}
        for name, evaluation in scores
    ]
    return sorted(rows, key=lambda row: -row["accuracy"])


def filter_examples(rows: Sequence[dict], *, contains: str = "", true_label: str | None = None) -> list[dict]:
    """Misclassified examples whose text contains `contains` (ignoring case) and whose true label matches."""
    needle = contains.casefold().strip()
    return [
        row for row in rows
        if (not needle or needle in str(row["text"]).casefold()) and (true_label is None or row["true"] == true_label)
    ]


def examples_frame(rows: Sequence[dict], classes: Sequence[str]) -> pd.DataFrame:
    """Misclassified examples as a table: text, true and predicted label, confidence, then one probability
    column per class, even when there are no rows."""
    return pd.DataFrame(list(rows), columns=[*EXAMPLE_COLUMNS, *map(probability_column, classes)])


def prediction_frame(predictions: FilePredictions, empty_reason: str) -> pd.DataFrame:
    """A predicted file as a table (and CSV download): every input column and row in file order, then the predicted
    label (as the model's decision threshold decides), its probability as the confidence, one probability column
    per class and a "reason" column that says why a row (one with an empty text, given `empty_reason`) has no
    prediction. Added columns never overwrite the file's own: a name the
    file already uses gets a trailing underscore."""
    table, probabilities, predicted = predictions.table, predictions.probabilities, predictions.predicted
    indices = predictions.label_indices
    frame = pd.DataFrame(list(table.rows), columns=list(table.header), dtype=object)
    added = {
        "predicted": [predictions.classes[index] if has else "" for index, has in zip(indices, predicted)],
        "confidence": probabilities[np.arange(len(indices)), indices],
        **{probability_column(label): probabilities[:, position] for position, label in enumerate(predictions.classes)},
        "reason": np.where(predicted, "", empty_reason),
    }
    for name, values in added.items():
        frame[_free_name(name, table.header)] = values
    return frame


def _free_name(name: str, taken: Sequence[str]) -> str:
    while name in taken:
        name += "_"
    return name


def suspects_frame(suspects: Sequence[Suspect]) -> pd.DataFrame:
    """One row per suspect label, likeliest mistake first: file row, text, label, suggested label, confidence."""
    return pd.DataFrame([suspect.to_dict() for suspect in suspects], columns=list(SUSPECT_COLUMNS))
