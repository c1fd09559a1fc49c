"""UI pieces every page shares: the session's workspace, translated strings, messages, uploads and charts.

Pages import it as `pages._ui`. It imports TensorFlow (through core), so app.py imports it only after drawing
the navigation from pages/_nav.py.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

from core.doctor import Diagnosis, diagnose
from core.errors import (
    ConfigError,
    DataError,
    InvalidModelNameError,
    LimitError,
    RegistryError,
    StudioError,
    TrainingError,
)
from core.experiment import models_dir
from core.limits import visitor_of
from core.registry import sanitize_name
from core.safety import markdown_literal, public_mode, without_server_paths
from core.shelf import cleanup_at_start
from core.training import device_description
from core.workspace import Workspace
from pages._charts import FIT_WIDTH, legend, y_axis
# Re-exported: pages link with _ui.TRAIN and _ui.ICONS and translate with _ui.t.
from pages._nav import DATA, EVALUATE, ICONS, MODELS, PREDICT, TRAIN, lang, t  # noqa: F401

WORKSPACE_KEY = "workspace"
# Seconds between refreshes of a running job's progress; fast enough to feel live, slow enough for 2 cores.
POLL_SECONDS = 1.0
# Pause after typing before a live text field reruns: short enough to feel instant, long enough not to rerun per key.
LIVE_DELAY = "300ms"
# Per-batch points drawn per chart at most: the chart is rebuilt every second while training, and thousands
# of points would cost the server and the browser time for nothing a person can see. Longer runs are thinned.
MAX_BATCH_POINTS = 400
# Every share is shown with one decimal ("87.7%"), in text (`:.1%`) and in tables. Streamlit's "percent" format
# shows up to two ("72.76%") unless the column's step asks for fewer: a step of 0.001 leaves one.
PERCENT_STEP = 0.001
# What a selectbox holds in place of the option None (see `translated_selectbox`).
_NO_VALUE = "\u2060none"


# --- session ----------------------------------------------------------------------------------------------------
def workspace() -> Workspace:
    """This browser session's workspace, created on first use and kept in session state across reruns.

    Session state survives a dropped connection, so training goes on while the browser reconnects; the lease
    below closes the workspace (stopping its training) once the session has really gone.
    """
    current = st.session_state.get(WORKSPACE_KEY)
    if current is None or current.closed:  # closed: the browser came back after the grace period
        current = st.session_state[WORKSPACE_KEY] = Workspace(visitor=_visitor())
    _lease(current.id, current)
    return current


def _visitor() -> str | None:
    """The visitor's address (core.limits.visitor_of), so their tabs share one fair share of training slots."""
    return visitor_of(st.context.ip_address, st.context.headers.get("X-Forwarded-For"))


@st.cache_resource(scope="session", on_release=Workspace.release, show_spinner=False)
def _lease(workspace_id: str, _workspace: Workspace) -> Workspace:
    """Session-scoped cache entry whose release (on disconnect) schedules `Workspace.close`.

    A reconnecting browser runs the app again, which recreates this entry and cancels the pending close.
    """
    _workspace.hold()
    return _workspace


@st.cache_resource(show_spinner=False)
def exempt_imports_from_gc() -> int:
    """Moves everything imported so far (TensorFlow's ~400,000 objects) out of the garbage collector's sight.

    Over TensorFlow's heap a full collection takes ~0.15 s holding the GIL. Streamlit ran one after every
    script and fragment run (until .streamlit/config.toml turned `runner.postScriptGC` off), which stalled page
    switches and training; Python still runs them as objects accumulate, and model building makes many.
    Imported modules live as long as the process, so the collector has nothing to find among them. Once per
    server process.

    Returns:
        How many objects are now exempt.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def keep_keras_state_across_runs() -> None:
    """Stops Streamlit calling `keras.backend.clear_session()` after every script and fragment run.

    Streamlit does it (in `_clean_problem_modules`) for scripts that build a model on each run. Here models
    are built and trained in job threads that outlive the run, and each call resets every thread's Keras state
    and empties TensorFlow's kernel cache under them. A job whose model was being built as a page polled got
    a layer name twice and failed ("The name "dropout" is used 2 times in the model"), with pages polling
    every second jobs trained 2-3 times slower, and each rerun's first prediction took 50 ms instead of 0.6 ms
    while TensorFlow rebuilt the Predictor's function (bench/RESULTS.md, "App"). The function's only other
    work, closing matplotlib figures, concerns nothing here: the app draws with Altair.
    """
    script_runner._clean_problem_modules = _leave_modules_alone


def _leave_modules_alone() -> None:
    """What runs after each script run in place of Streamlit's module clean-up: nothing."""


