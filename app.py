"""Sentiment Studio: train your own text-sentiment classifier in the browser and use it at once.

Run with `make run` (or `streamlit run app.py`). This script runs before every page. It registers the
pages and draws the menu and language switch first, before anything imports TensorFlow (see pages/_nav.py
for why the order matters on a fresh server); then it keeps the garbage collector off the imported
libraries and Streamlit's Keras reset off the training threads, clears models of long-gone public sessions
(once per process), sets up this session's workspace and status, and runs the chosen page.
"""

from __future__ import annotations

import streamlit as st

from pages import _nav

st.set_page_config(page_title="Sentiment Studio", page_icon=":material/sentiment_satisfied:", layout="wide")

page = st.navigation(_nav.navigation_pages(), position="hidden")
_nav.navigation_ui()
_nav.phone_navigation_ui()
_nav.language_ui()
with _nav.starting_ui():
    from pages import _ui  # imports TensorFlow: seconds on a process's first run, nothing afterwards

_ui.exempt_imports_from_gc()
_ui.keep_keras_state_across_runs()
_ui.remove_stale_sessions()
current = _ui.workspace()
_ui.sidebar_status_ui(current)
page.run()
