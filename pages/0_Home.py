"""Home: what the app does, the four steps, a one-click start with the sample, and the machine in one line."""

from __future__ import annotations

import streamlit as st

from core.doctor import short_folder
from core.samples import DEFAULT_SAMPLE
from core.workspace import Workspace
from pages import _ui
from pages._ui import t


# What the app does, in two lines.
def intro_ui() -> None:
    st.title(t("app_title"))
    st.markdown(t("home_intro"))


# The four steps, each a link to its page.
def steps_ui() -> None:
    step_keys = ((_ui.DATA, "step_data"), (_ui.TRAIN, "step_train"), (_ui.EVALUATE, "step_evaluate"),
                 (_ui.PREDICT, "step_predict"))
    for column, (number, (page, key)) in zip(st.columns(len(step_keys)), enumerate(step_keys, start=1)):
        with column.container(border=True):
            st.page_link(page, label=f"{number}. {t(key)}", icon=_ui.ICONS[page])
            st.caption(t(f"{key}_help"))


# One click: load the sample and go straight to training.
def try_sample_ui(current: Workspace) -> None:
    if st.button(t("try_sample"), type="primary", icon=":material/rocket_launch:"):
        if _ui.attempt(lambda: current.data.load_sample(DEFAULT_SAMPLE)):
            st.switch_page(_ui.TRAIN)
    st.caption(t("try_sample_help"))


# Where this session stands: data and model.
def status_ui(current: Workspace) -> None:
    if current.dataset is not None:
        st.caption(t("home_data_loaded", source=_ui.plain(current.dataset.report.source), rows=len(current.dataset)))
    if current.active is not None:
        st.caption(t("sidebar_active", name=_ui.plain(current.active.name)))


# This machine in one line, as `python -m core doctor` reports it: device, versions, CUDA, precision, folder
# (short: no server path reaches a visitor).
def machine_ui() -> None:
    facts = _ui.diagnosis()
    device = _ui.device()
    if facts.gpus:
        growing = all(gpu.memory_growth for gpu in facts.gpus)
        device += ", " + t("machine_growth_on" if growing else "machine_growth_off")
    cuda = t("machine_cuda", version=facts.cuda_version) if facts.built_with_cuda else t("machine_no_cuda")
    access = t("machine_writable" if facts.models_dir_writable else "machine_read_only")
    st.caption(t("home_machine", device=_ui.plain(device), python=facts.python, tensorflow=facts.tensorflow,
                 cuda=_ui.plain(cuda), keras=facts.keras, policy=_ui.plain(facts.precision_policy),
                 folder=_ui.plain(short_folder(facts.models_dir)), access=access))


current = _ui.workspace()
intro_ui()
steps_ui()
try_sample_ui(current)
status_ui(current)
machine_ui()