def remove_stale_sessions() -> None:
    """Deletes model folders of public-mode sessions that ended without a goodbye and half-written saves left by
    a crash (core.shelf.cleanup_at_start); once per server process."""
    _remove_stale_sessions(str(models_dir()), public_mode())


@st.cache_resource(show_spinner=False)
def _remove_stale_sessions(models_root: str, public: bool) -> int:
    """Cached for the whole process (not per session), so only the first visitor after a start pays for it."""
    return cleanup_at_start(models_root, public=public)


def device() -> str:
    """Where training runs ("CPU (2 cores)", "1 GPU: ..."), in the session's language."""
    return device_text(_device())


@st.cache_resource(show_spinner=False)
def _device() -> str:
    """Asked once per server."""
    return device_description()


def device_text(description: str) -> str:
    """core's device description ("CPU (2 cores)", "2 GPUs: A, B", "2 workers × CPU (2 cores)" for a model
    trained on several machines) in the session's language; GPU names and anything else stay as they are."""
    workers = re.fullmatch(r"(\d+) workers × (.+)", description)
    if workers:
        return t("device_workers", workers=int(workers.group(1)), device=device_text(workers.group(2)))
    cpu = re.fullmatch(r"CPU \((\d+) cores\)", description)
    if cpu:
        return t("device_cpu", cores=int(cpu.group(1)))
    gpu = re.fullmatch(r"(\d+) GPUs?: (.+)", description)
    if gpu:
        return t("device_gpu", count=int(gpu.group(1)), names=gpu.group(2))
    return description


def diagnosis() -> Diagnosis:
    """Versions, CUDA, GPUs, precision and the model folder (what `python -m core doctor` prints)."""
    return _diagnosis(str(models_dir()))


@st.cache_resource(show_spinner=False)
def _diagnosis(models_root: str) -> Diagnosis:
    """Looked at once per server and model folder."""
    return diagnose(Path(models_root))


# --- plain text and messages ------------------------------------------------------------------------------------
def plain(text: str) -> str:
    """User text (file names, labels, typed text) as Markdown that shows exactly as written: no link, icon,
    entity or hidden direction change (core.safety.markdown_literal)."""
    return markdown_literal(text)


# What kind of problem each core error is, in the session's language, for a core error whose message is English
# only (a reason from the operating system or a library). The first match wins, so a subclass comes before its base.
ERROR_SUMMARIES = ((LimitError, "error_limit"), (DataError, "error_data"), (ConfigError, "error_config"),
                   (RegistryError, "error_registry"), (TrainingError, "error_training"))


def show_error(error: StudioError | str) -> None:
    """One red box with what went wrong and what to do; never a traceback, never a server path.

    A string is shown as it is (pages pass translated text); a core error in the session's language when its
    message is translated, else in English led, outside English, by a translated sentence saying what kind of
    problem it is.
    """
    summary = None
    if isinstance(error, StudioError):
        if not error.translated:
            summary = next((key for kind, key in ERROR_SUMMARIES if isinstance(error, kind)), None)
        error = error.text(lang())
    message = plain(without_server_paths(error))
    if summary is not None and lang() != "en":
        message = f"**{t(summary)}** {message}"
    st.error(message, icon=":material/error:")


def attempt(action: Callable[[], Any]) -> bool:
    """Runs a core action, showing a StudioError as a message; True when it succeeded."""
    try:
        action()
    except StudioError as error:
        show_error(error)
        return False
    return True


