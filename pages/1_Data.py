"""Data: upload a CSV or pick a sample, then see what was read, what was dropped and what the model will see."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.config import TrainConfig, preset
from core.data import DELIMITER_KEYS, Dataset
from core.health import LONG_TOKENS, NEAR_DUPLICATE_SECONDS, SHORT_TOKENS, HealthReport, Row, TextGroup, check_health
from core.safety import to_safe_csv
from core.samples import sample_names
from core.suspects import DEFAULT_FOLDS, MAX_FOLDS, MIN_FOLDS, Suspect
from core.text import tokenize
from core.workspace import Workspace
from pages import _tables, _ui
from pages._ui import t

PREVIEW_ROWS = 500
TOKEN_EXAMPLES = 6
# Groups, rows or labels shown per health check; the counts above them are complete.
HEALTH_EXAMPLES = 20
HEALTH_KEY = "data_health"


# Where the training data comes from: an uploaded file or a bundled sample.
def source_ui(current: Workspace) -> None:
    upload_tab, sample_tab = st.tabs([t("tab_upload"), t("tab_sample")])
    with upload_tab:
        file = st.file_uploader(t("upload_label"), type=["csv", "tsv", "txt"], key="data_upload",
                                help=t("upload_help"))
        _ui.handle_upload(file, "data", current.data.load_upload)
    with sample_tab:
        name = _ui.translated_selectbox(t("sample_label"), sample_names(), "data_sample",
                                        format_func=lambda sample: t(f"sample_{sample}"))
        if st.button(t("load_sample"), icon=":material/dataset:"):
            _ui.attempt(lambda: current.data.load_sample(name))


# What the loader found: file, encoding, delimiter, columns and row counts.
def report_ui(dataset: Dataset) -> None:
    report = dataset.report
    st.subheader(t("data_loaded", source=_ui.plain(report.source)))
    dropped = report.rows_read - report.rows_kept
    read, kept, removed, classes = st.columns(4)
    read.metric(t("rows_read"), f"{report.rows_read:,}")
    kept.metric(t("rows_kept"), f"{report.rows_kept:,}")
    removed.metric(t("rows_dropped"), f"{dropped:,}")
    classes.metric(t("classes"), len(dataset.classes))
    st.caption(t("report_line", encoding=report.encoding,
                 delimiter=t(DELIMITER_KEYS.get(report.delimiter, "delimiter_other")),
                 text_column=_ui.plain(report.text_column), label_column=_ui.plain(report.label_column)))


# Which columns hold the text and the label; changing them reads the file again.
def columns_ui(current: Workspace) -> None:
    report = current.dataset.report
    if not current.data.can_change_columns:
        return
    version = current.data.version
    text_box, label_box, apply_box = st.columns([2, 2, 1], vertical_alignment="bottom")
    text_column = text_box.selectbox(t("text_column"), report.columns, key=f"text_column_{version}",
                                     index=report.columns.index(report.text_column))
    label_column = label_box.selectbox(t("label_column"), report.columns, key=f"label_column_{version}",
                                       index=report.columns.index(report.label_column))
    unchanged = (text_column, label_column) == (report.text_column, report.label_column)
    if apply_box.button(t("apply_columns"), disabled=unchanged, key=f"apply_columns_{version}"):
        if _ui.attempt(lambda: current.data.reload_columns(text_column, label_column)):
            st.rerun()


# Rows dropped and why, invisible characters removed from labels, and label spellings merged into one class.
def cleaning_ui(dataset: Dataset) -> None:
    report = dataset.report
    reasons = [
        t("dropped_missing", count=report.dropped_missing) if report.dropped_missing else None,
        t("dropped_duplicates", count=report.dropped_duplicates) if report.dropped_duplicates else None,
        t("dropped_conflicting", count=report.dropped_conflicting) if report.dropped_conflicting else None,
        t("labels_with_invisible", count=report.labels_with_invisible) if report.labels_with_invisible else None,
    ]
    reasons = [reason for reason in reasons if reason]
    if reasons:
        st.info("\n".join(f"- {reason}" for reason in reasons), icon=":material/filter_alt:")
    if report.label_merges:
        st.markdown(t("label_merges"))
        merges = pd.DataFrame({t("kept_label"): list(report.label_merges),
                               t("merged_variants"): [", ".join(v) for v in report.label_merges.values()]})
        st.dataframe(merges, hide_index=True)


# How many rows each class has.
def class_balance_ui(dataset: Dataset) -> None:
    st.subheader(t("class_balance"))
    counts = dataset.class_counts()
    st.altair_chart(_ui.bar_chart(counts, value_title=t("rows")), width="stretch")


# Data health (core.health): one line per check with its count, and its examples and advice when opened.
def health_ui(current: Workspace) -> None:
    config = current.job.config if current.job is not None else preset("default")
    report = _health(current, config)
    st.subheader(t("health_title"))
    st.caption(t("health_caption", rows=report.rows, seconds=report.seconds))
    if not report.near_complete:
        st.caption(t("health_near_partial", seconds=NEAR_DUPLICATE_SECONDS))
    _duplicates_ui(report)
    _leaks_ui(report, config)
    _lengths_ui(report)
    _languages_ui(report)
    _imbalance_ui(report)
    _label_typos_ui(report)


def _health(current: Workspace, config: TrainConfig) -> HealthReport:
    """The report, computed once per dataset, test file and split settings (a second on 50,000 rows), not per rerun."""
    signature = (current.data.version, id(current.test_dataset), config.validation_split, config.test_split,
                 config.seed)
    kept = st.session_state.get(HEALTH_KEY)
    if kept is None or kept[0] != signature:
        kept = st.session_state[HEALTH_KEY] = (signature, check_health(current.dataset, config, current.test_dataset))
    return kept[1]


def _check_expander(found: bool, label: str) -> DeltaGenerator:
    return st.expander(label, icon=":material/warning:" if found else ":material/check_circle:")


def _rows_frame(rows: list[Row], groups: list[int] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({t("health_part"): [t(f"health_part_{row.part}") for row in rows],
                          t("suspects_row"): [row.row for row in rows], t("text"): [row.text for row in rows],
                          t("label"): [row.label for row in rows]})
    if groups is not None:
        frame.insert(0, t("health_group"), groups)
    return frame


def _groups_table_ui(groups: tuple[TextGroup, ...]) -> None:
    shown = groups[:HEALTH_EXAMPLES]
    rows = [row for group in shown for row in group.rows]
    numbers = [number for number, group in enumerate(shown, start=1) for _ in group.rows]
    st.dataframe(_rows_frame(rows, numbers), hide_index=True)
    st.caption(t("health_shown", shown=len(shown), total=len(groups)))


def _duplicates_ui(report: HealthReport) -> None:
    found = bool(report.duplicates)
    label = t("health_duplicates", groups=len(report.duplicates), rows=report.duplicate_rows) if found \
        else t("health_duplicates_none")
    with _check_expander(found, label):
        st.caption(t("health_duplicates_help"))
        conflicting = sum(group.labels_differ for group in report.duplicates)
        if conflicting:
            st.warning(t("health_conflicting", count=conflicting), icon=":material/label_off:")
        if found:
            _groups_table_ui(report.duplicates)


def _leaks_ui(report: HealthReport, config: TrainConfig) -> None:
    found = bool(report.leaks)
    label = t("health_leaks", groups=len(report.leaks), rows=report.test_rows) if found else t("health_leaks_none")
    with _check_expander(found, label):
        if report.leak_source == "test_file":
            st.caption(t("health_leaks_file_help"))
        else:
            st.caption(t("health_leaks_split_help", rows=report.test_rows, share=config.test_split, seed=config.seed))
        if found:
            _groups_table_ui(report.leaks)


def _lengths_ui(report: HealthReport) -> None:
    for rows, key, tokens in ((report.short, "short", SHORT_TOKENS), (report.long, "long", LONG_TOKENS)):
        found = bool(rows)
        label = t(f"health_{key}", count=len(rows), tokens=tokens) if found else t(f"health_{key}_none", tokens=tokens)
        with _check_expander(found, label):
            st.caption(t(f"health_{key}_help", tokens=tokens))
            if found:
                st.dataframe(_rows_frame(list(rows[:HEALTH_EXAMPLES])), hide_index=True)
                st.caption(t("health_shown", shown=min(len(rows), HEALTH_EXAMPLES), total=len(rows)))


def _languages_ui(report: HealthReport) -> None:
    summary = " · ".join(f"{t(f'language_{language}')} {count:,} ({count / max(report.rows, 1):.0%})"
                         for language, count in report.languages.items() if count)
    with _check_expander(report.mixed_languages, t("health_languages", summary=summary)):
        st.caption(t("health_languages_help"))
        if report.mixed_languages:
            st.info(t("health_mixed"), icon=":material/translate:")
        for language, examples in report.language_examples.items():
            if examples:
                st.markdown(f"**{t(f'language_{language}')}**")
                st.dataframe(pd.DataFrame({t("text"): examples[:3]}), hide_index=True)


def _imbalance_ui(report: HealthReport) -> None:
    imbalance = report.imbalance
    key = "health_imbalance" if imbalance.flagged else "health_imbalance_none"
    label = t(key, largest=_ui.plain(imbalance.largest), smallest=_ui.plain(imbalance.smallest), ratio=imbalance.ratio)
    with _check_expander(imbalance.flagged, label):
        st.caption(t("health_imbalance_help", setting=t("class_weight"), value=t("class_weight_balanced")))


def _label_typos_ui(report: HealthReport) -> None:
    typos = report.label_typos
    with _check_expander(bool(typos), t("health_typos", count=len(typos)) if typos else t("health_typos_none")):
        st.caption(t("health_typos_help"))
        if typos:
            st.dataframe(pd.DataFrame({
                t("label"): [typo.label for typo in typos], t("rows"): [typo.rows for typo in typos],
                t("health_likely"): [typo.likely for typo in typos],
                t("health_likely_rows"): [typo.likely_rows for typo in typos],
                t("health_reason"): [t(f"health_reason_{typo.reason}") for typo in typos],
            }), hide_index=True)


# The first rows as read.
def preview_ui(dataset: Dataset) -> None:
    st.subheader(t("preview"))
    shown = min(len(dataset), PREVIEW_ROWS)
    frame = pd.DataFrame({t("text"): dataset.texts[:shown], t("label"): dataset.labels[:shown]})
    st.dataframe(frame, hide_index=True, height=300)
    st.caption(t("preview_caption", shown=shown, total=len(dataset)))


# Exactly the tokens the model reads, so Chinese character splitting is visible.
def tokens_ui(dataset: Dataset) -> None:
    st.subheader(t("tokens"))
    st.caption(t("tokens_help"))
    texts = _spread_examples(dataset, TOKEN_EXAMPLES)
    tokens = tokenize(texts)
    frame = pd.DataFrame({"text": texts, "tokens": tokens, "count": [len(row) for row in tokens]})
    st.dataframe(frame, hide_index=True, column_config={
        "text": st.column_config.TextColumn(t("text"), width="medium"),
        "tokens": st.column_config.ListColumn(t("tokens_column"), width="large"),
        "count": st.column_config.NumberColumn(t("token_count"), width="small"),
    })


def _spread_examples(dataset: Dataset, limit: int) -> list[str]:
    """Texts evenly spread over the file, so a file of several parts (e.g. English then Chinese) shows each."""
    step = max(len(dataset) / limit, 1)
    return [dataset.texts[int(position * step)] for position in range(min(limit, len(dataset)))]


# Rows whose label looks wrong to models that never saw them (core.suspects); the user fixes some and retrains.
def suspects_ui(current: Workspace) -> None:
    st.subheader(t("suspects_title"))
    st.caption(t("suspects_help"))
    folds_box, find_box = st.columns([1, 3], vertical_alignment="bottom")
    folds = folds_box.number_input(t("suspects_folds"), MIN_FOLDS, MAX_FOLDS, DEFAULT_FOLDS, key="suspects_folds")
    if find_box.button(t("suspects_find"), icon=":material/troubleshoot:", disabled=current.training):
        bar = st.progress(0.0, text=t("suspects_running", done=0, folds=folds))
        _ui.attempt(lambda: current.data.find_suspects(int(folds), on_fold=lambda done, total: bar.progress(
            done / total, text=t("suspects_running", done=done, folds=total))))
        bar.empty()
    suspects = current.data.suspects
    if suspects is None:
        return
    if not suspects:
        st.success(t("suspects_none"), icon=":material/check_circle:")
        return
    suspect_table_ui(suspects, len(current.dataset))
    fix_ui(current, suspects)


# The suspects, likeliest first, and the same list as a CSV download.
def suspect_table_ui(suspects: list[Suspect], rows: int) -> None:
    st.caption(t("suspects_found", count=len(suspects), rows=rows))
    frame = _tables.suspects_frame(suspects)
    st.dataframe(frame, hide_index=True, height=300, column_config={
        "row": st.column_config.NumberColumn(t("suspects_row"), format="%d"),
        "text": st.column_config.TextColumn(t("text"), width="large"),
        "label": st.column_config.TextColumn(t("label")),
        "suggested": st.column_config.TextColumn(t("suspects_suggested")),
        "confidence": _ui.percent_column(t("confidence"), bar=True),
    })
    st.download_button(t("suspects_download"), data=lambda: to_safe_csv(frame), file_name="suspect-labels.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore")


# Drop or relabel the chosen suspects, then train again and watch it on the Train page.
def fix_ui(current: Workspace, suspects: list[Suspect]) -> None:
    by_row = {suspect.row: suspect for suspect in suspects}
    chosen = st.multiselect(t("suspects_choose"), list(by_row), key=f"suspects_chosen_{current.data.version}",
                            format_func=lambda row: f"{row}: {by_row[row].label} → {by_row[row].suggested} · "
                                                    f"{by_row[row].text[:60]}",
                            help=t("suspects_choose_help"))
    drop, relabel = st.columns(2)
    for box, key, relabelled in ((drop, "suspects_drop", False), (relabel, "suspects_relabel", True)):
        if box.button(t(key), disabled=not chosen or current.training, help=t("suspects_retrain_help")):
            if _ui.attempt(lambda: current.fix_suspects([by_row[row] for row in chosen], relabel=relabelled)):
                st.switch_page(_ui.TRAIN)


# An optional separate test file, used instead of a random test split.
def test_file_ui(current: Workspace) -> None:
    with st.expander(t("test_file"), expanded=current.test_dataset is not None):
        st.caption(t("test_file_help"))
        file = st.file_uploader(t("test_upload_label"), type=["csv", "tsv", "txt"],
                                key=f"test_upload_{current.data.version}")
        _ui.handle_upload(file, f"test_{current.data.version}", current.data.load_test_upload)
        test = current.test_dataset
        if test is not None:
            st.success(t("test_file_loaded", source=_ui.plain(test.report.source), rows=len(test)),
                       icon=":material/check_circle:")
            if st.button(t("test_file_remove")):
                current.data.clear_test_dataset()
                st.rerun()


current = _ui.workspace()
_ui.page_header("data_title", "data_caption")
source_ui(current)
if current.dataset is None:
    st.info(t("no_data"), icon=":material/info:")
else:
    report_ui(current.dataset)
    columns_ui(current)
    cleaning_ui(current.dataset)
    test_file_ui(current)
    balance, tokens = st.columns(2)
    with balance:
        class_balance_ui(current.dataset)
    with tokens:
        tokens_ui(current.dataset)
    preview_ui(current.dataset)
    health_ui(current)
    suspects_ui(current)
    st.page_link(_ui.TRAIN, label=t("next_train"), icon=_ui.ICONS[_ui.TRAIN])
