"""Train: choose a preset or your own settings, train in the background and watch it learn live."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.config import FAMILIES, PRESETS, SEQUENCE_FAMILIES, TrainConfig, preset
from core.errors import StudioError, TrainingError
from core.samples import DEFAULT_SAMPLE
from core.training import JobStatus, TrainingJob
from core.workspace import Workspace, parse_layer_sizes
from pages import _ui
from pages._ui import t

CUSTOM = "custom"
LEARNING_RATES = (1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 5e-2, 1e-1)
PRESET_KEY = "train_preset"
# Form widgets keep their values for the whole session, so leaving the page and coming back keeps them.
KEEP = {"persist_state": "session"}


# The data this run will train on, or how to get some.
def dataset_ui(current: Workspace) -> bool:
    dataset = current.dataset
    if dataset is None:
        st.info(t("train_need_data"), icon=":material/info:")
        left, right = st.columns(2)
        left.page_link(_ui.DATA, label=t("go_data"), icon=_ui.ICONS[_ui.DATA])
        if right.button(t("use_sample")):
            if _ui.attempt(lambda: current.load_sample(DEFAULT_SAMPLE)):
                st.rerun()
        return False
    classes = ", ".join(dataset.classes)
    st.caption(t("train_on", source=_ui.plain(dataset.report.source), rows=len(dataset),
                 classes=_ui.plain(classes)))
    if current.test_dataset is not None:
        st.caption(t("train_test_file", source=_ui.plain(current.test_dataset.report.source),
                     rows=len(current.test_dataset)))
    return True


# --- the settings form ------------------------------------------------------------------------------------------
def _form_values(config: TrainConfig) -> dict[str, Any]:
    """Widget values (by session-state key) that show `config`."""
    values = {f"train_{name}": value for name, value in config.to_dict().items() if name not in ("preset", "clipnorm")}
    values["train_layer_sizes"] = ", ".join(map(str, config.layer_sizes))
    return values


def _apply_preset() -> None:
    """Fills the form from the chosen preset; "custom" leaves the form as it is for editing."""
    name = st.session_state[PRESET_KEY]
    if name != CUSTOM:
        st.session_state.update(_form_values(preset(name)))


def _init_form() -> None:
    if PRESET_KEY not in st.session_state:
        st.session_state[PRESET_KEY] = "default"
        _apply_preset()


def _config_from_form() -> TrainConfig:
    """The form as a validated TrainConfig.

    Raises:
        ConfigError: a setting is out of range; the message names it.
    """
    state = st.session_state
    chosen = state[PRESET_KEY]
    base = TrainConfig() if chosen == CUSTOM else preset(chosen)
    # Settings without a widget (e.g. gradient clipping) keep the preset's value.
    shown = {name: state[f"train_{name}"] for name in base.to_dict() if name != "preset" and f"train_{name}" in state}
    shown["layer_sizes"] = parse_layer_sizes(state.train_layer_sizes)
    return base.replace(**shown, preset=None if chosen == CUSTOM else chosen)


# Preset: fills the whole form at once.
def preset_ui() -> None:
    _ui.translated_selectbox(t("preset"), [*PRESETS, CUSTOM], PRESET_KEY, on_change=_apply_preset,
                             format_func=lambda name: t(f"preset_{name}"), help=t("preset_help"))


# Architecture: family, layer sizes, text representation.
def model_settings_ui() -> None:
    st.markdown(f"**{t('settings_model')}**")
    family = _ui.translated_selectbox(t("family"), FAMILIES, "train_family", format_func=lambda f: t(f"family_{f}"))
    sequence = family in SEQUENCE_FAMILIES
    st.text_input(t("layer_sizes"), key="train_layer_sizes", help=t("layer_sizes_help"), **KEEP)
    st.number_input(t("vocab_size"), min_value=100, max_value=500_000, step=1000, key="train_vocab_size", **KEEP)
    _ui.translated_selectbox(t("ngrams"), (1, 2, 3), "train_ngrams", disabled=sequence, help=t("ngrams_help"),
                             format_func=lambda n: t(f"ngrams_{n}"))
    st.checkbox(t("normalize_tf_idf"), key="train_normalize_tf_idf", disabled=sequence, help=t("normalize_tf_idf_help"),
                **KEEP)
    st.number_input(t("embedding_dim"), min_value=4, max_value=1024, step=16, key="train_embedding_dim",
                    disabled=not sequence, **KEEP)
    st.number_input(t("sequence_length"), min_value=4, max_value=2000, step=10, value=None, key="train_sequence_length",
                    placeholder=t("auto"), disabled=not sequence, help=t("sequence_length_help"), **KEEP)
    st.checkbox(t("bidirectional"), key="train_bidirectional", disabled=family not in ("lstm", "gru"), **KEEP)
    st.slider(t("dropout"), min_value=0.0, max_value=0.9, step=0.05, key="train_dropout", **KEEP)


# Optimisation: epochs, batches, learning rate, early stopping.
def training_settings_ui() -> None:
    st.markdown(f"**{t('settings_training')}**")
    st.number_input(t("epochs"), min_value=1, max_value=1000, key="train_epochs", **KEEP)
    st.number_input(t("batch_size"), min_value=1, max_value=4096, key="train_batch_size", **KEEP)
    # A slider given a value it does not offer silently moves to its first option, so the preset's rate is
    # always among the options.
    rates = sorted({*LEARNING_RATES, st.session_state.train_learning_rate})
    st.select_slider(t("learning_rate"), rates, key="train_learning_rate", format_func=lambda r: f"{r:g}", **KEEP)
    stop_early = st.checkbox(t("early_stopping"), key="train_early_stopping", help=t("early_stopping_help"), **KEEP)
    st.number_input(t("patience"), min_value=1, max_value=100, key="train_patience", disabled=not stop_early, **KEEP)


# Held-out data and the random seed.
def data_settings_ui(current: Workspace) -> None:
    st.markdown(f"**{t('settings_data')}**")
    st.slider(t("validation_split"), min_value=0.05, max_value=0.5, step=0.05, key="train_validation_split",
              help=t("validation_split_help"), **KEEP)
    has_test_file = current.test_dataset is not None
    st.slider(t("test_split"), min_value=0.0, max_value=0.5, step=0.05, key="train_test_split",
              disabled=has_test_file, help=t("test_split_file") if has_test_file else t("test_split_help"), **KEEP)
    st.number_input(t("seed"), min_value=0, max_value=2**31 - 1, key="train_seed", help=t("seed_help"), **KEEP)
    st.text_input(t("model_name"), key="train_model_name", placeholder=t("model_name_auto"), max_chars=64, **KEEP)


# The settings and the Train button.
def settings_ui(current: Workspace, has_data: bool) -> None:
    _init_form()
    preset_ui()
    model, training, data = st.columns(3, gap="large")
    with model:
        model_settings_ui()
    with training:
        training_settings_ui()
    with data:
        data_settings_ui(current)
    if st.button(t("train_start"), type="primary", icon=":material/play_arrow:", disabled=not has_data):
        try:
            current.start_training(_config_from_form(), st.session_state.get("train_model_name", "").strip())
        except StudioError as error:
            _ui.show_error(error)
        else:
            st.rerun()  # a full run, so the monitor starts polling


# --- the running job ----------------------------------------------------------------------------------------------
def monitor_ui(job: TrainingJob) -> None:
    """Live progress, charts and log; polls while the job runs and reruns the page once it ends."""
    polling = not job.snapshot().done

    @st.fragment(run_every=_ui.POLL_SECONDS if polling else None)
    def live() -> None:
        snapshot = job.snapshot()
        if polling and snapshot.done:
            st.rerun()
        if not snapshot.done:
            status_ui(job, snapshot)
        if snapshot.status == JobStatus.QUEUED:
            return
        if not snapshot.batch_history and not snapshot.done:
            st.caption(t("job_preparing"))  # vocabulary and graph tracing take a few seconds before batch 1
            return
        _ui.training_charts_ui(snapshot.batch_history, snapshot.epoch_history)
        if snapshot.log_lines:
            st.code("\n".join(snapshot.log_lines), language=None)

    live()


# Where the job is: waiting in line (with a Cancel button), training (with progress and a Stop button),
# stopping or saving.
def status_ui(job: TrainingJob, snapshot: Any) -> None:
    text, stop = st.columns([5, 1], vertical_alignment="bottom")
    if snapshot.status == JobStatus.QUEUED:
        text.info(t("job_queued", position=snapshot.queue_position or 1), icon=":material/hourglass_top:")
        stop.button(t("cancel"), key="cancel_training", icon=":material/close:", on_click=job.stop)
        return
    if snapshot.status == JobStatus.STOPPING:
        text.info(t("job_stopping"), icon=":material/stop_circle:")
    elif job.model is not None:
        text.info(t("job_saving"), icon=":material/save:")
    else:
        text.progress(snapshot.progress, text=_ui.job_progress_text(snapshot))
    stop.button(t("stop"), key="stop_training", icon=":material/stop:", on_click=job.stop,
                disabled=snapshot.status == JobStatus.STOPPING or job.model is not None)
    st.caption(t("device", device=snapshot.device))


# How the last run ended: saved (with its score), stopped, or failed with the reason.
def result_ui(current: Workspace) -> None:
    snapshot = current.job.snapshot()
    info, result = current.last_run_info, current.last_run
    if snapshot.status == JobStatus.FAILED:
        _ui.show_error(TrainingError(snapshot.error) if snapshot.error else t("job_failed"))
        return
    if info is None or result is None:  # stopped while still queued: nothing was trained
        st.info(t("job_stopped_nothing"), icon=":material/info:")
        return
    message = t("saved_as", name=_ui.plain(info.name), split=t(f"split_{result.source}"),
                accuracy=result.evaluation.accuracy)
    if snapshot.status == JobStatus.STOPPED:
        message = f"{t('stopped_early', epochs=len(snapshot.epoch_history))} {message}"
    st.success(message, icon=":material/check_circle:")
    left, right = st.columns(2)
    left.page_link(_ui.EVALUATE, label=t("go_evaluate"), icon=_ui.ICONS[_ui.EVALUATE])
    right.page_link(_ui.PREDICT, label=t("go_predict"), icon=_ui.ICONS[_ui.PREDICT])


current = _ui.workspace()
_ui.page_header("train_title", "train_caption")
has_data = dataset_ui(current)
if current.training:
    monitor_ui(current.job)
else:
    if current.job is not None:
        result_ui(current)
        with st.expander(t("last_run"), expanded=True):
            monitor_ui(current.job)
    settings_ui(current, has_data)
