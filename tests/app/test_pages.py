"""Every page opens without an exception and shows what it should, with and without data or a model."""

from __future__ import annotations

import gc
import tomllib
from pathlib import Path

import keras
import pytest
from streamlit.testing.v1 import AppTest

from core.doctor import diagnose
from core.safety import PUBLIC_MODE_VARIABLE
from tests.app.support import APP, click, open_page, unescaped
from tests.support import REPO, RUN_TIMEOUT

PAGES = {
    "pages/0_Home.py": "Sentiment Studio",
    "pages/1_Data.py": "Data",
    "pages/2_Train.py": "Train",
    "pages/3_Evaluate.py": "Evaluate",
    "pages/4_Predict.py": "Predict",
    "pages/5_Models.py": "Models",
}


@pytest.mark.parametrize("page", list(PAGES))
def test_page_opens_with_nothing_loaded(app: AppTest, page: str) -> None:
    open_page(app, page)
    assert app.title[0].value == PAGES[page]
    assert not app.error


def test_home_explains_the_steps_and_the_device(app: AppTest) -> None:
    assert app.title[0].value == "Sentiment Studio"
    links = [link.label for link in app.main.get("page_link")]
    assert links[-4:] == ["1. Data", "2. Train", "3. Evaluate", "4. Predict"]  # after the phone's menu row
    assert any("Training runs on CPU" in caption.value or "GPU" in caption.value for caption in app.caption)


def test_home_shows_the_doctor_facts_in_one_line(app: AppTest, models_dir: Path) -> None:
    facts = diagnose(models_dir)
    line = next(unescaped(caption.value) for caption in app.caption if "Keras" in caption.value)
    for fact in (f"Python {facts.python}", f"TensorFlow {facts.tensorflow}", f"Keras {facts.keras}",
                 f"precision {facts.precision_policy}", "models folder .../models (writable)"):
        assert fact in line
    assert str(models_dir.parent) not in line  # no server path reaches a visitor
    assert ("built without CUDA" in line) != facts.built_with_cuda


def test_try_the_sample_loads_data_and_opens_train(app: AppTest) -> None:
    click(app, "Try the sample")
    assert app.title[0].value == "Train"
    workspace = app.session_state["workspace"]
    assert workspace.dataset is not None and len(workspace.dataset) > 100
    assert any("reviews-mixed.csv" in unescaped(caption.value) for caption in app.caption)


def test_pages_without_a_model_say_how_to_get_one(app: AppTest) -> None:
    for page in ("pages/3_Evaluate.py", "pages/4_Predict.py"):
        open_page(app, page)
        assert "No model is active yet" in app.info[0].value
    open_page(app, "pages/5_Models.py")
    assert app.info[0].value == "No saved models yet."


def test_sidebar_shows_no_model_then_the_loaded_one(app: AppTest, saved_model: str) -> None:
    assert any(caption.value == "No model active yet." for caption in app.sidebar.caption)
    open_page(app, "pages/5_Models.py")
    click(app, "Use this model")
    assert any(saved_model in unescaped(caption.value) for caption in app.sidebar.caption)


def test_language_switch_translates_the_app(app: AppTest) -> None:
    app.sidebar.radio[0].set_value("zh").run()
    assert not app.exception
    assert app.title[0].value == "Sentiment Studio 情感分析工作室"
    assert any(button.label == "试用示例数据" for button in app.button)
    open_page(app, "pages/1_Data.py")
    assert app.title[0].value == "数据"
    assert app.session_state["language"] == "zh"  # kept in session state, where every page reads it


def test_app_keeps_the_garbage_collector_off_imported_libraries(app: AppTest) -> None:
    # Over TensorFlow's unfrozen heap each full collection held the GIL for ~0.15 s; with Streamlit collecting
    # after every script and fragment run, page switches took 0.8 s and training stalled.
    assert gc.get_freeze_count() > 100_000


def test_streamlit_runs_no_full_collection_after_each_run() -> None:
    # Frozen imports or not, a full collection walks the training threads' models and graphs, holding the GIL
    # they need, several times a second while pages poll.
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False


def test_reruns_leave_the_training_threads_keras_state_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Streamlit calls keras.backend.clear_session() after every script and fragment run. It resets every
    # thread's Keras state under the jobs building and training models in the background: a job whose model was
    # being built while a page polled failed with 'The name "dropout" is used 2 times in the model' (the second
    # browser session's job in tests/e2e/test_isolation.py, now and then), and jobs trained 2-3 times slower.
    calls: list[str] = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: calls.append("clear_session"))
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
    open_page(at, "pages/2_Train.py")
    click(at, "Use the sample")
    at.run()
    assert not at.exception
    assert calls == []


def test_half_written_saves_are_removed_when_the_app_starts(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A process killed while saving leaves a `.tmp-*` folder; no save of a process that is just starting can
    # be running yet, so locally the app removes every one of them, whatever its age.
    monkeypatch.setenv(PUBLIC_MODE_VARIABLE, "0")
    crashed = models_dir / ".tmp-0123abcd"
    crashed.mkdir(parents=True)
    (crashed / "model.keras").write_bytes(b"partial")
    (models_dir / "a-model").mkdir()
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
    assert not at.exception
    assert sorted(path.name for path in models_dir.iterdir()) == ["a-model"]