def handle_upload(file: Any, key: str, action: Callable[[Any], Any]) -> StudioError | None:
    """Runs `action(file)` once per uploaded file and keeps showing its error until another file comes.

    Widgets rerun the page often; re-reading a large file on every rerun would be slow, and an error that
    vanished on the next click would be easy to miss.

    Returns:
        The error shown for this file, if any, so the page can offer a way out.
    """
    state_key = f"_upload_{key}"
    if file is None:
        st.session_state.pop(state_key, None)
        return None
    done_id, error = st.session_state.get(state_key, (None, None))
    if done_id != file.file_id:
        try:
            action(file)
            error = None
        except StudioError as failure:
            error = _detached(failure)
        st.session_state[state_key] = (file.file_id, error)
    if error:
        show_error(error)
    return error


def _detached(error: StudioError) -> StudioError:
    """The error without its traceback and causes, to keep in session state: they would hold the failed
    upload's frames and bytes (a UnicodeDecodeError carries the whole file) in memory."""
    error.__traceback__ = error.__cause__ = error.__context__ = None
    return error


def translated_selectbox(label: str, options: Sequence[Any], key: str, format_func: Callable[[Any], str],
                         on_change: Callable[[], None] | None = None, **kwargs: Any) -> Any:
    """A selectbox with translated option labels; the chosen option is kept in session state under `key`.

    The browser's selectbox reports the label it shows, and after a language switch it can report the old
    language's label, which matches no option. Each language therefore gets its own widget, all sharing the
    language-neutral value under `key`, and a label that matches no option is ignored. An option None (an
    automatic setting) reaches the widget as a stand-in: Streamlit shows a selectbox whose value is None as
    empty ("Choose an option") even when None is one of its options.

    Returns:
        The chosen option (never a stale label).
    """
    widget_key = f"{key}_{lang()}"
    if st.session_state.get(key) not in options:  # first use, or the options changed (another model's classes)
        st.session_state[key] = options[0]
    shown = [_NO_VALUE if option is None else option for option in options]
    st.session_state[widget_key] = shown[list(options).index(st.session_state[key])]

    def keep_choice() -> None:
        if st.session_state[widget_key] in shown:
            st.session_state[key] = options[shown.index(st.session_state[widget_key])]
            if on_change is not None:
                on_change()

    # Labels are computed now, in this session's language, not whenever the widget is formatted later.
    labels = {widget_option: format_func(option) for widget_option, option in zip(shown, options)}
    st.selectbox(label, shown, key=widget_key, format_func=labels.__getitem__, on_change=keep_choice, **kwargs)
    return st.session_state[key]


def saved_name_ui(typed: str) -> str | None:
    """Says, before anything is saved, the name a typed model name will really get (a folder name: "../evil"
    becomes "evil"), or why it cannot be used.

    Returns:
        The name that will be used; None when nothing is typed or the name cannot be used.
    """
    if not typed.strip():
        return None
    try:
        name = sanitize_name(typed)
    except InvalidModelNameError as error:
        show_error(error)
        return None
    if name != typed.strip():
        st.caption(t("name_will_be", name=plain(name)))
    return name


def page_header(title_key: str, caption_key: str) -> None:
    st.title(t(title_key))
    st.caption(t(caption_key))


def need_model_ui(current: Workspace) -> bool:
    """Says so when the active model was deleted elsewhere, and when none is active offers the saved models
    (the newest first) or tells the user to train one; True when a model is active."""
    if current.lost_model is not None:
        st.warning(t("model_lost", name=plain(current.lost_model)), icon=":material/warning:")
    if current.active is not None:
        return True
    saved = [info.name for info in current.models() if not info.broken]
    if saved:
        _offer_saved_ui(current, saved)
        return False
    st.info(t("no_active_model"), icon=":material/info:")
    left, right = st.columns(2)
    left.page_link(TRAIN, label=t("go_train"), icon=":material/model_training:")
    right.page_link(MODELS, label=t("go_models"), icon=":material/inventory_2:")
    return False


