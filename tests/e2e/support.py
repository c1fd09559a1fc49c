"""What the browser tests and the benchmarks share: an app server started with `streamlit run`, headless
Chromium's settings, and what a person does in the app (go to a page, upload, train, stop), each step waiting
until the app has finished its run. The fixtures that use them are in tests/e2e/conftest.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from tests.support import REPO, SHARED_DATASETS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = REPO / "artifacts" / "screenshots"
# The app under test; STUDIO_E2E_APP points the tests at another script (relative to the repo root or absolute).
DEFAULT_APP = os.environ.get("STUDIO_E2E_APP", "app.py")
SERVER_START_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 30_000
# A fresh server's first run imports TensorFlow: 5-30 s alone, more on a busy machine.
FIRST_RUN_TIMEOUT_MS = 120_000
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]


@dataclass
class AppServer:
    """One `streamlit run` process serving a script on a free local port."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Returns everything the server printed so far (stdout and stderr together)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Ends the server and any process it started (its whole process group)."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class AppStartError(RuntimeError):
    """The app server exited or never answered its health check; the message holds its output."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait_until_healthy(server: AppServer, timeout_s: float) -> None:
    """Polls the health endpoint; raises AppStartError with the server's output if it dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise AppStartError(f"streamlit exited with code {code} before serving:\n{server.log()}")
        if _is_healthy(server.url):
            return
        time.sleep(0.25)
    server.stop()
    raise AppStartError(
        f"streamlit did not answer {server.url}/_stcore/health within {timeout_s:.0f} s:\n{server.log()}"
    )


def _browser_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("STUDIO_REQUIRE_BROWSER") == "1"


def browser_unavailable(reason: str) -> NoReturn:
    """Fails in CI, where a missing browser is a broken setup; skips elsewhere so `make test` still runs."""
    if _browser_required():
        pytest.fail(f"{reason} (required because CI=true or STUDIO_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def launch_app(workdir: Path, script: str = DEFAULT_APP, env: Mapping[str, str] | None = None,
               address: str | None = "127.0.0.1", python: str | os.PathLike[str] = sys.executable,
               preexec_fn: Callable[[], None] | None = None) -> AppServer:
    """Starts `streamlit run script` on a free port with models saved under `workdir` and waits until it answers.

    Shared by the `start_app` fixture, tests/e2e/test_fresh_start.py and the benchmarks. `address=None`
    serves on every interface, as `make run` does, so both 127.0.0.1 and localhost reach it. `python` is the
    interpreter that serves (bench/cloud.py passes a fresh venv's); `preexec_fn` runs in the server's process
    before streamlit starts (bench/cloud.py puts it into a memory-capped cgroup there).

    Raises:
        AppStartError: the script is missing, or the server died or stayed silent for SERVER_START_TIMEOUT_S.
    """
    script_path = REPO / script
    if not script_path.is_file():
        raise AppStartError(f"app script {script_path} does not exist")
    port = _free_port()
    server_env = {**os.environ, "STUDIO_MODELS_DIR": str(workdir / "models"), "PYTHONUNBUFFERED": "1"}
    server_env.update(env or {})
    command = [
        str(python), "-m", "streamlit", "run", str(script_path),
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    if address is not None:
        command += ["--server.address", address]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO, env=server_env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() also ends its children
            preexec_fn=preexec_fn,
        )  # fmt: skip
    server = AppServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    _wait_until_healthy(server, SERVER_START_TIMEOUT_S)
    return server


@contextmanager
def browser_session(browser: Browser, screenshot_name: str) -> Iterator[Page]:
    """A page in a fresh browser context (its own app session); on exit a full-page screenshot lands in
    artifacts/screenshots/<screenshot_name>.png and the context closes."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        file_name = re.sub(r"[^\w.-]+", "_", screenshot_name) + ".png"
        try:
            page.screenshot(path=str(SCREENSHOT_DIR / file_name), full_page=True)
        except Exception as error:  # a crashed page must not turn the test's own result into a teardown error
            warnings.warn(f"no screenshot for {screenshot_name}: {error}", stacklevel=1)
        finally:
            context.close()


def wait_for_app(page: Page, timeout_ms: int = PAGE_TIMEOUT_MS, settle_ms: int = 200) -> None:
    """Waits until the app is connected and its script has finished running.

    Args:
        page: A Playwright page showing the app.
        timeout_ms: How long to wait for each state.
        settle_ms: Pause before checking. The app only reports "running" once the server has received a
            click or upload, so straight after one it still reads "notRunning" for a moment.
    """
    page.wait_for_timeout(settle_ms)
    app = '[data-testid="stApp"]'
    page.wait_for_selector(f'{app}[data-test-connection-state="CONNECTED"]', state="attached", timeout=timeout_ms)
    page.wait_for_selector(f'{app}[data-test-script-state="notRunning"]', state="attached", timeout=timeout_ms)


# --- what a person does in the app ---------------------------------------------------------------------------------
# Data points drawn in the first training chart (loss): vertices of its lines plus its epoch dots. Vega draws
# Altair charts as SVG here; `role-mark` leaves out the legend's symbols.
CHART_POINTS_JS = """() => {
    const chart = document.querySelector('[data-testid="stMain"] [data-testid="stVegaLiteChart"]');
    if (!chart) return 0;
    const vertices = [...chart.querySelectorAll('g.mark-line.role-mark path')]
        .map(path => ((path.getAttribute('d') || '').match(/[ML]/g) || []).length);
    return vertices.reduce((a, b) => a + b, 0) + chart.querySelectorAll('g.mark-symbol.role-mark path').length;
}"""
MR_TRAIN = SHARED_DATASETS / "mr" / "train.csv"


# The app's own menu of page links in the sidebar (pages/_nav.py NAV_KEY); Streamlit's page list is switched off.
APP_MENU = ".st-key-app_nav"


def app_menu(page: Page) -> Locator:
    return page.locator(APP_MENU)


def go_to(page: Page, title: str) -> None:
    """Clicks a page in the sidebar menu (same session; `page.goto` would start a new one) and waits for it."""
    app_menu(page).get_by_role("link", name=re.compile(rf"(^|\s){title}$")).click()
    heading = "Sentiment Studio" if title == "Home" else title  # the home page is titled with the app's name
    page.get_by_role("heading", name=heading, level=1).wait_for()
    wait_for_app(page)


def upload(page: Page, files: Path | dict, index: int = 0) -> None:
    """Puts a file (a path, or {"name", "mimeType", "buffer"}) into the `index`-th file uploader on the page."""
    uploader = page.get_by_test_id("stFileUploader").nth(index)
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files)
    name = files["name"] if isinstance(files, dict) else Path(files).name
    uploader.get_by_test_id("stFileChipName").filter(has_text=name).wait_for()
    uploader.get_by_test_id("stFileChipIconSpinner").wait_for(state="detached")
    wait_for_app(page, settle_ms=500)


def choose(page: Page, label: str, option: str) -> None:
    """Picks `option` in the selectbox labelled `label`."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def load_sample_on_data_page(page: Page, sample: str = "Reviews, English and Chinese") -> None:
    """On the Data page: the "Use a sample" tab, a sample by its shown name, then "Load the sample"."""
    page.get_by_role("tab", name="Use a sample").click()
    choose(page, "Sample", sample)
    page.get_by_role("button", name="Load the sample").click()
    page.get_by_role("heading", name=re.compile("^Loaded: ")).wait_for()
    wait_for_app(page)


