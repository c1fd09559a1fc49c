"""Evaluate: how good the active model is, how it compares with other models on the same file, where it goes
wrong, and how it learned."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core.errors import StudioError, UnknownLabelError
from core.evaluate import (
    MAX_MATRIX_CLASSES,
    THRESHOLDS,
    Evaluation,
    memorised_accuracy,
    probability_column,
    top_confusions,
)
from core.experiment import EvaluationResult
from core.safety import to_safe_csv
from core.workspace import Workspace
from pages import _tables, _ui
from pages._ui import t

ALL = "__all__"
COMPARISON_KEY = "evaluate_comparison"
# The uploaded file (by its id) the user chose to score on the rows with labels the model knows.
KNOWN_ONLY_KEY = "evaluate_known_only"
# Models scored at once beside the active one: each is loaded in turn, so more only means waiting longer.
MAX_COMPARED = 5


# The headline numbers: accuracy, macro-F1, ROC AUC and what they were measured on.
def headline_ui(result: EvaluationResult) -> None:
    evaluation = result.evaluation
    accuracy, macro_f1, auc, rows = st.columns(4)
    accuracy.metric(t("accuracy"), f"{evaluation.accuracy:.1%}", help=t("accuracy_help"))
    macro_f1.metric(t("macro_f1"), f"{evaluation.macro_f1:.3f}", help=t("macro_f1_help"))
    auc.metric(t("roc_auc"), f"{evaluation.roc_auc:.3f}" if evaluation.roc_auc is not None else "–",
               help=t("roc_auc_help"))
    rows.metric(t("rows_evaluated"), f"{result.rows:,}")
    source = t(f"split_{result.source}") if result.source in ("test", "validation") else _ui.plain(result.source)
    st.caption(t("evaluated_on", source=source))
    left_out = result.dataset.report.dropped_unknown if result.dataset is not None else 0
    if left_out:
        st.caption(t("evaluated_left_out", count=left_out, classes=_ui.plain(", ".join(evaluation.classes))))


# A plain warning when the model learnt its training rows by heart (train 100%, test 77%), with what to try.
def memorised_ui(result: EvaluationResult, history: list[dict]) -> None:
    train_accuracy = memorised_accuracy(history, result.evaluation.accuracy)
    if train_accuracy is not None:
        st.warning(t("memorised", train=train_accuracy, held_out=result.evaluation.accuracy,
                     transfer=t("preset_transfer"), dropout=t("dropout"), early=t("early_stopping")),
                   icon=":material/school:")


# Precision, recall and F1 for every class.
def per_class_ui(evaluation: Evaluation) -> None:
    st.subheader(t("per_class"))
    frame = pd.DataFrame([vars(metrics) for metrics in evaluation.per_class])
    score = {"format": "%.3f", "min_value": 0.0, "max_value": 1.0}
    st.dataframe(frame, hide_index=True, column_config={
        "label": st.column_config.TextColumn(t("label")),
        "precision": st.column_config.ProgressColumn(t("precision"), **score),
        "recall": st.column_config.ProgressColumn(t("recall"), **score),
        "f1": st.column_config.ProgressColumn("F1", **score),
        "support": st.column_config.NumberColumn(t("support")),
    })


# Which classes get confused with which: counts, shaded by the share of each true class; with many classes,
# the commonest confusions as a table instead, since a matrix of 50 rows is too tall to read.
def confusion_ui(evaluation: Evaluation) -> None:
    if len(evaluation.classes) > MAX_MATRIX_CLASSES:
        top_confusions_ui(evaluation)
        return
    st.subheader(t("confusion"))
    rows = [
        {"true": true, "predicted": predicted, "count": count, "share": count / max(sum(row), 1)}
        for true, row in zip(evaluation.classes, evaluation.confusion)
        for predicted, count in zip(evaluation.classes, row)
    ]
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("predicted:N", title=t("predicted"), sort=list(evaluation.classes), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:N", title=t("true"), sort=list(evaluation.classes)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), legend=None),
        tooltip=["true:N", "predicted:N", "count:Q", alt.Tooltip("share:Q", format=".1%")],
    )
    counts = base.mark_text(fontSize=15).encode(
        text="count:Q", color=alt.condition(alt.datum.share > 0.5, alt.value("white"), alt.value("#1e2235")),
    )
    size = max(220, 70 * len(evaluation.classes))
    st.altair_chart((cells + counts).properties(height=size), width="stretch")


def top_confusions_ui(evaluation: Evaluation) -> None:
    st.subheader(t("top_confusions"))
    confusions = top_confusions(evaluation.confusion, evaluation.classes)
    if not confusions:
        st.success(t("no_mistakes"), icon=":material/celebration:")
        return
    st.dataframe(pd.DataFrame([vars(confusion) for confusion in confusions]), hide_index=True, column_config={
        "true": st.column_config.TextColumn(t("true")),
        "predicted": st.column_config.TextColumn(t("predicted")),
        "count": st.column_config.NumberColumn(t("rows")),
        "share": _ui.percent_column(t("share_of_true"), bar=True),
    })
    wrong = sum(map(sum, evaluation.confusion)) - sum(row[i] for i, row in enumerate(evaluation.confusion))
    st.caption(t("top_confusions_caption", classes=len(evaluation.classes), shown=len(confusions), wrong=wrong))


# ROC curve for two classes.
def roc_ui(evaluation: Evaluation) -> None:
    if not evaluation.roc_curve:
        return
    st.subheader(t("roc_curve"))
    curve = pd.DataFrame(evaluation.roc_curve, columns=["fpr", "tpr"])
    line = alt.Chart(curve).mark_line(interpolate="step-after").encode(
        x=alt.X("fpr:Q", title=t("fpr")), y=alt.Y("tpr:Q", title=t("tpr")))
    chance = alt.Chart(pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="fpr:Q", y="tpr:Q")
    st.altair_chart((line + chance).properties(height=300, title=t("auc_title", auc=evaluation.roc_auc,
                                                                    positive=evaluation.classes[1])),
                    width="stretch")


# Two classes: where the line between them is drawn, with live precision, recall and F1 and a PR curve.
def threshold_ui(current: Workspace, evaluation: Evaluation) -> None:
    curve = evaluation.threshold_curve
    if not curve:
        return
    positive, saved = evaluation.classes[1], current.active.predictor.threshold
    st.subheader(t("threshold_title"))
    chosen = st.slider(t("threshold_label", positive=_ui.plain(positive)), THRESHOLDS[0], THRESHOLDS[-1],
                       0.5 if saved is None else float(saved), 0.01, key=f"threshold_{current.active.name}",
                       help=t("threshold_help", positive=_ui.plain(positive)))
    threshold, precision, recall, f1 = curve[THRESHOLDS.index(round(chosen, 2))]
    left, middle, right = st.columns(3)
    left.metric(t("precision"), f"{precision:.3f}")
    middle.metric(t("recall"), f"{recall:.3f}")
    right.metric("F1", f"{f1:.3f}")
    points = pd.DataFrame(curve, columns=["threshold", "precision", "recall", "f1"])
    line = alt.Chart(points).mark_line().encode(
        x=alt.X("recall:Q", title=t("recall")), y=alt.Y("precision:Q", title=t("precision")),
        tooltip=[alt.Tooltip(f"{name}:Q", format=".2f") for name in ("threshold", "precision", "recall", "f1")])
    marker = alt.Chart(points[points["threshold"] == threshold]).mark_point(size=120, filled=True, color="#f97316") \
        .encode(x="recall:Q", y="precision:Q")
    st.altair_chart((line + marker).properties(height=260, title=t("pr_curve")), width="stretch")
    save, reset = st.columns(2)
    if save.button(t("threshold_save"), icon=":material/save:", disabled=saved == threshold):
        if _ui.attempt(lambda: current.set_threshold(threshold)):
            st.rerun()
    if reset.button(t("threshold_reset"), disabled=saved is None):
        if _ui.attempt(lambda: current.set_threshold(None)):
            st.rerun()
    st.caption(t("threshold_saved", threshold=saved) if saved is not None else t("threshold_none"))
    st.caption(t("threshold_metrics_note"))


# How the model learned, epoch by epoch.
def history_ui(history: list[dict]) -> None:
    if not history:
        return
    st.subheader(t("training_curves"))
    _ui.training_charts_ui([], history)


# The mistakes, most confident first, with filters.
def mistakes_ui(evaluation: Evaluation) -> None:
    st.subheader(t("mistakes"))
    if not evaluation.misclassified:
        st.success(t("no_mistakes"), icon=":material/celebration:")
        return
    search, true_label = st.columns([3, 1])
    contains = search.text_input(t("filter_text"), key="mistakes_text", live=True, placeholder=t("filter_placeholder"))
    with true_label:
        label = _ui.translated_selectbox(t("filter_true"), [ALL, *evaluation.classes], "mistakes_true",
                                         format_func=lambda value: t("all_classes") if value == ALL else value)
    rows = _tables.filter_examples(evaluation.misclassified, contains=contains,
                                   true_label=None if label == ALL else label)
    frame = _tables.examples_frame(rows, evaluation.classes)
    st.dataframe(frame, hide_index=True, column_config={
        "text": st.column_config.TextColumn(t("text"), width="large"),
        "true": st.column_config.TextColumn(t("true")),
        "predicted": st.column_config.TextColumn(t("predicted")),
        "confidence": _ui.percent_column(t("confidence"), bar=True),
        **{probability_column(c): _ui.percent_column(f"P({c})") for c in evaluation.classes},
    })
    st.caption(t("mistakes_caption", shown=len(rows), total=len(evaluation.misclassified)))
    # The table's own CSV export is off (client.disableDataExport): it writes cells raw, formulas included.
    st.download_button(t("download_mistakes"), data=lambda: to_safe_csv(frame), file_name="mistakes.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="download_mistakes")


# Other saved models scored on the same uploaded file, side by side with the active one.
def compare_ui(current: Workspace, result: EvaluationResult) -> None:
    if result.dataset is None:  # the saved test split is gone; only an uploaded file can be scored again
        return
    st.subheader(t("compare_title", source=_ui.plain(result.source)))
    candidates = current.comparable_models()
    if not candidates:
        st.caption(t("compare_none", classes=_ui.plain(", ".join(result.evaluation.classes))))
        return
    chosen = st.multiselect(t("compare_pick"), candidates, key="compare_models", max_selections=MAX_COMPARED)
    if st.button(t("compare_button"), disabled=not chosen, icon=":material/compare_arrows:"):
        try:
            st.session_state[COMPARISON_KEY] = (result, _tables.comparison_rows(current.compare(chosen)))
        except StudioError as error:
            _ui.show_error(error)
    compared, rows = st.session_state.get(COMPARISON_KEY, (None, None))
    if compared is not result:  # a comparison made on another file or for another model
        return
    score = {"format": "%.3f", "min_value": 0.0, "max_value": 1.0}
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "model": st.column_config.TextColumn(t("name")),
        "accuracy": _ui.percent_column(t("accuracy"), bar=True),
        "macro_f1": st.column_config.NumberColumn(t("macro_f1"), format="%.3f"),
        "roc_auc": st.column_config.NumberColumn(t("roc_auc"), format="%.3f"),
        **{f"f1_{label}": st.column_config.ProgressColumn(f"F1 {label}", **score) for label in result.evaluation.classes},
    })
    st.caption(t("compare_caption", rows=result.rows))


# Evaluate the active model on another labelled file; the results below belong to the file while it is shown
# here, and to the model's own test split once it is removed.
def upload_ui(current: Workspace) -> None:
    with st.expander(t("evaluate_file")):
        st.caption(t("evaluate_file_help"))
        file = st.file_uploader(t("test_upload_label"), type=["csv", "tsv", "txt"], key="evaluate_upload")
        if file is None:
            current.show_own_evaluation()
            return
        known_only = st.session_state.get(KNOWN_ONLY_KEY) == file.file_id
        error = _ui.handle_upload(file, f"evaluate_{known_only}",
                                  lambda upload: current.evaluate_upload(upload, known_labels_only=known_only))
        if isinstance(error, UnknownLabelError) and st.button(t("evaluate_known_only"), icon=":material/filter_alt:"):
            st.session_state[KNOWN_ONLY_KEY] = file.file_id
            st.rerun()


current = _ui.workspace()
_ui.page_header("evaluate_title", "evaluate_caption")
if _ui.need_model_ui(current):
    st.caption(t("sidebar_active", name=_ui.plain(current.active.name)))
    upload_ui(current)
    result = current.evaluation
    if result is None:
        st.info(t("no_evaluation"), icon=":material/info:")
    else:
        headline_ui(result)
        memorised_ui(result, current.active.info.metadata.get("history", []))
        compare_ui(current, result)
        left, right = st.columns(2)
        with left:
            confusion_ui(result.evaluation)
        with right:
            roc_ui(result.evaluation)
        per_class_ui(result.evaluation)
        threshold_ui(current, result.evaluation)
        history_ui(current.active.info.metadata.get("history", []))
        mistakes_ui(result.evaluation)
