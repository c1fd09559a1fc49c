"""Predict: type a text and see the sentiment as you type, or predict a whole file and download the results."""

from __future__ import annotations

import streamlit as st

from core.evaluate import probability_column
from core.explain import explain
from core.predict import MAX_TEXT_CHARACTERS
from core.safety import to_safe_csv
from core.workspace import Workspace
from pages import _tables, _ui
from pages._ui import t

PREVIEW_ROWS = 1000
RESULTS_KEY = "predict_results"
# A token is coloured when leaving it out moves the label's log-odds (core.explain) by at least MIN_PULL, with
# a background when its pull is at least STRONG_PULL of the text's strongest, in letters from WEAK_PULL.
# 0.05 in log-odds is about one percentage point at 50%: a word below it did not change the prediction visibly.
MIN_PULL = 0.05
STRONG_PULL = 0.5
WEAK_PULL = 0.2
LINES_KEY = "predict_lines"


# One text, predicted while the user types (only this part of the page reruns). Streamlit's one-line field
# predicts as you type but a browser drops the line breaks of pasted text; its text area keeps them but
# sends the text only on Ctrl+Enter or when the field is left. So typing uses the field, and "Several lines"
# switches to the area, carrying the text across.
@st.fragment
def single_ui(current: Workspace) -> None:
    several = st.toggle(t("predict_several_lines"), key="predict_multiline", on_change=_carry_text,
                        help=t("predict_several_lines_help"), persist_state="session")
    if several:
        text = st.text_area(t("predict_input"), key=LINES_KEY, max_chars=MAX_TEXT_CHARACTERS, height="content",
                            placeholder=t("predict_placeholder"), persist_state="session")
    else:
        text = st.text_input(t("predict_input"), key="predict_text", live=_ui.LIVE_DELAY,
                             max_chars=MAX_TEXT_CHARACTERS, placeholder=t("predict_placeholder"),
                             persist_state="session")
    if not text.strip():
        st.caption(t("predict_lines_hint" if several else "predict_hint"))
        return
    prediction = current.predict([text])[0]
    label, bars = st.columns([1, 3])
    label.metric(t("predicted_label"), _ui.plain(prediction.label))
    label.caption(t("confidence_line", confidence=prediction.probabilities[prediction.label]))
    bars.altair_chart(_ui.bar_chart(prediction.probabilities, value_title=t("probability"), percent=True),
                      width="stretch")
    explanation_ui(current, text)
    if several:
        st.caption(t("predict_lines_read", count=text.strip().count("\n") + 1))


def _carry_text() -> None:
    """Moves the text typed so far into the field now shown (the area's line breaks become spaces in the field)."""
    if st.session_state.get("predict_multiline"):
        st.session_state[LINES_KEY] = st.session_state.get("predict_text", "")
    else:
        st.session_state["predict_text"] = " ".join(st.session_state.get(LINES_KEY, "").split())


# The words the model read, coloured by how each moved the prediction (each left out in turn, core.explain);
# a long text's words are left out a few at a time, and a sequence model's unread tail is said to be unread.
def explanation_ui(current: Workspace, text: str) -> None:
    explanation = explain(current.active.predictor, text)
    st.markdown(t("explain_tokens", tokens=_highlighted(explanation.tokens, explanation.influence) or "–"))
    st.caption(t("explain_legend", label=_ui.plain(explanation.label)))
    if explanation.part_size > 1:
        st.caption(t("explain_parts", size=explanation.part_size))
    if explanation.tokens_read < explanation.tokens_total:
        st.caption(t("explain_cut", read=explanation.tokens_read, total=explanation.tokens_total))


def _highlighted(tokens: list[str], influence: list[float]) -> str:
    """Markdown of the tokens: strong pulls on a green (toward the label) or red (away) background, weaker
    ones in green or red letters, the rest plain; "strong" is relative to this text's strongest token."""
    strongest = max(map(abs, influence), default=0.0)
    words = []
    for token, pull in zip(tokens, influence):
        word, color = _ui.plain(token), "green" if pull > 0 else "red"
        if abs(pull) >= max(STRONG_PULL * strongest, MIN_PULL):
            word = f":{color}-background[{word}]"
        elif abs(pull) >= max(WEAK_PULL * strongest, MIN_PULL):
            word = f":{color}[{word}]"
        words.append(word)
    return " ".join(words)


# A whole file: predictions in a table and as a CSV download.
def batch_ui(current: Workspace) -> None:
    st.subheader(t("batch_title"))
    st.caption(t("batch_help"))
    model = current.active.name
    file = st.file_uploader(t("batch_upload"), type=["csv", "tsv", "txt"], key="predict_upload")
    # Keyed by model too, so choosing another model predicts the same file again.
    _ui.handle_upload(file, f"predict_{model}", lambda upload: _store(upload, current, model))
    stored_model, predictions, frame = st.session_state.get(RESULTS_KEY, (None, None, None))
    if file is None or stored_model != model:
        return
    st.dataframe(frame.head(PREVIEW_ROWS), hide_index=True, column_config={
        predictions.table.text_column: st.column_config.TextColumn(width="large"),
        "predicted": st.column_config.TextColumn(t("predicted")),
        "confidence": _ui.percent_column(t("confidence"), bar=True),
        **{probability_column(c): _ui.percent_column(f"P({c})") for c in predictions.classes},
        "reason": st.column_config.TextColumn(t("reason")),
    })
    blank = int((~predictions.predicted).sum())
    st.caption(t("batch_caption", shown=min(len(frame), PREVIEW_ROWS), total=len(frame))
               + (" " + t("batch_blank", count=blank) if blank else ""))
    st.download_button(t("download_csv"), data=lambda: to_safe_csv(frame), file_name="predictions.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore")


def _store(file: object, current: Workspace, model: str) -> None:
    st.session_state.pop(RESULTS_KEY, None)  # a failed file must not show the previous file's results
    predictions = current.predict_file(file)
    st.session_state[RESULTS_KEY] = (model, predictions, _tables.prediction_frame(predictions, t("empty_text_reason")))


current = _ui.workspace()
_ui.page_header("predict_title", "predict_caption")
if _ui.need_model_ui(current):
    st.caption(t("predict_model", name=_ui.plain(current.active.name),
                 classes=_ui.plain(", ".join(current.active.predictor.classes))))
    single_ui(current)
    st.divider()
    batch_ui(current)
