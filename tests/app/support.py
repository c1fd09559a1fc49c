"""What the AppTest tests share: the app's entry script and the steps a user takes in it (open a page, click,
fill the Train form with tiny settings), plus reading its text as the user sees it. Fixtures are in conftest.py.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.support import REPO

APP = REPO / "app.py"


def open_page(at: AppTest, page: str) -> AppTest:
    """Switches to `page` ("pages/1_Data.py"), runs it and checks that nothing raised."""
    at.switch_page(page).run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Clicks the button labelled `label` and reruns."""
    buttons = [button for button in at.button if button.label == label]
    assert buttons, f"no button {label!r}; buttons: {[button.label for button in at.button]}"
    buttons[0].click().run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def tiny_settings(at: AppTest, epochs: int = 2) -> AppTest:
    """Fills the Train form with a network that trains in a second or two (`default`'s bag of words, whatever
    preset the page suggested for the data)."""
    at.selectbox(key="train_preset_en").set_value("default").run()  # its own run: the preset refills the form
    at.selectbox(key="train_family_en").set_value("mlp")
    at.text_input(key="train_layer_sizes").input("8")
    at.number_input(key="train_vocab_size").set_value(500)
    at.number_input(key="train_epochs").set_value(epochs)
    return at.run()


def unescaped(text: str) -> str:
    """Markdown text as the user reads it (pages escape user text with backslashes, and break links and icons
    with invisible word joiners)."""
    return text.replace("\\", "").replace("\u2060", "")


def errors(at: AppTest) -> list[str]:
    return [unescaped(error.value) for error in at.error]
