"""What SECURITY.md promises, checked on the running app: server settings, user text shown as text, and
public-mode sessions kept apart."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from streamlit.dataframe_util import convert_pandas_df_to_arrow_bytes
from streamlit.testing.v1 import AppTest

from core.data import MAX_CLASSES, TextTable
from core.limits import MAX_UPLOAD_BYTES, PUBLIC_MAX_UPLOAD_BYTES
from core.safety import PUBLIC_MODE_VARIABLE
from core.shelf import SESSIONS_FOLDER, STALE_SESSION_SECONDS
from core.workspace import FilePredictions
from pages._nav import PHONE_NAV_CSS
from pages._tables import prediction_frame
from tests.app.support import APP, click, open_page, tiny_settings, unescaped
from tests.support import REPO, RUN_TIMEOUT, TINY_MODEL, csv_bytes, labelled_rows

SCRIPT = "<script>alert(1)</script>"
# "<script" not preceded by the backslash that pages/_ui.plain puts before "<".
_RAW_TAG = re.compile(r"(?<!\\)<\s*script", re.IGNORECASE)


# --- server settings ------------------------------------------------------------------------------------------------
def _make_run(*variables: str) -> str:
    """The command `make run` would run (the install step taken as done)."""
    return subprocess.run(["make", "-n", "-o", ".venv/.installed-run", "run", *variables], cwd=REPO, check=True,
                          capture_output=True, text=True, timeout=30).stdout


def test_make_run_listens_on_this_machine_only_unless_told_and_then_is_public() -> None:
    local = _make_run()
    assert "--server.address localhost" in local and PUBLIC_MODE_VARIABLE not in local
    assert f"--server.maxUploadSize {MAX_UPLOAD_BYTES // (1024 * 1024)}" in local  # the loader's local limit
    served = _make_run("ADDRESS=0.0.0.0")
    assert "--server.address 0.0.0.0" in served and f"{PUBLIC_MODE_VARIABLE}=${{{PUBLIC_MODE_VARIABLE}:-1}}" in served
    assert "maxUploadSize" not in served  # config.toml's public limit


def test_config_keeps_xsrf_protection_an_upload_limit_and_no_file_watcher() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server["enableXsrfProtection"] is True
    # Community Cloud reads this file: public mode's limit, in MB, so the server refuses more before holding it.
    assert server["maxUploadSize"] == PUBLIC_MAX_UPLOAD_BYTES // (1024 * 1024)
    assert server["fileWatcherType"] == "none"  # a watcher would scan .venv and flood the log
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "minimal"
    assert config["client"]["showErrorDetails"] == "none"  # no traceback or server path in the browser
    assert config["client"]["disableDataExport"] is True  # the tables' own CSV export writes formulas raw
    assert server["maxMessageSize"] <= 50


def _page_constant(page: str, name: str) -> int:
    """A number a page script sets at its top (page scripts cannot be imported outside Streamlit)."""
    tree = ast.parse((REPO / page).read_text(encoding="utf-8"))
    return next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == name)


def test_the_largest_table_a_public_visitor_is_sent_fits_the_message_size_limit() -> None:
    # Streamlit replaces a message over server.maxMessageSize with an error, in both directions, so the bound
    # (issue 16.11: it was Streamlit's 200 MB) must still hold the largest message the app sends: the Predict
    # page's preview of a file at the public upload limit, its texts the whole file, with 50 classes' columns.
    limit = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]["maxMessageSize"]
    rows = _page_constant("pages/4_Predict.py", "PREVIEW_ROWS")
    assert _page_constant("pages/1_Data.py", "PREVIEW_ROWS") <= rows  # the Data page's preview is smaller
    classes = tuple(f"class {index}" for index in range(MAX_CLASSES))
    text = "x" * (PUBLIC_MAX_UPLOAD_BYTES // rows)
    table = TextTable(("text",), tuple((text,) for _ in range(rows)), "text")
    frame = prediction_frame(FilePredictions(table, np.full((rows, len(classes)), 0.02), classes), "empty")
    size = len(convert_pandas_df_to_arrow_bytes(frame))
    assert PUBLIC_MAX_UPLOAD_BYTES < size < limit * 1_000_000 < 200 * 1_000_000


# --- user text stays text -------------------------------------------------------------------------------------------
def _elements(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _elements(child)


def assert_nothing_renders_html(at: AppTest) -> None:
    """No element may render HTML, and every shown text holding a <script> tag has it escaped."""
    for element in _elements(at._tree):
        proto = getattr(element, "proto", None)
        if proto is None:
            continue
        if getattr(element, "type", None) == "html" and proto.body == PHONE_NAV_CSS:
            continue  # the app's own CSS, written in pages/_nav.py (the phone menu row); no user text reaches it
        assert getattr(element, "type", None) not in ("html", "iframe", "custom_component"), element
        assert not getattr(proto, "allow_html", False), element
        for field in ("body", "label", "title", "help", "placeholder"):
            value = getattr(proto, field, None)
            if isinstance(value, str):
                assert not _RAW_TAG.search(value), f"{element.type}.{field} shows raw HTML: {value!r}"


def test_script_in_uploaded_data_is_shown_as_plain_text(app: AppTest) -> None:
    open_page(app, "pages/1_Data.py")
    rows = labelled_rows(20) + [(SCRIPT, "positive"), (f"<img src=x onerror=alert(2)> {SCRIPT}", "negative")]
    app.file_uploader(key="data_upload").set_value((f"{SCRIPT}.csv", csv_bytes(rows), "text/csv")).run()
    assert not app.exception and not app.error
    assert unescaped(app.subheader[0].value) == f"Loaded: {SCRIPT}.csv"  # the file name, escaped, shown as written
    # The preview (and the data-health examples after it) show it in a data grid cell: text, never markup.
    assert any(SCRIPT in set(frame.value.iloc[:, 0]) for frame in app.dataframe)
    assert_nothing_renders_html(app)


def test_script_in_texts_to_predict_is_shown_as_plain_text(with_model: AppTest) -> None:
    open_page(with_model, "pages/4_Predict.py")
    with_model.text_input(key="predict_text").input(SCRIPT).run()
    assert not with_model.exception
    assert_nothing_renders_html(with_model)
    content = f"review\n{SCRIPT}\ngreat phone\n".encode()
    with_model.file_uploader(key="predict_upload").set_value((f"{SCRIPT}.csv", content, "text/csv")).run()
    assert not with_model.exception and not with_model.error
    assert list(with_model.dataframe[0].value["review"]) == [SCRIPT, "great phone"]
    assert_nothing_renders_html(with_model)


# --- public mode ----------------------------------------------------------------------------------------------------
@pytest.fixture
def public_sessions(monkeypatch: pytest.MonkeyPatch, saved_model: str) -> Iterator[tuple[AppTest, AppTest]]:
    """Two browser sessions of a public deployment that ships the tiny model as a bundled one."""
    monkeypatch.setenv(PUBLIC_MODE_VARIABLE, "1")
    sessions = tuple(AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run() for _ in range(2))
    yield sessions
    for at in sessions:
        at.session_state["workspace"].close()


def _model_names(at: AppTest) -> list[str]:
    open_page(at, "pages/5_Models.py")
    return list(at.dataframe[0].value["name"])


def test_two_public_sessions_cannot_see_or_change_each_others_models(
    public_sessions: tuple[AppTest, AppTest], models_dir: Path
) -> None:
    first, second = public_sessions
    open_page(first, "pages/2_Train.py")
    tiny_settings(click(first, "Use the sample"))
    first.text_input(key="train_model_name").input("first-own").run()
    click(first, "Train")
    workspace = first.session_state["workspace"]
    workspace.job.wait(RUN_TIMEOUT)
    own_folder = workspace.registry.root
    assert own_folder.parent == models_dir / SESSIONS_FOLDER and (own_folder / "first-own").is_dir()

    assert _model_names(first) == ["first-own", TINY_MODEL]
    assert list(first.dataframe[0].value["bundled"]) == [False, True]
    assert _model_names(second) == [TINY_MODEL]  # the first session's model is not there
    assert any("kept for this browser session only" in caption.value for caption in second.caption)
    assert "first-own" not in str(second.session_state["workspace"].models())

    # The bundled model can be used and downloaded, never renamed or deleted.
    labels = [button.label for button in second.button]
    assert "Use this model" in labels and "Rename" not in labels and "Delete" not in labels
    assert second.get("download_button")[0].proto.label == "Download model.keras"
    assert any("bundled with the app, read-only" in unescaped(caption.value) for caption in second.caption)
    click(second, "Use this model")
    assert second.session_state["workspace"].active.name == TINY_MODEL

    workspace.close()  # the first session ends: its folder goes, the bundled model and the other session stay
    assert not own_folder.exists() and (models_dir / TINY_MODEL).is_dir()
    assert _model_names(second) == [TINY_MODEL]


def test_stale_session_folders_are_removed_when_the_app_starts(models_dir: Path) -> None:
    sessions = models_dir / SESSIONS_FOLDER
    stale, fresh = sessions / "gone-tab", sessions / "open-tab"
    for folder in (stale / "a-model", fresh / "a-model"):
        folder.mkdir(parents=True)
    old = time.time() - STALE_SESSION_SECONDS - 60
    for path in (stale, stale / "a-model"):
        os.utime(path, (old, old))
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
    assert not at.exception
    assert not stale.exists() and fresh.is_dir()
