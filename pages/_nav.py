"""The app's navigation, language switch and translated strings: what app.py draws before TensorFlow loads.

This module imports only streamlit and core.i18n, so app.py can register its pages with `st.navigation`
within milliseconds of a fresh server's first run. Until some run has called `st.navigation`, Streamlit
treats a `pages/` folder beside app.py as a v1 multipage app and sends the browser its directory listing
("app, Home, ..., ui"); a visitor who arrived during the seconds TensorFlow takes to import saw that list,
and clicking it ran page files without app.py. `client.showSidebarNavigation = false` in
.streamlit/config.toml hides that listing (and any sidebar navigation), so the app draws its own menu of
page links here instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from core.i18n import LANGUAGES, t as translate

LANGUAGE_KEY = "language"
# (script, title key, icon, url path): the order of the navigation menu.
PAGES = (
    ("pages/0_Home.py", "nav_home", ":material/home:", "home"),
    ("pages/1_Data.py", "nav_data", ":material/table_view:", "data"),
    ("pages/2_Train.py", "nav_train", ":material/model_training:", "train"),
    ("pages/3_Evaluate.py", "nav_evaluate", ":material/insights:", "evaluate"),
    ("pages/4_Predict.py", "nav_predict", ":material/chat:", "predict"),
    ("pages/5_Models.py", "nav_models", ":material/inventory_2:", "models"),
)
HOME, DATA, TRAIN, EVALUATE, PREDICT, MODELS = (page[0] for page in PAGES)
ICONS = {path: icon for path, _, icon, _ in PAGES}
# The menu's container key: the browser sees it as the CSS class `st-key-app_nav` (tests find the menu by it).
NAV_KEY = "app_nav"
# The same menu as a row above the page, shown only on a screen narrower than Streamlit's 768 px breakpoint (a
# phone). There the sidebar starts closed and, once opened, covers most of the page and stays open after a page
# link is clicked (Streamlit closes it only for a mobile User-Agent), so phones navigate from this row instead.
# A CSS media query decides by the viewport's width, whatever the browser says it is.
PHONE_NAV_KEY = "app_nav_phone"
PHONE_NAV_CSS = f"""<style>
.st-key-{PHONE_NAV_KEY} {{ display: none; }}
@media (max-width: 767.98px) {{ .st-key-{PHONE_NAV_KEY} {{ display: flex; }} }}
</style>"""


def lang() -> str:
    return st.session_state.get(LANGUAGE_KEY, "en")


def t(key: str, **values: Any) -> str:
    """The UI string `key` in the session's language."""
    return translate(key, lang(), **values)


def navigation_pages() -> list[st.Page]:
    return [
        st.Page(path, title=t(title_key), icon=icon, url_path=url_path, default=path == HOME)
        for path, title_key, icon, url_path in PAGES
    ]


# The menu: one link per page at the top of the sidebar; the current page's link is highlighted.
def navigation_ui() -> None:
    with st.sidebar.container(key=NAV_KEY):
        _page_links()


# On a phone-wide screen only: the menu as a row of links above the page (see PHONE_NAV_KEY).
def phone_navigation_ui() -> None:
    st.html(PHONE_NAV_CSS)
    with st.container(key=PHONE_NAV_KEY, horizontal=True, gap="small"):
        _page_links()


def _page_links() -> None:
    for path, title_key, icon, _ in PAGES:
        st.page_link(path, label=t(title_key), icon=icon)


# Language switch: the choice is kept for the whole session, on every page.
def language_ui() -> None:
    st.sidebar.radio(
        "Language / 语言", list(LANGUAGES), key=LANGUAGE_KEY, horizontal=True,
        format_func=LANGUAGES.get, persist_state="session",
    )


@contextmanager
def starting_ui() -> Iterator[None]:
    """Says the app is starting while the block imports TensorFlow, so a fresh server's first page is not blank.

    The first run of a process spends 5-30 s importing it; later runs find it imported and show nothing.
    """
    if "tensorflow" in sys.modules:
        yield
        return
    notice = st.empty()
    notice.info(t("app_starting"), icon=":material/hourglass_top:")
    try:
        yield
    finally:
        notice.empty()
