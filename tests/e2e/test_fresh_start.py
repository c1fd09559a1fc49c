"""A freshly started server shows the app's own menu and home page, never Streamlit's list of files (issue 11).

Streamlit treats a `pages/` folder beside app.py as a v1 multipage app until a run calls `st.navigation`,
and sends that run's browser the raw file list ("app, Home, ..., ui"). The app used to call it only after
importing TensorFlow, so a browser that connected in those seconds could be stuck with the wrong menu. Each
start here is a new `streamlit run` process (as `make run` starts it: no --server.address) opened at once,
at 127.0.0.1 and localhost alternately; the later rounds run while a CPU-heavy training runs beside them.
A script recorded in the browser from its first byte notes every sidebar link ever shown and when the menu
and the home heading first appeared.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from core.i18n import t
from pages._nav import NAV_KEY, PAGES
from tests.e2e.support import AppServer, browser_session, launch_app
from tests.support import REPO

ROUNDS = 5
SERVERS_PER_ROUND = 4  # started together: 20 fresh starts in about two minutes on 2 cores
LOADED_ROUNDS = {3, 4}  # rounds run beside a concurrent training
# Bounds from opening the page. The menu comes before TensorFlow is imported, so it is quick even under load;
# the home page waits for that import (5-30 s on a busy 2-core machine, four servers importing at once).
MENU_BOUND_S = 15
HOME_BOUND_S = 90
MENU_TITLES = [t(title_key) for _, title_key, _, _ in PAGES]
# What Streamlit's file list would show for app.py and the helper modules in pages/.
FILE_NAMES = {"app", "ui", "nav", "tables", "compare", "charts"}
HOME_HEADING = t("app_title")
SAMPLE = REPO / "data" / "sample_en.csv"

WATCH_JS = """(() => {
    const seen = {links: [], streamlitNav: false, menuMs: null, homeMs: null};
    window.__freshStart = seen;
    const look = () => {
        for (const link of document.querySelectorAll('[data-testid="stSidebar"] a')) {
            const label = link.innerText.trim().split('\\n').pop().trim();  // the icon's ligature comes first
            if (!seen.links.includes(label)) seen.links.push(label);
        }
        if (document.querySelector('[data-testid="stSidebarNav"]')) seen.streamlitNav = true;
        if (seen.menuMs === null && document.querySelectorAll('.st-key-%s a').length === %d)
            seen.menuMs = performance.now();
        if (seen.homeMs === null && [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === %r))
            seen.homeMs = performance.now();
    };
    new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();""" % (NAV_KEY, len(PAGES), HOME_HEADING)


@pytest.fixture(scope="module")
def concurrent_training(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    """An LSTM training on the English sample through the CLI, running (past its first epoch) until the module
    ends."""
    workdir = tmp_path_factory.mktemp("load")
    command = [sys.executable, "-m", "core", "train", str(SAMPLE), "--family", "lstm", "--epochs", "1000",
               "--no-early-stopping", "--models-dir", str(workdir / "models")]
    log_path = workdir / "train.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_first_epoch(process, log_path)
        yield process
    finally:
        process.kill()
        process.wait()


def _wait_for_first_epoch(process: subprocess.Popen, log_path: Path, timeout_s: float = 120) -> None:
    """Returns once the training has logged an epoch, so the load beside the next rounds is training itself."""
    deadline = time.monotonic() + timeout_s
    while "Epoch " not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the concurrent training never logged an epoch:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.5)


def _start_servers(workdir: Path) -> list[AppServer]:
    """Starts the round's servers together; if one fails to start, stops the others and fails the test."""
    folders = [workdir / f"server-{index}" for index in range(SERVERS_PER_ROUND)]
    with ThreadPoolExecutor(SERVERS_PER_ROUND) as pool:
        futures = [pool.submit(_launch, folder) for folder in folders]
    servers = [future.result() for future in futures if future.exception() is None]
    errors = [future.exception() for future in futures if future.exception() is not None]
    if errors:
        for server in servers:
            server.stop()
        pytest.fail(str(errors[0]))
    return servers


def _launch(folder: Path) -> AppServer:
    folder.mkdir()
    return launch_app(folder, address=None)


def _open_and_watch(browser: Browser, servers: list[AppServer], round_index: int) -> list[dict[str, Any]]:
    """Opens every server at once in its own browser session and returns what each one showed."""
    with ExitStack() as stack:
        pages = []
        for index, server in enumerate(servers):
            start = round_index * SERVERS_PER_ROUND + index
            host = "127.0.0.1" if start % 2 == 0 else "localhost"
            page = stack.enter_context(browser_session(browser, f"fresh-start-{start}-{host}"))
            page.add_init_script(WATCH_JS)
            page.goto(server.url.replace("127.0.0.1", host))
            pages.append((start, host, page))
        return [_outcome(start, host, page) for start, host, page in pages]


def _outcome(start: int, host: str, page: Any) -> dict[str, Any]:
    """Waits (within the bound, counted in the browser from opening) for the home heading; returns what was seen."""
    elapsed_ms = page.evaluate("performance.now()")
    remaining_ms = max(HOME_BOUND_S * 1000 - elapsed_ms, 1)
    try:
        page.wait_for_function("window.__freshStart.homeMs !== null", timeout=remaining_ms)
    except Exception:  # noqa: BLE001 - a missed bound is reported with the others below
        pass
    seen = page.evaluate("window.__freshStart")
    return {"start": start, "host": host, **seen}


def _problems(outcome: dict[str, Any]) -> list[str]:
    problems = []
    if outcome["streamlitNav"] or FILE_NAMES & set(outcome["links"]):
        problems.append(f"Streamlit's file list was shown: {outcome['links']}")
    if outcome["menuMs"] is None or outcome["menuMs"] > MENU_BOUND_S * 1000:
        problems.append(f"the menu took {outcome['menuMs']} ms (bound {MENU_BOUND_S} s)")
    if outcome["homeMs"] is None or outcome["homeMs"] > HOME_BOUND_S * 1000:
        problems.append(f"the home heading took {outcome['homeMs']} ms (bound {HOME_BOUND_S} s)")
    if not set(MENU_TITLES) <= set(outcome["links"]):
        problems.append(f"the menu lacks pages: {outcome['links']}")
    return problems


def _fresh_round(browser: Browser, workdir: Path, round_index: int) -> None:
    servers = _start_servers(workdir)
    try:
        outcomes = _open_and_watch(browser, servers, round_index)
    finally:
        for server in servers:
            server.stop()
    failures = {f"start {o['start']} at {o['host']}": _problems(o) for o in outcomes if _problems(o)}
    assert not failures, failures
    timings = [(o["start"], o["host"], round(o["menuMs"] / 1000, 1), round(o["homeMs"] / 1000, 1))
               for o in outcomes]
    print(f"round {round_index} (start, host, menu s, home s): {timings}")


@pytest.mark.parametrize("round_index", [r for r in range(ROUNDS) if r not in LOADED_ROUNDS])
def test_fresh_servers_show_the_app_menu_and_home(browser: Browser, tmp_path: Path, round_index: int) -> None:
    _fresh_round(browser, tmp_path, round_index)


@pytest.mark.parametrize("round_index", sorted(LOADED_ROUNDS))
def test_fresh_servers_beside_a_training_show_the_app_menu_and_home(
        browser: Browser, tmp_path: Path, concurrent_training: subprocess.Popen, round_index: int) -> None:
    assert concurrent_training.poll() is None, "the concurrent training ended before this round"
    _fresh_round(browser, tmp_path, round_index)
