"""The Data page: what a good upload shows, and the specific message for each bad one."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.support import click, errors, open_page, unescaped
from tests.support import csv_bytes, labelled_rows

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def data_page(app: AppTest) -> AppTest:
    return open_page(app, "pages/1_Data.py")


def upload(at: AppTest, name: str, content: bytes, key: str = "data_upload") -> AppTest:
    at.file_uploader(key=key).set_value((name, content, "text/csv")).run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def report_line(at: AppTest) -> str:
    return next(unescaped(caption.value) for caption in at.caption if caption.value.startswith("Encoding"))


def test_good_upload_shows_encoding_columns_and_counts(data_page: AppTest) -> None:
    rows = labelled_rows(30) + [("", "positive"), ("手机很好用，推荐", "positive"), ("质量太差了", "negative")]
    rows += [rows[0], (rows[1][0], "positive" if rows[1][1] == "negative" else "negative")]
    upload(data_page, "reviews.csv", csv_bytes(rows, header=("review", "sentiment"), delimiter=";", encoding="gb18030"))
    assert not data_page.error
    assert unescaped(data_page.subheader[0].value) == "Loaded: reviews.csv"
    report = data_page.session_state["workspace"].dataset.report
    kept = report.rows_kept
    assert metrics(data_page) == {"Rows read": "35", "Rows kept": str(kept), "Rows dropped": str(35 - kept),
                                  "Classes": "2"}
    line = report_line(data_page)
    assert "gb18030" in line and "semicolon" in line
    assert "text column **review**" in line and "label column **sentiment**" in line
    dropped = data_page.info[0].value
    assert "1 row had an empty text or label" in dropped and "1 row was an exact duplicate" in dropped
    assert f"{report.dropped_conflicting} rows had a text that also appears with another label" in dropped
    assert [box.value for box in data_page.selectbox][-2:] == ["review", "sentiment"]


def test_invisible_characters_in_labels_are_removed_and_reported(data_page: AppTest) -> None:
    rows = labelled_rows(30)
    rows[0] = (rows[0][0], rows[0][1] + "\u200b")  # the same label to the eye, another class to the computer
    upload(data_page, "hidden.csv", csv_bytes(rows))
    assert metrics(data_page)["Classes"] == "2"
    assert "1 label held invisible characters" in data_page.info[0].value


def test_tokens_show_chinese_characters(data_page: AppTest) -> None:
    upload(data_page, "zh.csv", csv_bytes([("手机很好用", "positive"), ("质量太差", "negative")] * 3
                                          + labelled_rows(10)))
    tokens = data_page.dataframe[0].value
    assert ["手", "机", "很", "好", "用"] in [list(row) for row in tokens["tokens"]]


def test_changing_the_label_column_reloads_the_file(data_page: AppTest) -> None:
    rows = [(text, label, "a" if index % 2 else "b") for index, (text, label) in enumerate(labelled_rows(20))]
    upload(data_page, "three.csv", csv_bytes(rows, header=("text", "label", "group")))
    data_page.selectbox(key="label_column_1").set_value("group").run()
    click(data_page, "Use these columns")
    assert "label column **group**" in report_line(data_page)
    assert data_page.session_state["workspace"].dataset.classes == ("a", "b")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "'empty.csv' is empty (0 bytes)"),
        ("photo.csv", PNG, "'photo.csv' looks like a PNG image, not a text file"),
        ("one-class.csv", csv_bytes([(f"text number {i}", "positive") for i in range(20)]),
         "has the label 'positive': add rows with at least one other label"),
        ("one-column.csv", b"text\nhello\nworld\n", "has only one column ('text')"),
    ],
)
def test_bad_upload_shows_its_message(data_page: AppTest, name: str, content: bytes, message: str) -> None:
    upload(data_page, name, content)
    assert len(data_page.error) == 1
    assert message in errors(data_page)[0]
    assert data_page.session_state["workspace"].dataset is None
    kept = data_page.session_state["_upload_data"][1]  # shown again on every rerun, so kept without baggage
    assert (kept.__traceback__, kept.__cause__, kept.__context__) == (None, None, None)


def test_bad_upload_keeps_the_previous_dataset(data_page: AppTest) -> None:
    upload(data_page, "good.csv", csv_bytes(labelled_rows(20)))
    upload(data_page, "empty.csv", b"")
    assert "'empty.csv' is empty" in errors(data_page)[0]
    assert unescaped(data_page.subheader[0].value) == "Loaded: good.csv"
    data_page.run()  # the message stays until another file is chosen, and the file is not read again
    assert "'empty.csv' is empty" in errors(data_page)[0]


def test_in_chinese_a_bad_upload_gives_its_details_in_chinese(data_page: AppTest) -> None:
    # Issue 14.6: the file, line and column details, not only a summary saying what kind of problem it is.
    data_page.sidebar.radio[0].set_value("zh").run()
    ragged = csv_bytes(labelled_rows(10)) + b"one text,positive,an extra field\n"
    upload(data_page, "ragged.csv", ragged)
    [message] = errors(data_page)
    assert message.startswith("“ragged.csv”第 12 行有 3 个字段，但表头有 2 个：请给含有逗号或换行的文本加上双引号")
    assert "详细说明为英文" not in message and "fields" not in message
    data_page.sidebar.radio[0].set_value("en").run()  # the kept error follows the language
    assert errors(data_page)[0].startswith("Line 12 of 'ragged.csv' has 3 fields but the header has 2")


def test_sample_loads_from_the_sample_tab(data_page: AppTest) -> None:
    data_page.selectbox(key="data_sample_en").set_value("reviews-zh").run()
    click(data_page, "Load the sample")
    assert unescaped(data_page.subheader[0].value) == "Loaded: reviews-zh.csv"
    assert not [box for box in data_page.selectbox if box.key and box.key.startswith("text_column")]


def test_separate_test_file_is_checked_against_the_labels(data_page: AppTest) -> None:
    upload(data_page, "train.csv", csv_bytes(labelled_rows(20)))
    unknown_label = [("so so, nothing special at all", "neutral"), ("great phone, love it", "positive")]
    upload(data_page, "test.csv", csv_bytes(unknown_label), key="test_upload_1")
    assert "labels the model was not trained on: 'neutral'" in errors(data_page)[0]
    upload(data_page, "test.csv", csv_bytes(labelled_rows(6, seed=3)), key="test_upload_1")
    assert not data_page.error
    assert unescaped(data_page.success[0].value) == "Test file test.csv: 6 rows."


def test_suspect_labels_are_listed_and_dropping_them_retrains(data_page: AppTest) -> None:
    rows = labelled_rows(200)
    flipped = {7, 40, 123}
    other = {"positive": "negative", "negative": "positive"}
    rows = [(text, other[label] if index in flipped else label) for index, (text, label) in enumerate(rows)]
    upload(data_page, "noisy.csv", csv_bytes(rows))
    data_page.number_input(key="suspects_folds").set_value(3).run()
    click(data_page, "Find suspect labels")
    workspace = data_page.session_state["workspace"]
    suspects = workspace.data.suspects
    # How well flipped labels are found is measured in tests/test_suspects.py and bench/suspects.py; here the
    # quick models of 200 rows need only flag a few, each pointing at its own row of the file.
    assert len(suspects) >= 2 and flipped & {suspect.row for suspect in suspects}
    assert all(rows[suspect.row] == (suspect.text, suspect.label) for suspect in suspects)
    table = data_page.dataframe[-1].value
    assert list(table.columns) == ["row", "text", "label", "suggested", "confidence"]
    assert table["row"].tolist() == [suspect.row for suspect in suspects]
    assert "Download the list (CSV)" in [button.proto.label for button in data_page.get("download_button")]

    chosen = [suspect.row for suspect in suspects[:2]]
    data_page.multiselect(key=f"suspects_chosen_{workspace.data.version}").set_value(chosen).run()
    click(data_page, "Drop them and retrain")
    assert len(workspace.dataset) == 198
    assert not {rows[row][0] for row in chosen} & set(workspace.dataset.texts)
    assert workspace.job is not None and workspace.job.config.preset == "default"
    workspace.job.wait(120)


# --- data health (core/health.py) -------------------------------------------------------------------------------
REVIEW = ("the battery lasts all day and the screen is bright enough to read in the sun, shipping was quick and "
          "the seller answered every question")


def health_lines(at: AppTest) -> list[str]:
    return [unescaped(expander.label) for expander in at.expander if expander.label != "Optional: a separate test file"]


def test_data_health_counts_each_problem_and_shows_its_examples(data_page: AppTest) -> None:
    rows = labelled_rows(40) + [(REVIEW, "positive"), (REVIEW.replace("quick", "fast"), "negative"),
                                ("ok", "positive"), ("nice phone, works", "postive"), ("bad one, broke", "postive")]
    upload(data_page, "messy.csv", csv_bytes(rows))
    lines = health_lines(data_page)
    assert "Data health" in [subheader.value for subheader in data_page.subheader]
    assert "Near-duplicate texts: 1 groups (1 extra rows)" in lines
    assert "Very short texts: 1 (under 3 tokens)" in lines
    assert "Labels that look like typos: 1" in lines
    assert "No very long texts (over 400 tokens)" in lines
    assert any(line.startswith("Languages: English") and "Chinese" in line for line in lines)
    assert "groups hold different labels" in data_page.warning[0].value  # the two copies disagree
    frames = [frame.value for frame in data_page.dataframe]
    duplicates = next(frame for frame in frames if "Group" in frame.columns)
    assert list(duplicates["Row in file"]) == [40, 41]
    typos = next(frame for frame in frames if "Probably meant" in frame.columns)
    assert typos.iloc[0][["Label", "Probably meant"]].tolist() == ["postive", "positive"]


def test_a_clean_file_passes_every_health_check(data_page: AppTest) -> None:
    upload(data_page, "clean.csv", csv_bytes(labelled_rows(40)))
    lines = health_lines(data_page)
    assert {"No near-duplicate texts", "No text shared between training and test", "No labels that look like typos",
            "No very short texts (under 3 tokens)"} <= set(lines)
    assert any(line.startswith("Classes balanced enough: ") for line in lines)


def test_an_unbalanced_file_points_to_balanced_class_weights(data_page: AppTest) -> None:
    rows = labelled_rows(60)
    rows = [row for row in rows if row[1] == "positive"] + [row for row in rows if row[1] == "negative"][:5]
    upload(data_page, "unbalanced.csv", csv_bytes(rows))
    assert "Class imbalance: positive has 6.0× the rows of negative" in health_lines(data_page)
    assert any("Set **Class weights** to **balanced** on the Train page" in caption.value
               for caption in data_page.caption)


def test_a_test_file_that_copies_training_texts_is_a_leak(data_page: AppTest) -> None:
    upload(data_page, "train.csv", csv_bytes(labelled_rows(20) + [(REVIEW, "positive")]))
    upload(data_page, "test.csv", csv_bytes([(REVIEW.upper(), "positive"), ("a fine phone", "positive")]),
           key="test_upload_1")
    assert "Texts shared between training and test: 1 groups (2 test rows checked)" in health_lines(data_page)
    leak = next(frame.value for frame in data_page.dataframe if "Group" in frame.value.columns)
    assert list(leak["Part"]) == ["training", "test file"]


def test_data_health_speaks_chinese(data_page: AppTest) -> None:
    data_page.sidebar.radio[0].set_value("zh").run()
    upload(data_page, "zh.csv", csv_bytes(labelled_rows(40) + [("好", "positive"), ("差", "negative")]))
    lines = health_lines(data_page)
    assert "过短的文本：2 条（少于 3 个词元）" in lines and "没有近似重复的文本" in lines
    assert any(line.startswith("语言：英文") for line in lines)
