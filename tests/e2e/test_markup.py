"""User text that Streamlit's Markdown would turn live (links, icons, entities, a direction override) shows as the
plain text it is, in a real browser: the only place where links and icons are drawn."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.support import go_to, wait_for_app

# One file name holding every trap: an autolinked domain and address, icon shortcodes, an HTML entity, and a
# right-to-left override that would make "txt.exe" read "exe.txt".
HOSTILE_NAME = "www.evil.example :material/warning: :streamlit: &lt;b&gt; me@evil.example txt\u202eexe.csv"
SHOWN_NAME = HOSTILE_NAME.replace("\u202e", "[U+202E]")
ROWS = "".join(f"review number {i} of a {'fine' if i % 2 else 'dull'} film,{'pos' if i % 2 else 'neg'}\n"
               for i in range(30))


def test_hostile_file_name_shows_as_plain_text(page: Page, app_server: str) -> None:
    page.goto(app_server)
    wait_for_app(page)
    go_to(page, "Data")
    # Not support.upload: the uploader's own chip shows the name differently (it is not Markdown).
    uploader = page.get_by_test_id("stFileUploader").first.get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files({"name": HOSTILE_NAME, "mimeType": "text/csv", "buffer": ("text,label\n" + ROWS).encode()})
    heading = page.get_by_role("heading", name="Loaded:")
    expect(heading).to_be_visible()
    wait_for_app(page)
    html = heading.inner_html()
    assert heading.locator('a:not([href^="#"])').count() == 0, html  # no link but Streamlit's own heading anchor
    assert heading.locator('[role="img"], img').count() == 0, html  # no material icon, no Streamlit logo
    shown = heading.inner_text().replace("\u2060", "")
    assert shown == f"Loaded: {SHOWN_NAME}", shown
