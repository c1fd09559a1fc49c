"""How the app feels while it trains, measured in a real browser: time from pressing Train to the first chart
point, how often the live chart redraws, how long a page switch takes while a job runs, and the server's peak
memory (the streamlit process and its children, sampled every 0.2 s) while training `default` on MR. Then,
in rounds, a second browser session presses Train while a first one trains and watches its chart (both on the
bundled samples, as tests/e2e/test_isolation.py does): how long until the second job's first chart point,
and whether it failed.

It drives the app exactly as the browser tests do (tests/e2e/support.py): `streamlit run app.py` on a free
port, headless Debian Chromium, clicks in the sidebar.

    .venv/bin/python bench/app.py            # 20 s of chart watching, 12 page switches, 6 two-session rounds
    .venv/bin/python bench/app.py --quick    # 8 s, 4 switches and 2 rounds (`make bench`)
    .venv/bin/python bench/app.py --screenshot docs/screenshot-train.png   # also the README's picture
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PeakMemory, base_parser, command_line, percentile, report

from tests.e2e.support import (
    CHART_POINTS_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    MR_TRAIN,
    PAGE_TIMEOUT_MS,
    AppServer,
    app_menu,
    chart_points,
    fill_training_form,
    go_to,
    launch_app,
    load_sample_on_data_page,
    open_train_page_with_sample,
    press_train,
    stop_button,
    upload,
    wait_for_app,
    wait_for_chart_points,
)

FIRST_POINT_TARGET_S = 3.0
PAGE_SWITCH_TARGET_S = 0.5
PEAK_RSS_TARGET_MB = 1536
SECOND_JOB_TARGET_S = 10.0
SWITCH_PAGES = ("Data", "Home", "Evaluate", "Train")
# Records (milliseconds since page load, points) each time the loss chart's point count changes.
WATCH_CHART_JS = """(countPoints) => {
    window.__chartChanges = [];
    let last = -1;
    const count = new Function('return (' + countPoints + ')()');
    new MutationObserver(() => {
        const points = count();
        if (points !== last) { last = points; window.__chartChanges.push([performance.now(), points]); }
    }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="save the Train page mid-training (1400x900) here, e.g. docs/screenshot-train.png")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"Skipping: {CHROMIUM} is missing (apt-get install chromium).")
        return
    from playwright.sync_api import sync_playwright

    watch_s, switches, rounds = (8.0, 4, 2) if args.quick else (20.0, 12, 6)
    server = launch_app(Path(tempfile.mkdtemp(prefix="bench-app-")))
    try:
        with PeakMemory(server.process.pid, interval=0.2) as memory, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            results = _measure(page, server, watch_s, switches, args.screenshot)
            results["peak_rss_mb"] = memory.peak_mb
            second_jobs = [_second_job(browser, server) for _ in range(rounds)]
            browser.close()
    finally:
        server.stop()
    report("App", command_line(), {"app responsiveness while training": _rows(results),
                                   "a second session's job while a first one trains": _second_job_rows(second_jobs)},
           args.json)


def _measure(page: Any, server: AppServer, watch_s: float, switches: int, screenshot: Path | None) -> dict[str, Any]:
    page.goto(server.url)
    wait_for_app(page)  # the first run imports TensorFlow
    go_to(page, "Data")
    if MR_TRAIN.is_file():
        upload(page, MR_TRAIN)
        data = "MR train.csv"
    else:
        load_sample_on_data_page(page)
        data = "bundled sample (MR not found)"
    rows = page.get_by_test_id("stMetric").filter(has_text="Rows kept").get_by_test_id("stMetricValue").inner_text()
    go_to(page, "Train")
    fill_training_form(page, epochs=200, early_stopping=False)
    page.evaluate(WATCH_CHART_JS, CHART_POINTS_JS)
    pressed_ms = page.evaluate("performance.now()")
    press_train(page)
    wait_for_chart_points(page, more_than=0, timeout_ms=120_000)
    page.wait_for_timeout(watch_s * 1000)
    changes = page.evaluate("window.__chartChanges")
    first_ms = next(time_ms for time_ms, points in changes if points > 0)
    drawn = [time_ms for time_ms, points in changes if points > 0]
    intervals = [(later - earlier) / 1000 for earlier, later in zip(drawn, drawn[1:])]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))  # the viewport only: what a person sees

    switch_seconds = [_switch(page, SWITCH_PAGES[index % len(SWITCH_PAGES)]) for index in range(switches)]
    if not stop_button(page).count():
        go_to(page, "Train")
    points = chart_points(page)
    stop_button(page).click()
    page.get_by_text("Saved as").wait_for(timeout=120_000)
    return {
        "data": f"{data}, {rows} rows",
        "first_point_s": (first_ms - pressed_ms) / 1000,
        "refresh_median_s": statistics.median(intervals) if intervals else float("nan"),
        "refresh_p90_s": percentile(intervals, 90) if intervals else float("nan"),
        "redraws": len(intervals),
        "points_at_stop": points,
        "switch_median_s": statistics.median(switch_seconds),
        "switch_max_s": max(switch_seconds),
        "switches": len(switch_seconds),
    }


