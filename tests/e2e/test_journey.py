"""The whole path a person takes: load data, train with a live chart, stop, evaluate, predict as they type, and
find the model on the Models page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    MR_TRAIN,
    chart_points,
    go_to,
    load_sample_on_data_page,
    screenshot,
    start_training,
    stop_button,
    stop_if_training,
    upload,
    wait_for_app,
    wait_for_chart_points,
)

ENGLISH = "A warm, funny and beautifully acted film."
CHINESE = "这部电影非常好看，演员的表演很精彩。"
# SVG text of the probability bar chart: class names on the y axis (the x axis is labelled 0%…100%) and a
# percentage beside each bar.
PREDICTION_JS = """() => {
    const chart = document.querySelector('[data-testid="stMain"] [data-testid="stVegaLiteChart"]');
    if (!chart) return null;
    const texts = selector => [...chart.querySelectorAll(selector)].map(node => node.textContent.trim());
    return {
        classes: texts('g.role-axis-label text').filter(label => !/^\\d+%$/.test(label)),
        percents: texts('g.mark-text.role-mark text'),
    };
}"""


def test_journey_upload_train_stop_evaluate_predict(page: Page, app_server: str) -> None:
    page.goto(app_server)
    wait_for_app(page)
    screenshot(page, "journey-1-home")

    go_to(page, "Data")
    if MR_TRAIN.is_file():
        upload(page, MR_TRAIN)
        expect(page.get_by_role("heading", name="Loaded: train.csv")).to_be_visible()
    else:
        load_sample_on_data_page(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "journey-2-data")

    go_to(page, "Train")
    try:
        _train_watch_and_stop(page)
    finally:
        stop_if_training(page)
    saved = page.get_by_test_id("stAlertContainer").filter(has_text="Saved as")
    expect(saved).to_contain_text("Stopped by you")
    model_name = re.search(r"Saved as (\S+)", saved.inner_text()).group(1)
    page.get_by_role("button", name="Use this model").click()  # a stopped run is used only when chosen
    wait_for_app(page)

    go_to(page, "Evaluate")
    expect(page.get_by_test_id("stMetric").filter(has_text="Accuracy")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    screenshot(page, "journey-4-evaluate")

    go_to(page, "Predict")
    expect(page.get_by_text(f"Model {model_name}")).to_be_visible()
    _predict_as_typed(page, ENGLISH, token="funny")
    _predict_as_typed(page, CHINESE, token="电")
    screenshot(page, "journey-5-predict")

    go_to(page, "Models")
    # The table is drawn on a canvas; the grid behind it (for screen readers) holds the same cells.
    cells = page.get_by_test_id("stDataFrame").locator('[role="gridcell"]')
    expect(cells.filter(has_text=re.compile(f"^{re.escape(model_name)}$"))).to_have_count(1)
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value(model_name)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "journey-6-models")


def _train_watch_and_stop(page: Page) -> None:
    """Trains long enough to watch the chart grow twice, then presses Stop and waits for the saved model."""
    start_training(page, epochs=200, early_stopping=False)
    first = wait_for_chart_points(page, more_than=0)
    second = wait_for_chart_points(page, more_than=first, timeout_ms=30_000)
    wait_for_chart_points(page, more_than=second, timeout_ms=30_000)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)  # loss and accuracy
    expect(page.get_by_test_id("stProgress").first).to_be_visible()
    screenshot(page, "journey-3-train")
    grown = chart_points(page)
    assert grown > first, f"the chart did not grow while training: {first} points, then {grown}"
    stop_button(page).click()
    expect(page.get_by_text("Saved as")).to_be_visible(timeout=60_000)
    wait_for_app(page)


def _predict_as_typed(page: Page, text: str, token: str) -> None:
    """Types `text` key by key (no Enter) and waits for the live prediction of exactly that text."""
    box = page.get_by_role("textbox", name="Your text")
    box.click()
    box.press("Control+A")
    box.press("Backspace")
    page.keyboard.type(text, delay=5)
    expect(page.get_by_text(re.compile("^Words read: .*" + re.escape(token)))).to_be_visible(timeout=10_000)
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="Predicted")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Confidence \d+(\.\d)?%$"))).to_be_visible()
    chart = page.evaluate(PREDICTION_JS)
    assert chart is not None, "no probability chart next to the prediction"
    label = page.get_by_test_id("stMetricValue").first.inner_text().strip()
    assert label in chart["classes"], f"predicted {label!r}, not one of the charted classes {chart['classes']}"
    percents = [float(value.rstrip("%")) for value in chart["percents"]]
    assert len(percents) == len(chart["classes"]) >= 2, chart
    assert abs(sum(percents) - 100) < 1, f"probabilities do not add up to 100%: {chart['percents']}"
