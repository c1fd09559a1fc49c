"""Fixtures that serve the real app with `streamlit run` and drive it in headless Chromium.

Tests import the helper with `from tests.e2e.conftest import wait_for_app`.
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"
# The app under test; STUDIO_E2E_APP points the tests at another script (relative to the repo root or absolute).
DEFAULT_APP = os.environ.get("STUDIO_E2E_APP", "app.py")
SERVER_START_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 30_000
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test under tests/e2e/ as `e2e`, so `-m "not e2e"` skips the browser tests."""
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


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
    """Polls the health endpoint; fails the test with the server's output if it dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"streamlit exited with code {server.process.returncode} before serving:\n{server.log()}")
        if _is_healthy(server.url):
            return
        time.sleep(0.25)
    server.stop()
    pytest.fail(f"streamlit did not answer {server.url}/_stcore/health within {timeout_s:.0f} s:\n{server.log()}")


def _browser_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("STUDIO_REQUIRE_BROWSER") == "1"


def _browser_unavailable(reason: str) -> NoReturn:
    """Fails in CI, where a missing browser is a broken setup; skips elsewhere so `make test` still runs."""
    if _browser_required():
        pytest.fail(f"{reason} (required because CI=true or STUDIO_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AppServer]]:
    """Factory that starts an independent app server; every server it started is stopped after the session.

    Each server gets its own empty STUDIO_MODELS_DIR, so tests never write to the repo's models/.
    """
    servers: list[AppServer] = []

    def start(script: str = DEFAULT_APP, env: Mapping[str, str] | None = None) -> AppServer:
        script_path = REPO_ROOT / script
        if not script_path.is_file():
            pytest.fail(f"app script {script_path} does not exist")
        workdir = tmp_path_factory.mktemp("app-server")
        port = _free_port()
        server_env = {**os.environ, "STUDIO_MODELS_DIR": str(workdir / "models"), "PYTHONUNBUFFERED": "1"}
        server_env.update(env or {})
        command = [
            sys.executable, "-m", "streamlit", "run", str(script_path),
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        log_path = workdir / "server.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=server_env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() also ends its children
            )  # fmt: skip
        server = AppServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
        servers.append(server)
        _wait_until_healthy(server, SERVER_START_TIMEOUT_S)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def app_server(start_app: Callable[..., AppServer]) -> str:
    """Base URL of the app (STUDIO_E2E_APP, default app.py) shared by the whole session."""
    return start_app().url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright; never downloads a browser."""
    if not CHROMIUM.exists():
        _browser_unavailable(f"{CHROMIUM} is missing; install it with `apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable("playwright is not installed; run `make test` to install requirements-dev.txt")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page per test; a full-page screenshot lands in artifacts/screenshots/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    file_name = re.sub(r"[^\w.-]+", "_", request.node.name) + ".png"
    try:
        page.screenshot(path=str(SCREENSHOT_DIR / file_name), full_page=True)
    except Exception as error:  # a crashed page must not turn the test's own result into a teardown error
        warnings.warn(f"no screenshot for {request.node.name}: {error}", stacklevel=1)
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
