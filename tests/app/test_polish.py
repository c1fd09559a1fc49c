"""What a newcomer tripped over (issue 15.1, 15.8, 15.9): a memorising model said so on Evaluate, one percent
format in every table, Chinese device and table text, readable model details, progress before the first batch,
chart axes that share the run's epochs, Chinese axis titles written across, an ID column called one, Train page
labels short enough for their column and automatic word groups shown as such."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from streamlit.testing.v1 import AppTest

from core.config import SETTINGS
from core.i18n import STRINGS
from pages import _ui
from pages._charts import CJK
from tests.app.support import click, errors, open_page, unescaped
from tests.support import csv_bytes, labelled_rows

PAGES_WITH_TABLES = ("pages/3_Evaluate.py", "pages/5_Models.py")


def _memorising(models_dir: Path, name: str, train: float = 1.0, test: float = 0.77) -> None:
    """Makes the saved model's record read as one that memorised its rows: train `train`, test `test`."""
    path = models_dir / name / "metadata.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["history"][-1]["accuracy"] = train
    metadata["metrics"]["accuracy"] = test
    path.write_text(json.dumps(metadata), encoding="utf-8")


def _warnings(at: AppTest) -> list[str]:
    return [unescaped(warning.value) for warning in at.warning]


def test_evaluate_says_plainly_when_a_model_memorised_its_training_data(
        app: AppTest, saved_model: str, models_dir: Path) -> None:
    _memorising(models_dir, saved_model)
    open_page(app, "pages/5_Models.py")
    click(app, "Use this model")
    open_page(app, "pages/3_Evaluate.py")
    [warning] = [text for text in _warnings(app) if "memorised" in text]
    assert "100.0%" in warning and "77.0%" in warning
    for advice in ("more labelled data", "Transfer", "Dropout", "fewer epochs", "Stop early"):
        assert advice in warning, advice
    app.sidebar.radio(key="language").set_value("zh").run()
    assert any("背下来" in text and "Dropout" in text for text in _warnings(app))


def test_evaluate_gives_no_memorising_warning_when_the_test_score_is_close(
        app: AppTest, saved_model: str, models_dir: Path) -> None:
    _memorising(models_dir, saved_model, train=1.0, test=0.95)
    open_page(app, "pages/5_Models.py")
    click(app, "Use this model")
    open_page(app, "pages/3_Evaluate.py")
    assert not [text for text in _warnings(app) if "memorised" in text]


def test_every_percentage_column_shows_one_decimal(with_model: AppTest) -> None:
    """Streamlit's "percent" shows up to two decimals ("72.76%") unless the step asks for fewer; text says 87.7%."""
    percent_columns = []
    for page in PAGES_WITH_TABLES:
        open_page(with_model, page)
        for table in with_model.dataframe:
            for name, column in json.loads(table.proto.columns).items():
                if column.get("type_config", {}).get("format") == "percent":
                    percent_columns.append((page, name, column["type_config"].get("step")))
    assert len(percent_columns) >= 3  # accuracy on Models, confidence and P(class) of the mistakes on Evaluate
    assert {step for _, _, step in percent_columns} == {_ui.PERCENT_STEP}, percent_columns


def test_chinese_shows_the_device_and_the_models_table_in_chinese(app: AppTest, saved_model: str) -> None:
    app.sidebar.radio(key="language").set_value("zh").run()
    assert any(f"CPU（{os.cpu_count()} 核）" in caption.value for caption in app.caption)  # Home's machine line
    open_page(app, "pages/5_Models.py")
    table = app.dataframe[0]
    [run] = table.value["run"]
    assert "轮" in run and "CPU（" in run and "cores" not in run
    headers = {column.get("label") for column in json.loads(table.proto.columns).values()}
    assert "训练" in headers and "训练秒数" not in headers  # the clipped header is gone into the short "训练"


