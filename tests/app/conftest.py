"""AppTest fixtures: the app with an empty models folder per test, and the tiny model (trained once per session,
see tests/conftest.py) copied in for the pages that need a model.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.support import APP, click, open_page
from tests.support import RUN_TIMEOUT, TINY_MODEL


@pytest.fixture(autouse=True)
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test saves models into its own folder, never the repository's models/."""
    folder = tmp_path / "models"
    monkeypatch.setenv("STUDIO_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def app() -> Iterator[AppTest]:
    """The app, run once on its home page; its training job (if any) is stopped afterwards."""
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
    yield at
    if "workspace" in at.session_state:
        workspace = at.session_state["workspace"]
        workspace.close()
        if workspace.job is not None:
            workspace.job.wait(RUN_TIMEOUT)


@pytest.fixture
def saved_model(trained_models: Path, models_dir: Path) -> str:
    """The tiny model copied into this test's models folder (so renaming or deleting it stays local)."""
    shutil.copytree(trained_models, models_dir)
    return TINY_MODEL


@pytest.fixture
def with_model(app: AppTest, saved_model: str) -> AppTest:
    """The app with the tiny model made active on the Models page."""
    open_page(app, "pages/5_Models.py")
    return click(app, "Use this model")
