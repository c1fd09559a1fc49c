"""Train: choose a preset or your own settings, train in the background and watch it learn live."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.config import SETTINGS, Setting, TrainConfig, preset
from core.encoder import unavailable_reason
from core.errors import StudioError, TrainingError
from core.experiment import embedding_seconds, suggested_preset
from core.samples import DEFAULT_SAMPLE
from core.training import JobStatus, TrainingJob, cut_short_at
from core.workspace import Workspace
from pages import _ui
from pages._ui import t

PRESET_KEY = "train_preset"  # the preset field's widget (None: custom, the user's own settings)
SUGGESTION_KEY = "train_suggestion"  # (the data it was made for, the preset suggested for that data)
ESTIMATE_KEY = "train_embedding_estimate"  # (what it was measured for, seconds)
# Form widgets keep their values for the whole session, so leaving the page and coming back keeps them.
KEEP = {"persist_state": "session"}
# The settings with a widget; each is drawn from its description in core/config.py.
SHOWN = {name: setting for name, setting in SETTINGS.items() if setting.group is not None}


# The data this run will train on, or how to get some.
def dataset_ui(current: Workspace) -> bool:
    dataset = current.dataset
    if dataset is None:
        st.info(t("train_need_data"), icon=":material/info:")
        left, right = st.columns(2)
        left.page_link(_ui.DATA, label=t("go_data"), icon=_ui.ICONS[_ui.DATA])
        if right.button(t("use_sample")):
            if _ui.attempt(lambda: current.data.load_sample(DEFAULT_SAMPLE)):
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
def _key(name: str) -> str:
    return f"train_{name}"


def _form_values(config: TrainConfig) -> dict[str, Any]:
    """Widget values (by session-state key) that show `config`."""
    values = {_key(name): getattr(config, name) for name in SHOWN}
    values.update({_key(name): ", ".join(map(str, getattr(config, name)))  # typed as text, e.g. "64, 128"
                   for name, setting in SHOWN.items() if setting.kind == "sizes"})
    return values


def _apply_preset() -> None:
    """Fills the form from the chosen preset; custom (None) leaves the form as it is for editing."""
    name = st.session_state[PRESET_KEY]
    if name is not None:
        st.session_state.update(_form_values(preset(name)))


def _suggest(current: Workspace) -> str:
    """`transfer` when embedding the data is quick (the sample's vectors ship with the app), else `default`."""
    try:
        return "default" if current.dataset is None else suggested_preset(current.dataset)
    except StudioError:  # an encoder that cannot load is reported when someone picks `transfer`
        return "default"


def _form_shows(name: str) -> bool:
    """Whether the form holds preset `name` exactly as the preset fills it in."""
    state = st.session_state
    return state.get(PRESET_KEY) == name and all(state.get(key) == value
                                                 for key, value in _form_values(preset(name)).items())


def _init_form(current: Workspace) -> None:
    """Starts the form from the preset suggested for the data, and follows newly loaded data for as long as the
    form still shows the previous suggestion untouched: a user's own choice is never overwritten."""
    made_for, suggested = st.session_state.get(SUGGESTION_KEY, (None, None))
    if suggested is not None and made_for is current.dataset:
        return
    suggestion = _suggest(current)
    st.session_state[SUGGESTION_KEY] = (current.dataset, suggestion)
    if PRESET_KEY not in st.session_state or _form_shows(suggested):
        st.session_state[PRESET_KEY] = suggestion
        _apply_preset()


def _config_from_form() -> TrainConfig:
    """The form as a validated TrainConfig.

    Raises:
        ConfigError: a setting is out of range; the message names it.
    """
    state = st.session_state
    chosen = state[PRESET_KEY]
    shown = {name: state[_key(name)] for name in SHOWN}
    shown.update({name: setting.parse(name, shown[name]) for name, setting in SHOWN.items() if setting.kind == "sizes"})
    return preset(chosen).replace(**shown)


# Preset: the preset field's widget, which fills the whole form at once; under it, the preset suggested for this
# data.
def preset_ui(current: Workspace) -> None:
    setting_ui("preset", SETTINGS["preset"], on_change=_apply_preset)
    if current.dataset is not None:
        st.caption(t("preset_suggested", preset=t(f"preset_{st.session_state[SUGGESTION_KEY][1]}")))


def _embedding_estimate(current: Workspace, config: TrainConfig) -> float:
    """Seconds of embedding before the first epoch, measured once per data, encoder settings and finished run
    (a run caches its vectors, so the next estimate drops to zero)."""
    measured_for = (current.dataset, current.test_dataset, config.encoder_max_tokens, config.encoder_truncation,
                    current.job)
    cached = st.session_state.get(ESTIMATE_KEY)
    if cached is None or cached[0] != measured_for:
        parts = [part for part in (current.dataset, current.test_dataset) if part is not None]
        cached = (measured_for, sum(embedding_seconds(config, part) or 0.0 for part in parts))
        st.session_state[ESTIMATE_KEY] = cached
    return cached[1]


# Before a run that reads the encoder's vectors: how long embedding the texts takes, or that it is not installed.
def embedding_ui(current: Workspace) -> None:
    try:
        config = _config_from_form()
    except StudioError:  # the Train button reports the setting that is out of range
        return
    if current.dataset is None or not config.uses_encoder:
        return
    reason = unavailable_reason()
    if reason is not None:
        st.warning(t("preset_unavailable", reason=reason.render(_ui.lang())), icon=":material/warning:")
        return
    seconds = _embedding_estimate(current, config)
    texts = len(current.dataset) + len(current.test_dataset or ())
    if seconds < 1:
        st.caption(t("embedding_cached"))
    else:
        st.caption(t("embedding_estimate", texts=f"{texts:,}", eta=_ui.duration(seconds)))


# One setting's widget, built from its Setting: the kind picks the widget; bounds, step, label and help come
# from the description, and it is disabled where the chosen family does not use it.
def setting_ui(name: str, setting: Setting, **changes: Any) -> None:
    state = st.session_state
    unused = state[_key("family")] not in setting.families
    switched_off = setting.requires is not None and not state[_key(setting.requires)]
    label = t(setting.label)
    common = {"key": _key(name), "help": t(setting.help), "disabled": unused or switched_off, **changes}
    if setting.kind == "choice":
        _ui.translated_selectbox(label, setting.choices, **common,
                                 format_func=lambda option: t(f"{name}_{setting.none if option is None else option}"))
    elif setting.kind == "sizes":
        st.text_input(label, **common, **KEEP)
    elif setting.kind == "bool":
        st.checkbox(label, **common, **KEEP)
    elif setting.offered:
        # A slider given a value it does not offer silently moves to its first option, so the preset's value
        # is always among the options.
        offered = sorted({*setting.offered, state[_key(name)]})
        st.select_slider(label, offered, format_func=lambda number: f"{number:g}", **common, **KEEP)
    elif setting.kind == "float" and setting.none is None:
        st.slider(label, min_value=setting.minimum, max_value=setting.maximum, step=setting.step, **common, **KEEP)
    else:
        empty = {"value": None, "placeholder": t(setting.none)} if setting.none else {}
        st.number_input(label, min_value=setting.minimum, max_value=setting.maximum, step=setting.step, **empty,
                        **common, **KEEP)


# One column of the form: a heading, then its settings in the order TrainConfig declares them.
def group_ui(group: str, changes: dict[str, dict[str, Any]] | None = None) -> None:
    st.markdown(f"**{t(f'settings_{group}')}**")
    for name, setting in SHOWN.items():
        if setting.group == group:
            setting_ui(name, setting, **(changes or {}).get(name, {}))


# Held-out data and the random seed, then the name to save the model under.
def data_settings_ui(current: Workspace) -> None:
    # An uploaded test file is the test set, so the test share does not apply.
    with_test_file = {"test_split": {"disabled": True, "help": t("test_split_file")}}
    group_ui("data", with_test_file if current.test_dataset is not None else None)
    name = st.text_input(t("model_name"), key="train_model_name", placeholder=t("model_name_auto"), max_chars=64,
                         live=_ui.LIVE_DELAY, **KEEP)
    _ui.saved_name_ui(name)


# The settings and the Train button.
def settings_ui(current: Workspace, has_data: bool) -> None:
    _init_form(current)
    preset_ui(current)
    embedding_ui(current)
    model, training, data = st.columns(3, gap="large")
    with model:
        group_ui("model")
    with training:
        group_ui("training")
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
    polling = not job.done

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
        _ui.training_charts_ui(snapshot.batch_history, snapshot.epoch_history, snapshot.epochs)
        if snapshot.epoch_history:
            st.code(epoch_log(snapshot), language=None, wrap_lines=True)  # wrapped: never cut off on the right

    live()


def epoch_log(snapshot: Any) -> str:
    """One line per epoch in the session's language, saying when a stop cut an epoch short."""
    lines = []
    for entry in snapshot.epoch_history:
        metrics = " · ".join(f"{t(f'log_{name}')} {entry[name]:.4f}"
                             for name in ("loss", "accuracy", "val_loss", "val_accuracy") if name in entry)
        cut_short = cut_short_at(entry)
        epoch = t("job_epoch", epoch=int(entry["epoch"]), epochs=snapshot.epochs)
        if cut_short:
            epoch += " " + t("log_cut_short", batch=cut_short[0], batches=cut_short[1])
        lines.append(f"{epoch} · {entry['seconds']:.1f}s · {metrics}")
    return "\n".join(lines)


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
    elif snapshot.status == JobStatus.SAVING:
        text.info(t("job_saving"), icon=":material/save:")
    else:
        text.progress(snapshot.progress, text=_ui.job_progress_text(snapshot))
    stop.button(t("stop"), key="stop_training", icon=":material/stop:", on_click=job.stop,
                disabled=snapshot.status in (JobStatus.STOPPING, JobStatus.SAVING))
    st.caption(t("device", device=_ui.device_text(snapshot.device)))


# How the last run ended: saved (with its score), stopped (keep or discard it), or failed with the reason.
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
    if current.stopped_run is not None:
        stopped_choice_ui(current, snapshot, message)
        return
    if current.lost_model == info.name:  # deleted in another session: no links to a model that is gone
        st.warning(t("model_lost", name=_ui.plain(info.name)), icon=":material/warning:")
        st.page_link(_ui.MODELS, label=t("go_models"), icon=_ui.ICONS[_ui.MODELS])
        return
    st.success(message, icon=":material/check_circle:")
    if snapshot.time_limited:  # public mode's wall-clock cap ended it, not the user or the epochs
        st.info(t("time_limit_reached", minutes=f"{snapshot.time_limit / 60:g}"), icon=":material/timer:")
    left, right = st.columns(2)
    left.page_link(_ui.EVALUATE, label=t("go_evaluate"), icon=_ui.ICONS[_ui.EVALUATE])
    right.page_link(_ui.PREDICT, label=t("go_predict"), icon=_ui.ICONS[_ui.PREDICT])


# A run the user stopped does not replace the model in use by itself: its score, then keep or discard it.
def stopped_choice_ui(current: Workspace, snapshot: Any, saved: str) -> None:
    active = current.active
    in_use = t("stopped_in_use", name=_ui.plain(active.name)) if active else t("stopped_none_in_use")
    st.warning(f"{t('stopped_early', epoch=max(len(snapshot.epoch_history), 1), epochs=snapshot.epochs)} {saved} {in_use}",
               icon=":material/pause_circle:")
    keep, discard = st.columns(2)
    if keep.button(t("stopped_keep"), type="primary", icon=":material/check:"):
        if _ui.attempt(current.keep_stopped_run):
            st.rerun()
    if discard.button(t("stopped_discard"), icon=":material/delete:"):
        if _ui.attempt(current.discard_stopped_run):
            st.toast(t("stopped_discarded"))
            st.rerun()


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
