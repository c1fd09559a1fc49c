"""What a person sees in a real browser at desktop (1400 px) and phone (390 px) width (issue 14.7, 15.7, 15.9):
Train page labels and choices not cut off, automatic word groups shown as such, chart legends whole and inside
their charts, an epoch log that wraps, a menu row that lets a phone navigate without the sidebar, and the Models
table keeping model names in view. Screenshots land in artifacts/screenshots/polish-*.png.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.support import (
    FIRST_RUN_TIMEOUT_MS,
    SCREENSHOT_DIR,
    choose,
    go_to,
    screenshot,
    set_number,
    stop_button,
    stop_if_training,
    wait_for_app,
)

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
PHONE_MENU = ".st-key-app_nav_phone"
# Train page widgets whose text runs past their box: an element clipping its content is wider inside than out.
CLIPPED_JS = """() => {
    const clipped = element => element.scrollWidth > element.clientWidth + 1;
    const problems = [];
    for (const box of document.querySelectorAll('[data-testid="stMain"] [data-testid="stSelectbox"]')) {
        const parts = [...box.querySelectorAll('[data-baseweb="select"] div, [data-baseweb="select"] input')];
        if (parts.some(clipped)) problems.push('select: ' + (box.querySelector('input')?.value || box.innerText));
    }
    for (const label of document.querySelectorAll('[data-testid="stMain"] [data-testid="stWidgetLabel"]')) {
        if ([label, ...label.querySelectorAll('*')].some(clipped)) problems.push('label: ' + label.innerText);
    }
    return problems;
}"""
# Legend names in the page's charts (Vega draws them as SVG text): cut with "…", or reaching past the chart's edge;
# and line charts whose 260 px plot was squeezed to make room for their legend rows.
LEGENDS_JS = """() => {
    const names = [], problems = [];
    for (const chart of document.querySelectorAll('[data-testid="stMain"] [data-testid="stVegaLiteChart"]')) {
        const box = chart.getBoundingClientRect();
        const svg = chart.querySelector('svg');
        if (chart.querySelector('g.mark-line') && svg.getBoundingClientRect().height < 300)
            problems.push(`a line chart only ${Math.round(svg.getBoundingClientRect().height)} px high`);
        for (const label of chart.querySelectorAll('g.role-legend-label text')) {
            const text = label.textContent, edge = label.getBoundingClientRect();
            names.push(text);
            if (text.endsWith('…')) problems.push(text + ' is shortened');
            if (edge.right > box.right + 1 || edge.left < box.left - 1)
                problems.push(`${text} reaches ${Math.round(edge.right - box.left)} px of a ${Math.round(box.width)} px chart`);
        }
    }
    return {names, problems};
}"""
# The epoch log's code blocks that scroll or clip sideways instead of wrapping.
LOG_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stCode"] pre')]
    .map(block => ({wide: block.scrollWidth, shown: block.clientWidth, text: block.innerText}))"""


def _legends_whole(page: Page, expected: set[str]) -> None:
    page.wait_for_timeout(500)  # Vega redraws a chart after its container changed width
    legends = page.evaluate(LEGENDS_JS)
    assert expected <= set(legends["names"]), legends["names"]
    assert legends["problems"] == [], legends["problems"]


def _shoot(part: Locator, name: str) -> None:
    """A screenshot of one part of the page (scrolled into view: Streamlit scrolls inside the page, so a full-page
    screenshot shows only its top)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    part.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"))


def _train(page: Page, epochs: int) -> str:
    """Trains the form's settings for `epochs`, waits until the run is saved and returns the saved model's name."""
    set_number(page, "Epochs", epochs)
    page.get_by_role("button", name="Train", exact=True).click()
    stop_button(page).wait_for(timeout=60_000)
    saved = page.get_by_test_id("stAlertContainer").filter(has_text="Saved as")
    expect(saved).to_be_visible(timeout=180_000)
    wait_for_app(page)
    return re.search(r"Saved as (\S+)", saved.inner_text()).group(1)


def _pick_option(page: Page, picker: Locator, name: str) -> None:
    """Chooses the option `name` in a multiselect. Its list may still be open after the last choice, or close
    when the rerun that choice started redraws it, so it is opened only when it is not, and tried again."""
    for attempt in range(3):
        if picker.get_attribute("aria-expanded") != "true":
            picker.click()
        try:
            page.get_by_role("option", name=name, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise


def test_train_page_and_models_page_at_desktop_and_phone_width(page: Page, app_server: str) -> None:
    page.goto(app_server)
    wait_for_app(page, timeout_ms=FIRST_RUN_TIMEOUT_MS)
    go_to(page, "Train")
    page.get_by_role("button", name="Use the sample").click()
    wait_for_app(page)
    choose(page, "Preset", "Default: fast bag-of-words network (recommended)")
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Word groups").locator("input")).to_have_value(
        "automatic (by language)")
    assert page.evaluate(CLIPPED_JS) == []
    screenshot(page, "polish-1-train-form")

    try:
        models = {_train(page, epochs=3), _train(page, epochs=2)}  # two models, for the comparison below
    finally:
        stop_if_training(page)
    series = {"training (per batch)", "training", "validation"}
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        _legends_whole(page, series)
        logs = page.evaluate(LOG_JS)
        assert logs and all(log["text"].startswith("Epoch 1/2") for log in logs), logs
        assert all(log["wide"] <= log["shown"] + 1 for log in logs), logs  # wrapped: nothing hidden on the right
        _shoot(page.get_by_test_id("stExpander").first, f"polish-2-last-run-{name}")

    page.set_viewport_size(DESKTOP)
    go_to(page, "Models")
    picker = page.get_by_role("combobox", name="Saved models to compare")
    for model in sorted(models):  # by name: the shared server also holds other tests' models
        _pick_option(page, picker, model)
        wait_for_app(page)
    page.keyboard.press("Escape")
    names = set(page.get_by_test_id("stDataFrame").first.locator('[role="gridcell"]').all_inner_texts())
    assert models <= names, names
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        _legends_whole(page, models | {"training", "validation"})
        _shoot(page.get_by_test_id("stVegaLiteChart").first, f"polish-3-compare-{name}")
    _shoot(page.get_by_test_id("stDataFrame").first, "polish-3-models-table-phone")


def test_a_phone_navigates_from_the_menu_row_and_the_sidebar_stays_closed(page: Page, app_server: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(app_server)
    wait_for_app(page, timeout_ms=FIRST_RUN_TIMEOUT_MS)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_have_attribute("data-collapsed", "true")  # a phone-wide screen starts with it closed
    menu = page.locator(PHONE_MENU)
    expect(menu).to_be_visible()
    for title in ("Train", "Models", "Data"):
        menu.get_by_role("link", name=re.compile(rf"{title}$")).click()
        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
        wait_for_app(page)
        expect(sidebar).to_have_attribute("data-collapsed", "true")
    screenshot(page, "polish-4-phone-menu")
    page.set_viewport_size(DESKTOP)
    expect(menu).to_be_hidden()  # beside the sidebar's own menu the row would only repeat it
