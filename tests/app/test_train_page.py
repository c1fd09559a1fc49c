"""The Train page: presets fill the form, bad settings are explained, and a tiny model trains, saves and stops."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import RUN_TIMEOUT, click, errors, open_page, unescaped


@pytest.fixture
def train_page(app: AppTest) -> AppTest:
    """The Train page with the bundled sample loaded."""
    open_page(app, "pages/2_Train.py")
    return click(app, "Use the sample")


def tiny_settings(at: AppTest, epochs: int = 2) -> AppTest:
    at.selectbox(key="train_family_en").set_value("mlp")
    at.text_input(key="train_layer_sizes").input("8")
    at.number_input(key="train_vocab_size").set_value(500)
    at.number_input(key="train_epochs").set_value(epochs)
    return at.run()


def test_without_data_train_is_disabled(app: AppTest) -> None:
    open_page(app, "pages/2_Train.py")
    assert app.info[0].value == "Load training data first."
    assert next(button for button in app.button if button.label == "Train").disabled


def test_preset_fills_the_form(train_page: AppTest) -> None:
    train_page.selectbox(key="train_preset_en").set_value("article-lstm").run()
    assert train_page.selectbox(key="train_family_en").value == "lstm"
    assert train_page.text_input(key="train_layer_sizes").value == "64, 128"
    assert train_page.number_input(key="train_embedding_dim").value == 128
    assert not train_page.number_input(key="train_embedding_dim").disabled
    train_page.selectbox(key="train_preset_en").set_value("article-mlp").run()
    assert train_page.text_input(key="train_layer_sizes").value == "128, 64"
    assert train_page.number_input(key="train_embedding_dim").disabled  # mlp has no embedding


def test_bad_settings_show_what_to_fix(train_page: AppTest) -> None:
    train_page.text_input(key="train_layer_sizes").input("64, lots").run()
    click(train_page, "Train")
    assert "must be whole numbers separated by commas" in errors(train_page)[0]
    train_page.text_input(key="train_layer_sizes").input("64, 9999").run()
    click(train_page, "Train")
    assert "Setting layer_sizes=[64, 9999] is out of range" in errors(train_page)[0]
    assert train_page.session_state["workspace"].job is None


def test_tiny_model_trains_and_is_saved(train_page: AppTest) -> None:
    tiny_settings(train_page)
    click(train_page, "Train")
    workspace = train_page.session_state["workspace"]
    workspace.job.wait(RUN_TIMEOUT)
    train_page.run()
    assert not train_page.exception
    saved = unescaped(train_page.success[0].value)
    assert saved.startswith(f"Saved as **{workspace.active.name}** – test accuracy ")
    assert workspace.active.name.startswith("default-")
    links = [link.label for link in train_page.get("page_link")]
    assert links[-2:] == ["See the evaluation", "Try it on your own text"]
    assert "Epoch 2/2" in train_page.code[0].value


def test_running_job_survives_leaving_the_page_and_can_be_stopped(train_page: AppTest) -> None:
    tiny_settings(train_page, epochs=1000)
    train_page.checkbox(key="train_early_stopping").uncheck().run()
    click(train_page, "Train")
    open_page(train_page, "pages/1_Data.py")
    open_page(train_page, "pages/2_Train.py")
    assert [button.label for button in train_page.button] == ["Stop"]
    click(train_page, "Stop")
    job = train_page.session_state["workspace"].job
    assert job.wait(RUN_TIMEOUT).value == "stopped"
    train_page.run()
    assert unescaped(train_page.success[0].value).startswith("Stopped by you after")
    assert train_page.number_input(key="train_epochs").value == 1000  # the form kept its values


# AppTest runs every script under this one session id (streamlit/testing/v1/local_script_runner.py).
APPTEST_SESSION_ID = "test session id"


@pytest.fixture
def long_run(train_page: AppTest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """A training run that only ends when stopped, with a short grace period after a disconnect."""
    monkeypatch.setattr("core.workspace.RELEASE_GRACE_SECONDS", 0.3)
    tiny_settings(train_page, epochs=1000)
    train_page.checkbox(key="train_early_stopping").uncheck().run()
    return click(train_page, "Train")


def test_training_stops_when_the_session_ends(long_run: AppTest) -> None:
    from streamlit.runtime.caching import clear_session_resource_cache

    clear_session_resource_cache(APPTEST_SESSION_ID)  # what Streamlit does when the browser disconnects
    assert long_run.session_state["workspace"].job.wait(RUN_TIMEOUT).value == "stopped"


def test_training_survives_a_reconnect(long_run: AppTest) -> None:
    from streamlit.runtime.caching import clear_session_resource_cache

    clear_session_resource_cache(APPTEST_SESSION_ID)
    long_run.run()  # the browser reconnects within the grace period and reruns the app
    job = long_run.session_state["workspace"].job
    assert job.wait(1.0).value in ("queued", "running")


def test_settings_survive_a_language_switch(train_page: AppTest) -> None:
    train_page.selectbox(key="train_preset_en").set_value("article-lstm").run()
    train_page.sidebar.radio[0].set_value("zh").run()
    assert train_page.selectbox(key="train_preset_zh").value == "article-lstm"
    assert "LSTM：按顺序阅读文本" in train_page.selectbox(key="train_family_zh").options
    train_page.selectbox(key="train_family_zh").set_value("gru").run()
    train_page.sidebar.radio[0].set_value("en").run()
    assert train_page.selectbox(key="train_family_en").value == "gru"
    assert train_page.text_input(key="train_layer_sizes").value == "64, 128"
