"""Home: what the app does, the four steps, the device in use, and a one-click start with the sample."""

from __future__ import annotations

import streamlit as st

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
    steps = ((_ui.DATA, "step_data"), (_ui.TRAIN, "step_train"), (_ui.EVALUATE, "step_evaluate"),
             (_ui.PREDICT, "step_predict"))
    for column, (number, (page, key)) in zip(st.columns(len(steps)), enumerate(steps, start=1)):
        with column.container(border=True):
            st.page_link(page, label=f"{number}. {t(key)}", icon=_ui.ICONS[page])
            st.caption(t(f"{key}_help"))


# One click: load the sample and go straight to training.
def try_sample_ui(current: Workspace) -> None:
    if st.button(t("try_sample"), type="primary", icon=":material/rocket_launch:"):
        if _ui.attempt(lambda: current.load_sample(DEFAULT_SAMPLE)):
            st.switch_page(_ui.TRAIN)
    st.caption(t("try_sample_help"))


# Where this session stands: data, model and the device training runs on.
def status_ui(current: Workspace) -> None:
    if current.dataset is not None:
        st.caption(t("home_data_loaded", source=_ui.plain(current.dataset.report.source), rows=len(current.dataset)))
    if current.active is not None:
        st.caption(t("sidebar_active", name=_ui.plain(current.active.name)))
    st.caption(t("device", device=_ui.device()))


current = _ui.workspace()
intro_ui()
steps_ui()
try_sample_ui(current)
status_ui(current)
