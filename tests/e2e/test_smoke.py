"""The app starts in a real browser and shows its home page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.support import wait_for_app


def test_home_page_shows_title(page: Page, app_server: str) -> None:
    page.goto(app_server)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sentiment Studio").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
