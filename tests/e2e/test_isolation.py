"""People sharing one server: each sees only their own training job and chart, a newcomer sees none, and
stopping one run leaves the other running."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.support import (
    browser_session,
    chart_points,
    fill_training_form,
    go_to,
    open_train_page_with_sample,
    press_train,
    stop_button,
    stop_if_training,
    wait_for_app,
    wait_for_chart_points,
)


def test_two_sessions_train_apart(browser: Browser, app_server: str) -> None:
    with (browser_session(browser, "isolation-alice") as alice, browser_session(browser, "isolation-bob") as bob,
          browser_session(browser, "isolation-carol") as carol):
        try:
            _check_sessions_apart(alice, bob, carol, app_server)
        finally:
            stop_if_training(alice)
            stop_if_training(bob)


def _check_sessions_apart(alice: Page, bob: Page, carol: Page, app_server: str) -> None:
    open_train_page_with_sample(alice, app_server, "Reviews, English")
    fill_training_form(alice, epochs=200, early_stopping=False, name="alice-run")
    open_train_page_with_sample(bob, app_server, "Reviews, Chinese")
    fill_training_form(bob, epochs=200, early_stopping=False, name="bob-run")

    press_train(alice)
    stop_button(alice).wait_for(timeout=60_000)
    wait_for_chart_points(alice, more_than=0)
    # Bob starts while Alice watches her chart: both pages poll every second, and his job still reaches its
    # first batch within seconds (before app.py exempted imports from the garbage collector it took 30-80 s;
    # before it kept Streamlit from resetting Keras after each run, his model's build now and then failed).
    press_train(bob)
    stop_button(bob).wait_for(timeout=60_000)
    bob_points = wait_for_chart_points(bob, more_than=0, timeout_ms=30_000)
    go_to(alice, "Home")
    expect(alice.get_by_test_id("stSidebar").get_by_test_id("stProgress")).to_be_visible()  # her job goes on
    go_to(alice, "Train")

    # Carol arrives while both train: nothing of theirs is on her pages.
    carol.goto(app_server)
    wait_for_app(carol)
    go_to(carol, "Train")
    expect(carol.get_by_text("Load training data first.")).to_be_visible()
    expect(stop_button(carol)).to_have_count(0)
    expect(carol.get_by_test_id("stVegaLiteChart")).to_have_count(0)
    expect(carol.get_by_test_id("stProgress")).to_have_count(0)  # neither on the page nor in the sidebar

    _expect_own_job(alice, source="reviews-en.csv", other="reviews-zh.csv")
    _expect_own_job(bob, source="reviews-zh.csv", other="reviews-en.csv")

    # Alice stops; Bob's run goes on and his chart keeps growing.
    stop_button(alice).click()
    expect(alice.get_by_text(re.compile(r"Saved as alice-run"))).to_be_visible(timeout=60_000)
    alice.get_by_role("button", name="Use this model").click()  # a stopped run is used only when chosen
    wait_for_app(alice)
    expect(alice.get_by_text("Active model: alice-run")).to_be_visible()
    expect(stop_button(bob)).to_be_enabled()
    wait_for_chart_points(bob, more_than=max(bob_points, chart_points(bob)), timeout_ms=30_000)
    expect(bob.get_by_text("Saved as")).to_have_count(0)
    expect(bob.get_by_text("No model active yet.")).to_be_visible()

    stop_button(bob).click()
    expect(bob.get_by_text(re.compile(r"Saved as bob-run"))).to_be_visible(timeout=60_000)
    expect(alice.get_by_text("bob-run")).to_have_count(0)
    for session in (alice, bob):
        expect(session.get_by_test_id("stException")).to_have_count(0)


def _expect_own_job(page: Page, source: str, other: str) -> None:
    """The Train page shows this session's running job (its data, progress, two charts), not the other's."""
    expect(page.get_by_text(re.compile(f"^Training data: {re.escape(source)}"))).to_be_visible()
    expect(page.get_by_test_id("stMain")).not_to_contain_text(other)
    expect(stop_button(page)).to_be_enabled()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)