def _second_job(browser: Any, server: AppServer) -> dict[str, Any]:
    """One round: Alice trains the English sample and watches her chart; then Bob presses Train on the Chinese
    one. Returns the seconds until his chart's first point (None if it never came) and his page's alerts."""
    alice, bob = (browser.new_context(viewport={"width": 1400, "height": 900}).new_page() for _ in range(2))
    for page, sample in ((alice, "Reviews, English"), (bob, "Reviews, Chinese")):
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        open_train_page_with_sample(page, server.url, sample)
        fill_training_form(page, epochs=200, early_stopping=False)
    press_train(alice)
    wait_for_chart_points(alice, more_than=0)
    bob.evaluate(WATCH_CHART_JS, CHART_POINTS_JS)
    pressed_ms = bob.evaluate("performance.now()")
    press_train(bob)
    first_point_s = None
    try:
        wait_for_chart_points(bob, more_than=0, timeout_ms=60_000)
        first_ms = next(time_ms for time_ms, points in bob.evaluate("window.__chartChanges") if points > 0)
        first_point_s = (first_ms - pressed_ms) / 1000
    except AssertionError:
        pass  # it failed or never started: the alerts say which
    alerts = bob.get_by_test_id("stAlert").all_inner_texts()
    for page in (alice, bob):
        if stop_button(page).count() and stop_button(page).is_enabled():
            stop_button(page).click()
            page.get_by_text("Saved as").wait_for(timeout=120_000)
        page.context.close()
    # An alert's text starts with its icon's name ("error"); the message is its last line.
    messages = [alert.strip().splitlines()[-1] for alert in alerts if alert.strip()]
    return {"first_point_s": first_point_s, "alerts": [message for message in messages if "failed" in message]}


def _second_job_rows(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    times = [entry["first_point_s"] for entry in rounds if entry["first_point_s"] is not None]
    failures = [alert for entry in rounds for alert in entry["alerts"]]
    return [
        {"measure": "second session's Train pressed → first chart point, median / max (s)",
         "target": f"≤ {SECOND_JOB_TARGET_S:g}",
         "result": f"{statistics.median(times):.1f} / {max(times):.1f} ({len(times)} of {len(rounds)} rounds)"
                   if times else "none came", "verdict": "met" if times and max(times) <= SECOND_JOB_TARGET_S
                                                          else "**missed**"},
        {"measure": "second session's jobs that failed", "target": "0",
         "result": f"{len(failures)}" + (f": {failures[0]}" if failures else ""),
         "verdict": "met" if not failures else "**missed**"},
    ]


def _switch(page: Any, title: str) -> float:
    """Seconds from clicking `title` in the sidebar until its heading shows and its script has finished."""
    heading = "Sentiment Studio" if title == "Home" else title
    link = app_menu(page).get_by_role("link", name=title, exact=True)
    started = time.monotonic()
    link.click()
    page.get_by_role("heading", name=heading, level=1).wait_for()
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")
    return time.monotonic() - started


def _rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    return [
        {"measure": "data trained (`default`, 200 epochs, stopped by hand)", "target": "10k rows",
         "result": results["data"], "verdict": ""},
        {"measure": "Train pressed → first chart point (s)", "target": f"≤ {FIRST_POINT_TARGET_S:g}",
         "result": round(results["first_point_s"], 2),
         "verdict": verdict(results["first_point_s"] <= FIRST_POINT_TARGET_S)},
        {"measure": "chart redraw interval while training, median / p90 (s)", "target": "~1 (poll interval)",
         "result": f"{results['refresh_median_s']:.2f} / {results['refresh_p90_s']:.2f} "
                   f"({results['redraws']} redraws)", "verdict": ""},
        {"measure": "page switch while training, median / max (s)", "target": f"≤ {PAGE_SWITCH_TARGET_S:g}",
         "result": f"{results['switch_median_s']:.2f} / {results['switch_max_s']:.2f} "
                   f"({results['switches']} switches)",
         "verdict": verdict(results["switch_median_s"] <= PAGE_SWITCH_TARGET_S)},
        {"measure": "peak RSS, server + children (MB)", "target": f"≤ {PEAK_RSS_TARGET_MB:,}",
         "result": round(results["peak_rss_mb"]),
         "verdict": verdict(results["peak_rss_mb"] <= PEAK_RSS_TARGET_MB)},
    ]


if __name__ == "__main__":
    main()
