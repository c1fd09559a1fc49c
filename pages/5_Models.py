"""Models: every saved model with its scores, settings and data side by side; load one for predictions, see its
details, rename, download or delete it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.config import SETTINGS
from core.errors import StudioError
from core.litert import QUANTIZATIONS
from core.registry import MODEL_FILE, ModelInfo
from core.workspace import Workspace
from pages import _compare, _tables, _ui
from pages._ui import t

SELECTED_KEY = "models_selected"
# The parts of metadata.json the details show, with their headings.
DETAILS = (("config", "details_config"), ("data", "details_data"), ("versions", "details_versions"))
# The table's columns in order; "bundled" and "problem" exist only when some model is bundled or broken.
TABLE_COLUMNS = ("active", "name", "bundled", "created", "network", "accuracy", "macro_f1", "evaluated_on", "data",
                 "rows", "run", "problem")
# A selection to apply on the next run: a widget's value cannot change after it is drawn in this run.
PENDING_KEY = "models_pending_selection"


# The registry as a sortable table, broken models with the reason. Preset, family and layers share one column
# and epochs, seconds and device another, to keep it narrow; where it is still wider than the page (beside the
# sidebar at 1400 px, or on a phone) the active mark and the whole name stay pinned while the rest scrolls.
def table_ui(current: Workspace, infos: list[ModelInfo]) -> None:
    active = current.active.name if current.active else None
    frame = _tables.models_frame(infos, active, current.shelf.bundled_names())
    # The split a model was scored on ("test", "validation") in the session's language; a file name stays.
    frame["evaluated_on"] = [t(f"split_{split}") if split in ("test", "validation") else split
                             for split in frame["evaluated_on"]]
    frame["run"] = [_run_summary(epochs, seconds, device)
                    for epochs, seconds, device in zip(frame["epochs"], frame["train_seconds"], frame["device"])]
    shown = [column for column in TABLE_COLUMNS if column in frame.columns]
    small = {"width": "small"}
    st.dataframe(frame, hide_index=True, column_order=shown, column_config={
        "active": st.column_config.CheckboxColumn(t("active"), pinned=True, **small),
        # No width: Streamlit sizes the column to the longest name (up to 500 px), so names are never cut.
        "name": st.column_config.TextColumn(t("name"), pinned=True),
        "bundled": st.column_config.CheckboxColumn(t("bundled"), **small),
        "created": st.column_config.TextColumn(t("created")),
        "network": st.column_config.TextColumn(t("network_column"), help=t("network_column_help")),
        "accuracy": _ui.percent_column(t("accuracy"), bar=True),
        "macro_f1": st.column_config.NumberColumn(t("macro_f1"), format="%.3f", **small),
        "evaluated_on": st.column_config.TextColumn(t("evaluated_on_column"), **small),
        "data": st.column_config.TextColumn(t("data_column"), help=t("data_column_help")),
        "rows": st.column_config.NumberColumn(t("rows"), **small),
        "run": st.column_config.TextColumn(t("run_column"), help=t("run_column_help")),
        "problem": st.column_config.TextColumn(t("problem")),
    })
    if current.public:  # the server's folder says nothing to a visitor; how long models last does
        st.caption(t("models_session_only"))
    else:
        st.caption(t("models_folder", folder=_ui.plain(str(current.registry.root))))


def _run_summary(epochs: Any, seconds: Any, device: Any) -> str:
    """"12 epochs · 35.2 s · CPU (2 cores)" in the session's language; parts a model did not record are left out."""
    parts = []
    if pd.notna(epochs):
        parts.append(t("run_epochs", count=int(epochs)))
    if pd.notna(seconds):
        parts.append(f"{float(seconds):.1f} s")
    if isinstance(device, str) and device:
        parts.append(_ui.device_text(device))
    return " · ".join(parts)


# Make a model the active one for Evaluate and Predict.
def load_ui(current: Workspace, info: ModelInfo) -> None:
    is_active = current.active is not None and current.active.name == info.name
    if st.button(t("load_model"), type="primary", icon=":material/play_circle:",
                 disabled=bool(info.broken) or is_active):
        if _ui.attempt(lambda: current.activate_model(info.name)):
            st.rerun()
    if info.broken:
        _ui.show_error(t("model_broken", name=info.name, reason=info.broken))


# Download the model.keras file (for Keras with this app's code), a SavedModel (for TensorFlow alone), or a
# TensorFlow Lite folder (for ai-edge-litert and numpy, without TensorFlow); a model over the sentence encoder's
# vectors has only the first, and a line saying why.
def download_ui(current: Workspace, info: ModelInfo) -> None:
    if info.broken:
        return
    model_file = info.path / MODEL_FILE
    st.download_button(t("download_model"), data=model_file.read_bytes, file_name=f"{info.name}.keras",
                       mime="application/octet-stream", icon=":material/download:", on_click="ignore")
    if info.reads_encoder:
        st.caption(t("export_reads_encoder", format=t("export_formats")))
        return
    st.download_button(t("download_saved_model"), data=lambda: current.saved_model_zip(info.name),
                       file_name=f"{info.name}-savedmodel.zip", mime="application/zip", icon=":material/download:",
                       on_click="ignore", help=t("download_saved_model_help"))
    quantize = st.radio(t("tflite_quantize"), QUANTIZATIONS, format_func=lambda option: t(f"tflite_quantize_{option}"),
                        horizontal=True, key=f"tflite_quantize_{info.name}")
    suffix = "" if quantize == "none" else f"-{quantize}"
    st.download_button(t("download_tflite"), data=lambda: current.tflite_zip(info.name, quantize),
                       file_name=f"{info.name}-tflite{suffix}.zip", mime="application/zip", icon=":material/download:",
                       on_click="ignore", help=t("download_tflite_help"))