def test_the_models_table_shows_few_enough_columns_to_fit(app: AppTest, saved_model: str) -> None:
    open_page(app, "pages/5_Models.py")
    table = app.dataframe[0]
    shown = list(table.proto.column_order)
    assert shown == ["active", "name", "created", "network", "accuracy", "macro_f1", "evaluated_on", "data", "rows",
                     "run"]
    row = table.value.iloc[0]
    assert row["network"] == f"default · mlp {row['layers']}" and row["run"].startswith(f"epochs {row['epochs']} · ")


def test_the_models_table_keeps_whole_names_in_view(app: AppTest, saved_model: str) -> None:
    """Wider than the page beside the sidebar, the table scrolls sideways: the name stays pinned, sized to fit it."""
    open_page(app, "pages/5_Models.py")
    columns = json.loads(app.dataframe[0].proto.columns)
    assert columns["name"].get("pinned") and columns["active"].get("pinned")
    assert "width" not in columns["name"]  # Streamlit sizes an unset width to the longest name


def test_model_details_show_no_json_and_no_null(app: AppTest, saved_model: str) -> None:
    open_page(app, "pages/5_Models.py")
    details = app.expander[-1]
    assert not details.json
    values = [value for table in details.dataframe for value in table.value["value"]]
    assert values and not {"None", "null", "NULL", "nan"} & set(values)
    assert "–" in values  # a setting saved as null (automatic n-grams, no decision threshold…) reads as a dash


def test_choosing_an_id_column_as_the_label_says_so_briefly(app: AppTest) -> None:
    rows = [(str(number), text, label) for number, (text, label) in enumerate(labelled_rows(28))]
    open_page(app, "pages/1_Data.py")
    app.get("file_uploader")[0].upload("ids.csv", csv_bytes(rows, header=("id", "text", "label")), "text/csv").run()
    app.selectbox(key=f"label_column_{app.session_state['workspace'].data.version}").set_value("id").run()
    click(app, "Use these columns")
    [message] = errors(app)
    assert "looks like an ID column" in message and "has 1 row" not in message


def test_progress_before_the_first_batch_does_not_read_batch_0_of_0() -> None:
    snapshot = SimpleNamespace(queue_position=None, embedding=False, epoch=0, epochs=20, batch=0,
                               batches_per_epoch=0, progress=0.0, eta_seconds=None)
    text = _ui.job_progress_text(snapshot)
    assert "0/0" not in text and text.startswith("Epoch 1/20 · starting")
    running = SimpleNamespace(**{**vars(snapshot), "epoch": 1, "batch": 3, "batches_per_epoch": 40})
    assert "batch 3/40" in _ui.job_progress_text(running)


def _x_scale(chart) -> tuple[list, dict]:
    encoding = chart.to_dict()["layer"][0]["encoding"]
    return encoding["x"]["scale"]["domain"], encoding["x"]["axis"]


def test_loss_and_accuracy_charts_share_the_runs_epochs_and_a_one_epoch_axis_reads_whole_epochs() -> None:
    batches = [{"epoch": step / 10, "loss": 1 / step, "accuracy": 0.5 + step / 100} for step in range(1, 13)]
    epochs = [{"epoch": 1, "loss": 0.5, "accuracy": 0.6, "val_loss": 0.6, "val_accuracy": 0.55}]
    loss = _x_scale(_ui.training_chart(batches, epochs, "loss", epochs=5))
    accuracy = _x_scale(_ui.training_chart(batches, epochs, "accuracy", epochs=5))
    assert loss == accuracy and loss[0] == [0, 5]  # both span the planned run, however far each has drawn
    one_epoch_domain, axis = _x_scale(_ui.training_chart([], epochs, "loss"))
    assert one_epoch_domain == [0, 1] and axis["format"] == "d" and axis["tickMinStep"] == 1


def test_chinese_axis_titles_are_written_across(monkeypatch) -> None:
    def y_axis(chart) -> dict:
        return chart.to_dict()["layer"][0]["encoding"]["y"]["axis"]

    epochs = [{"epoch": 1, "loss": 0.5, "accuracy": 0.6}]
    assert "titleAngle" not in y_axis(_ui.training_chart([], epochs, "loss"))  # English keeps Vega's own
    monkeypatch.setattr("pages._nav.lang", lambda: "zh")
    assert y_axis(_ui.training_chart([], epochs, "loss"))["titleAngle"] == 0
    assert _ui.training_chart([], epochs, "loss").to_dict()["layer"][0]["encoding"]["y"]["title"] == "损失"


