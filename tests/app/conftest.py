"""AppTest fixtures: the app with an empty models folder per test, helpers to click and upload, and one tiny
model trained once per session for the pages that need a model.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import make_texts

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
# The first run imports TensorFlow and traces models; later runs take well under a second.
RUN_TIMEOUT = 60
TINY_MODEL = "tiny-model"


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


def open_page(at: AppTest, page: str) -> AppTest:
    """Switches to `page` ("pages/1_Data.py"), runs it and checks that nothing raised."""
    at.switch_page(page).run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Clicks the button labelled `label` and reruns."""
    buttons = [button for button in at.button if button.label == label]
    assert buttons, f"no button {label!r}; buttons: {[button.label for button in at.button]}"
    buttons[0].click().run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def tiny_settings(at: AppTest, epochs: int = 2) -> AppTest:
    """Fills the Train form with a network that trains in a second or two (`default`'s bag of words, whatever
    preset the page suggested for the data)."""
    at.selectbox(key="train_preset_en").set_value("default").run()  # its own run: the preset refills the form
    at.selectbox(key="train_family_en").set_value("mlp")
    at.text_input(key="train_layer_sizes").input("8")
    at.number_input(key="train_vocab_size").set_value(500)
    at.number_input(key="train_epochs").set_value(epochs)
    return at.run()


def unescaped(text: str) -> str:
    """Markdown text as the user reads it (pages escape user text with backslashes, and break links and icons
    with invisible word joiners)."""
    return text.replace("\\", "").replace("\u2060", "")


def errors(at: AppTest) -> list[str]:
    return [unescaped(error.value) for error in at.error]


def csv_bytes(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("text", "label"), delimiter: str = ",",
              encoding: str = "utf-8") -> bytes:
    """A small delimited file; fields with the delimiter or quotes are quoted."""
    def field(value: str) -> str:
        return f'"{value.replace(chr(34), chr(34) * 2)}"' if delimiter in value or '"' in value else value

    lines = [delimiter.join(map(field, row)) for row in [header, *rows]]
    return ("\n".join(lines) + "\n").encode(encoding)


def labelled_rows(count: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    texts, labels = make_texts(count, seed=seed)
    return list(zip(texts, labels))


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding one tiny model, trained once through the workspace like the Train page does."""
    from core.config import TrainConfig
    from core.workspace import Workspace

    root = tmp_path_factory.mktemp("trained") / "models"
    workspace = Workspace(models_root=root)
    workspace.load_upload(csv_bytes(labelled_rows(80)), name="tiny.csv")
    config = TrainConfig(family="mlp", layer_sizes=[8], vocab_size=500, epochs=2, batch_size=16, preset="default")
    job = workspace.start_training(config, name=TINY_MODEL)
    job.wait(RUN_TIMEOUT)
    assert workspace.last_run_info is not None, job.snapshot().error
    return root


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