# Give the model another name; the name it will really get shows as it is typed.
def rename_ui(current: Workspace, info: ModelInfo) -> None:
    typed = st.text_input(t("new_name"), value=info.name, key=f"rename_text_{info.name}", max_chars=64,
                          live=_ui.LIVE_DELAY)
    planned = _ui.saved_name_ui(typed)
    if not st.button(t("rename"), key=f"rename_{info.name}", disabled=planned in (None, info.name)):
        return
    try:
        renamed = current.rename_model(info.name, typed)
    except StudioError as error:
        _ui.show_error(error)
    else:
        st.session_state[PENDING_KEY] = renamed.name
        st.rerun()


# Delete the model, after an explicit confirmation.
def delete_ui(current: Workspace, info: ModelInfo) -> None:
    confirmed = st.checkbox(t("delete_confirm", name=_ui.plain(info.name)), key=f"delete_confirm_{info.name}")
    if st.button(t("delete"), disabled=not confirmed, icon=":material/delete:", key=f"delete_button_{info.name}"):
        if _ui.attempt(lambda: current.delete_model(info.name)):
            st.toast(t("deleted", name=_ui.plain(info.name)))
            st.rerun()


# Everything saved with the model: its settings, the data it learnt from, the library versions, as plain rows
# (not raw JSON): settings under their Train page labels, a missing value as "–".
def details_ui(info: ModelInfo) -> None:
    if info.broken:
        return
    with st.expander(t("model_details", name=_ui.plain(info.name))):
        for column, (part, title) in zip(st.columns(3), DETAILS):
            rows = _tables.detail_rows(info.metadata.get(part) or {})
            names = [t(SETTINGS[name].label) if part == "config" and name in SETTINGS else name for name, _ in rows]
            column.caption(t(title))
            column.dataframe(pd.DataFrame({"name": names, "value": [value for _, value in rows]}), hide_index=True,
                             column_config={"name": st.column_config.TextColumn(t("details_name")),
                                            "value": st.column_config.TextColumn(t("details_value"))})


# Choose a model, then act on it.
def actions_ui(current: Workspace, infos: list[ModelInfo]) -> None:
    names = [info.name for info in infos]
    wanted = st.session_state.pop(PENDING_KEY, None) or st.session_state.get(SELECTED_KEY)
    if wanted not in names:
        wanted = current.active.name if current.active and current.active.name in names else names[0]
    st.session_state[SELECTED_KEY] = wanted
    name = st.selectbox(t("choose_model"), names, key=SELECTED_KEY)
    info = infos[names.index(name)]
    use, manage = st.columns(2, gap="large")
    with use:
        load_ui(current, info)
        download_ui(current, info)
    with manage:
        if current.shelf.is_bundled(info.name):
            st.caption(t("bundled_read_only", name=_ui.plain(info.name)))
        else:
            rename_ui(current, info)
            delete_ui(current, info)
    details_ui(info)


# Compare runs: overlay the training curves and the scores of 2-4 saved models (their saved metadata, nothing rerun).
def compare_runs_ui(infos: list[ModelInfo]) -> None:
    usable = [info for info in infos if not info.broken]
    if len(usable) < _compare.MIN_RUNS:
        return
    st.subheader(t("runs_title"))
    names = st.multiselect(t("runs_pick"), [info.name for info in usable], key="runs_compared",
                           max_selections=_compare.MAX_RUNS, help=t("runs_pick_help"))
    if len(names) < _compare.MIN_RUNS:
        st.caption(t("runs_hint", most=_compare.MAX_RUNS))
        return
    chosen = [next(info for info in usable if info.name == name) for name in names]
    curves = _compare.curves_frame(chosen)
    loss, accuracy = st.columns(2)
    loss.altair_chart(_compare.curves_chart(curves, "loss", names), width="stretch")
    accuracy.altair_chart(_compare.curves_chart(curves, "accuracy", names), width="stretch")
    without = [name for name in names if name not in set(curves.model)]
    if without:
        st.caption(t("runs_no_history", names=", ".join(map(_ui.plain, without))))
    st.altair_chart(_compare.scores_chart(_compare.scores_frame(chosen), names), width="stretch")
    if not _compare.same_data(chosen):
        st.warning(t("runs_other_data"), icon=":material/compare_arrows:")


current = _ui.workspace()
_ui.page_header("models_title", "models_caption")
infos = current.models()
if not infos:
    st.info(t("no_models"), icon=":material/info:")
    st.page_link(_ui.TRAIN, label=t("go_train"), icon=_ui.ICONS[_ui.TRAIN])
else:
    table_ui(current, infos)
    actions_ui(current, infos)
    compare_runs_ui(infos)