# --- models renamed or deleted by another session (issue 15.5) ---------------------------------------------------
def test_predict_says_so_when_another_session_deleted_the_active_model(with_model: AppTest, saved_model: str) -> None:
    import shutil

    workspace = with_model.session_state["workspace"]
    shutil.rmtree(workspace.models_root / saved_model)  # as another session's Delete does
    open_page(with_model, "pages/4_Predict.py")
    assert any(saved_model in text and "deleted or replaced in another session" in text for text in _warnings(with_model))
    assert workspace.active is None
    assert not with_model.text_input  # no field that would predict with a ghost
    assert any(caption.value == "No model active yet." for caption in with_model.sidebar.caption)


def test_the_train_page_stops_linking_to_a_model_deleted_elsewhere(app: AppTest) -> None:
    import shutil

    from tests.app.support import tiny_settings

    open_page(app, "pages/2_Train.py")
    click(app, "Use the sample")
    app.selectbox(key="train_preset_en").set_value("default").run()
    tiny_settings(app, epochs=1)
    click(app, "Train")
    workspace = app.session_state["workspace"]
    workspace.job.wait(60)
    app.run()
    name = workspace.last_run_info.name
    assert [link for link in app.get("page_link") if link.proto.label == "Try it on your own text"]
    shutil.rmtree(workspace.models_root / name)
    app.run()
    assert any(name in text and "another session" in text for text in _warnings(app))
    assert not [link for link in app.get("page_link") if link.proto.label in ("See the evaluation", "Try it on your own text")]


def test_a_new_session_with_saved_models_offers_the_newest(app: AppTest, saved_model: str) -> None:
    open_page(app, "pages/4_Predict.py")
    assert saved_model in unescaped(app.info[0].value) and "newest" in app.info[0].value
    assert app.selectbox(key="offered_model").value == saved_model
    click(app, "Use this model")
    assert app.session_state["workspace"].active.name == saved_model
    assert app.text_input(key="predict_text")  # Predict is ready at once


# --- labels that fit their widget (issue 15.9) -----------------------------------------------------------------------
# Characters a Train page column (a third of the page beside the sidebar at 1400 px) shows of a select box's choice
# or a checkbox label before cutting it off: measured in Chromium, 36; a CJK character takes the room of two.
COLUMN_CHARS = 30


def _width(text: str) -> int:
    return sum(2 if CJK.match(char) else 1 for char in text)


def test_train_page_labels_and_choices_fit_their_column() -> None:
    keys = [setting.label for setting in SETTINGS.values() if setting.group is not None]
    keys += [f"{name}_{setting.none if option is None else option}"
             for name, setting in SETTINGS.items() if setting.group is not None and setting.kind == "choice"
             for option in setting.choices]
    too_long = [text for key in keys for text in STRINGS[key] if _width(text) > COLUMN_CHARS]
    assert too_long == []


def test_automatic_word_groups_show_as_automatic_not_an_empty_box(app: AppTest) -> None:
    """Streamlit shows a selectbox whose value is None as empty ("Choose an option"), even with None an option."""
    open_page(app, "pages/2_Train.py")
    click(app, "Use the sample")
    app.selectbox(key="train_preset_en").set_value("default").run()
    assert app.session_state["train_ngrams"] is None  # the default preset picks word groups by language
    box = app.selectbox(key="train_ngrams_en")
    assert box.index == 0 and box.options[box.index] == "automatic (by language)"
    box.select_index(1).run()
    assert app.session_state["train_ngrams"] == 1
    app.selectbox(key="train_ngrams_en").select_index(0).run()
    assert app.session_state["train_ngrams"] is None
    app.sidebar.radio(key="language").set_value("zh").run()
    box = app.selectbox(key="train_ngrams_zh")
    assert box.options[box.index] == "自动（按语言）"