# No model is active but some are saved (a new session, or the active one was deleted): use the newest or another.
def _offer_saved_ui(current: Workspace, saved: list[str]) -> None:
    st.info(t("no_active_model_saved", count=len(saved), newest=plain(saved[0])), icon=":material/info:")
    choice, use = st.columns([3, 1], vertical_alignment="bottom")
    name = choice.selectbox(t("choose_model"), saved, key="offered_model", help=t("offered_model_help"))
    if use.button(t("load_model"), type="primary", icon=":material/play_circle:", key="use_offered_model"):
        if attempt(lambda: current.activate_model(name)):
            st.rerun()


# --- tables -----------------------------------------------------------------------------------------------------
def percent_column(label: str | None = None, *, bar: bool = False, **options: Any) -> Any:
    """A table column of shares between 0 and 1 shown as "87.7%" (see PERCENT_STEP), as a bar when `bar`."""
    options = {"format": "percent", "step": PERCENT_STEP, "min_value": 0.0, "max_value": 1.0, **options}
    column = st.column_config.ProgressColumn if bar else st.column_config.NumberColumn
    return column(label, **options)


# --- sidebar ----------------------------------------------------------------------------------------------------
# Sidebar status: the active model and, live, a running job's progress.
def sidebar_status_ui(current: Workspace) -> None:
    change = current.check_active()  # another session may have renamed or deleted the active model
    if change is not None and change.new is not None:
        st.toast(t("model_renamed", old=plain(change.old), new=plain(change.new)), icon=":material/edit:")
    with st.sidebar:
        st.divider()
        active = current.active
        st.caption(t("sidebar_active", name=plain(active.name)) if active else t("sidebar_no_model"))
        _sidebar_job_ui(current)


def _sidebar_job_ui(current: Workspace) -> None:
    polling = current.training

    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def job_status() -> None:
        job = current.job
        if job is None:
            return
        snapshot = job.snapshot()
        if polling and snapshot.done:
            st.rerun()  # the whole app: pages now show the saved model
        if not snapshot.done:
            st.progress(snapshot.progress, text=job_progress_text(snapshot))

    job_status()


def job_progress_text(snapshot: Any) -> str:
    """'Epoch 3/20 · batch 12/40 · 45% · 1m 20s left', or the queue position while waiting."""
    if snapshot.queue_position is not None:
        return t("job_queued", position=snapshot.queue_position)
    if snapshot.embedding:
        parts = [t("job_embedding", done=snapshot.embedded, total=snapshot.to_embed)]
        if snapshot.eta_seconds is not None:
            parts.append(t("job_eta", eta=duration(snapshot.eta_seconds)))
        return " · ".join(parts)
    parts = [t("job_epoch", epoch=max(snapshot.epoch, 1), epochs=snapshot.epochs)]
    # Before the first batch the number of batches is not known yet: "batch 0/0" would look broken.
    if snapshot.batches_per_epoch:
        parts.append(t("job_batch", batch=snapshot.batch, batches=snapshot.batches_per_epoch))
    else:
        parts.append(t("job_starting"))
    parts.append(f"{snapshot.progress:.0%}")
    if snapshot.eta_seconds is not None:
        parts.append(t("job_eta", eta=duration(snapshot.eta_seconds)))
    return " · ".join(parts)


