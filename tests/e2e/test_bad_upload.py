"""Bad training files get a message that says what is wrong and what to do, never a traceback."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import go_to, upload, wait_for_app

# A PNG's signature and header chunk: what a picture saved with a .csv name starts with.
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + bytes(64)
ONE_CLASS_CSV = ("text,label\n" + "".join(f"review number {i} of a fine film,positive\n" for i in range(30))).encode()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("reviews.csv", PNG_BYTES, "'reviews.csv' looks like a PNG image, not a text file"),
    ("one_class.csv", ONE_CLASS_CSV, "of 'one_class.csv' has the label 'positive': add rows with at least one other"),
], ids=["png-named-csv", "one-class"])  # fmt: skip
def test_bad_upload_shows_its_message(page: Page, app_server: str, name: str, content: bytes, message: str) -> None:
    page.goto(app_server)
    wait_for_app(page)
    go_to(page, "Data")
    upload(page, {"name": name, "mimeType": "text/csv", "buffer": content})
    error = page.get_by_test_id("stAlertContainer").filter(has_text=message)
    expect(error).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("No data loaded yet")).to_be_visible()  # nothing was loaded
