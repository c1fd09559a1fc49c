"""Sentiment Studio: train your own text-sentiment classifier in the browser and use it at once.

Run with `make run` (or `streamlit run app.py`). This script runs before every page: it sets up the
page, keeps the garbage collector off the imported libraries and clears models of long-gone public
sessions (both once per process), then sets up this session's workspace, the language switch and the
navigation, and runs the chosen page.
"""

from __future__ import annotations

import streamlit as st

from pages import _ui

st.set_page_config(page_title="Sentiment Studio", page_icon=":material/sentiment_satisfied:", layout="wide")

_ui.exempt_imports_from_gc()
_ui.remove_stale_sessions()
current = _ui.workspace()
_ui.language_ui()
page = st.navigation(_ui.navigation_pages())
_ui.sidebar_status_ui(current)
page.run()
