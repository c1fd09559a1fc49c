"""Fixtures that serve the real app with `streamlit run` and drive it in headless Chromium.

Tests import what they do in the app from tests/e2e/support.py (`from tests.e2e.support import wait_for_app`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_APP,
    E2E_DIR,
    FIRST_RUN_TIMEOUT_MS,
    AppServer,
    AppStartError,
    browser_session,
    browser_unavailable,
    launch_app,
    wait_for_app,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test under tests/e2e/ as `e2e`, so `-m "not e2e"` skips the browser tests."""
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AppServer]]:
    """Factory that starts an independent app server; every server it started is stopped after the session.

    Each server gets its own empty STUDIO_MODELS_DIR, so tests never write to the repo's models/.
    """
    servers: list[AppServer] = []

    def start(script: str = DEFAULT_APP, env: Mapping[str, str] | None = None) -> AppServer:
        try:
            server = launch_app(tmp_path_factory.mktemp("app-server"), script, env)
        except AppStartError as error:
            pytest.fail(str(error))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def app_server(start_app: Callable[..., AppServer], browser: Browser) -> str:
    """Base URL of the app (STUDIO_E2E_APP, default app.py) shared by the whole session, warmed up: its first page
    has been shown once, so no test pays the first run's TensorFlow import (over 30 s on a busy machine) inside
    a step bounded by PAGE_TIMEOUT_MS. A fresh server's first page is tested in test_fresh_start.py."""
    url = start_app().url
    page = browser.new_page()
    try:
        page.goto(url)
        wait_for_app(page, timeout_ms=FIRST_RUN_TIMEOUT_MS)
    finally:
        page.close()
    return url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright; never downloads a browser."""
    if not CHROMIUM.exists():
        browser_unavailable(f"{CHROMIUM} is missing; install it with `apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("playwright is not installed; run `make test` to install requirements-dev.txt")
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
    with browser_session(browser, request.node.name) as session_page:
        yield session_page