def duration(seconds: float) -> str:
    """'42s', '3m 05s' or '1h 02m'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


# --- charts -----------------------------------------------------------------------------------------------------
def training_chart(batch_rows: Sequence[dict], epoch_rows: Sequence[dict], metric: str,
                   epochs: int | None = None) -> alt.LayerChart:
    """Loss or accuracy over fractional epochs: training per batch (thin), per epoch, and validation per epoch.

    The epoch axis spans the whole run (`epochs`; by default the last epoch in the rows), so the loss and the
    accuracy chart of one run always share their x scale and grow in step, and a one-epoch run's axis reads
    0 to 1 in whole epochs rather than "1.000000".
    """
    frames = [
        _series(_thin(batch_rows), metric, t("series_train_batch")),
        _series(epoch_rows, metric, t("series_train_epoch")),
        _series(epoch_rows, f"val_{metric}", t("series_validation")),
    ]
    data = pd.concat([frame for frame in frames if not frame.empty] or [_series([], metric, "")])
    title = t("chart_loss") if metric == "loss" else t("chart_accuracy")
    # Fixed colours, so training and validation look the same on every chart and page.
    colors = alt.Scale(domain=[t("series_train_batch"), t("series_train_epoch"), t("series_validation")],
                       range=["#c7d2fe", "#4f46e5", "#f97316"])
    base = alt.Chart(data).encode(
        x=alt.X("epoch:Q", title=t("axis_epoch"), scale=alt.Scale(domain=[0, _last_epoch(epoch_rows, epochs)]),
                axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=metric == "accuracy"), axis=y_axis(title)),
        color=alt.Color("series:N", title=None, scale=colors, legend=legend(columns=2)),
        tooltip=[alt.Tooltip("series:N", title=""), alt.Tooltip("epoch:Q", format=".2f"),
                 alt.Tooltip("value:Q", title=title, format=".4f")],
    )
    batches = base.transform_filter(alt.datum.series == t("series_train_batch")).mark_line(strokeWidth=1)
    epoch_lines = base.transform_filter(alt.datum.series != t("series_train_batch")).mark_line(
        point=True, strokeWidth=2.5)
    return alt.layer(batches, epoch_lines).properties(title=title, height=260, autosize=FIT_WIDTH)


def _last_epoch(epoch_rows: Sequence[dict], epochs: int | None) -> int:
    """Where the epoch axis ends: the planned epochs, else the last epoch recorded, and at least 1."""
    recorded = max((int(math.ceil(float(row["epoch"]))) for row in epoch_rows), default=1)
    return max(epochs or recorded, 1)


def _series(rows: Sequence[dict], key: str, name: str) -> pd.DataFrame:
    points = [{"epoch": float(row["epoch"]), "value": float(row[key]), "series": name}
              for row in rows if key in row and row[key] is not None and math.isfinite(float(row[key]))]
    return pd.DataFrame(points, columns=["epoch", "value", "series"])


def _thin(rows: Sequence[dict]) -> Sequence[dict]:
    """Every k-th row, k chosen so that at most MAX_BATCH_POINTS remain."""
    step = math.ceil(len(rows) / MAX_BATCH_POINTS) if rows else 1
    return rows[::step] if step > 1 else rows


def training_charts_ui(batch_rows: Sequence[dict], epoch_rows: Sequence[dict], epochs: int | None = None) -> None:
    """Loss and accuracy side by side, over the same epochs (see `training_chart`)."""
    left, right = st.columns(2)
    left.altair_chart(training_chart(batch_rows, epoch_rows, "loss", epochs), width="stretch")
    right.altair_chart(training_chart(batch_rows, epoch_rows, "accuracy", epochs), width="stretch")


def bar_chart(values: dict[str, float], *, value_title: str, percent: bool = False) -> alt.Chart:
    """Horizontal bars, one per class; labels are drawn as plain text by Vega."""
    data = pd.DataFrame({"label": list(values), "value": list(values.values())})
    value_format = ".1%" if percent else ",d"
    encoding = alt.X("value:Q", title=value_title, axis=alt.Axis(format=".0%" if percent else "d"),
                     scale=alt.Scale(domain=[0, 1]) if percent else alt.Undefined)
    bars = alt.Chart(data).mark_bar().encode(
        x=encoding, y=alt.Y("label:N", title=None, sort=None),
        color=alt.Color("label:N", legend=None),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("value:Q", title=value_title, format=value_format)],
    )
    text = bars.mark_text(align="left", dx=4).encode(text=alt.Text("value:Q", format=value_format),
                                                      color=alt.value("#1e2235"))
    return (bars + text).properties(height=alt.Step(32))