def open_train_page_with_sample(page: Page, url: str, sample: str = "Reviews, English and Chinese",
                                 timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Opens the app at `url` (a new session), loads a bundled sample on the Data page and goes to the Train
    page. `timeout_ms` bounds the first page, which may wait for the server's first TensorFlow import."""
    page.goto(url, timeout=timeout_ms)
    wait_for_app(page, timeout_ms=timeout_ms)
    go_to(page, "Data")
    load_sample_on_data_page(page, sample)
    go_to(page, "Train")


def set_number(page: Page, label: str, value: float) -> None:
    """Types a value into the number input labelled exactly `label` and commits it with Enter."""
    field = page.get_by_role("spinbutton", name=label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_for_app(page)


def fill_training_form(page: Page, *, epochs: int | None = None, batch_size: int | None = None,
                       early_stopping: bool | None = None, name: str | None = None) -> None:
    """On the Train page: sets the given settings; the others keep the preset's values."""
    from playwright.sync_api import expect  # imported here: without playwright the fixtures skip, not crash

    if epochs is not None:
        set_number(page, "Epochs", epochs)
    if batch_size is not None:
        set_number(page, "Batch size", batch_size)
    if early_stopping is not None:
        box = page.get_by_role("checkbox", name=re.compile("^Stop early"))
        if box.is_checked() != early_stopping:
            # Streamlit draws its own box over the hidden input; a person clicks the label.
            page.get_by_test_id("stCheckbox").filter(has_text="Stop early").locator("label").first.click()
            wait_for_app(page)
            expect(box).to_be_checked(checked=early_stopping)
    if name is not None:
        field = page.get_by_role("textbox", name=re.compile("^Model name"))
        field.fill(name)
        field.press("Enter")
        wait_for_app(page)


def press_train(page: Page) -> None:
    page.get_by_role("button", name="Train", exact=True).click()


def start_training(page: Page, **settings: Any) -> None:
    """On the Train page: fills the settings (see `fill_training_form`), presses Train and waits for Stop."""
    fill_training_form(page, **settings)
    press_train(page)
    stop_button(page).wait_for(timeout=60_000)


def stop_button(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile("Stop$"))


def chart_points(page: Page) -> int:
    """Data points drawn in the loss chart now (0 when no chart is shown)."""
    return page.evaluate(CHART_POINTS_JS)


def wait_for_chart_points(page: Page, more_than: int, timeout_ms: int = 60_000) -> int:
    """Waits until the loss chart shows more than `more_than` points; returns how many it shows then.

    Raises:
        AssertionError: the time ran out; the message holds what the page's alerts say (a failed job's reason).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(f"({CHART_POINTS_JS})() > {more_than}", timeout=timeout_ms)
    except PlaywrightTimeoutError:
        alerts = page.get_by_test_id("stAlert").all_inner_texts()
        raise AssertionError(f"the chart had {chart_points(page)} points after {timeout_ms} ms (waiting for more "
                             f"than {more_than}); the page's alerts: {alerts}") from None
    return chart_points(page)


def stop_if_training(page: Page) -> None:
    """Best-effort cleanup: presses Stop when this session still trains, so no job outlives its test."""
    try:
        if not stop_button(page).count():
            go_to(page, "Train")
        button = stop_button(page)
        if button.count() and button.first.is_enabled():
            button.first.click()
            wait_for_app(page)
    except Exception as error:  # cleanup must not hide the test's own failure
        warnings.warn(f"could not stop training: {error}", stacklevel=1)


def screenshot(page: Page, name: str) -> Path:
    """Saves what the browser shows now as artifacts/screenshots/<name>.png (whole page) and returns the path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
