"""Every UI string exists in English and Chinese with the same fields, and every key the pages use exists."""

from __future__ import annotations

import re
import string

import pytest

from core.config import FAMILIES, PRESETS
from core.i18n import STRINGS, t
from core.samples import sample_names
from tests.app.conftest import REPO

# Keys the pages build at run time, e.g. t(f"family_{family}").
DYNAMIC_KEYS = [
    *(f"family_{family}" for family in FAMILIES),
    *(f"preset_{name}" for name in [*PRESETS, "custom"]),
    *(f"sample_{name}" for name in sample_names()),
    *(f"ngrams_{n}" for n in (1, 2, 3)),
    "split_test", "split_validation",
    *(f"nav_{page}" for page in ("home", "data", "train", "evaluate", "predict", "models")),
    *(f"{page}_{part}" for page in ("data", "train", "evaluate", "predict", "models") for part in ("title", "caption")),
    *(f"step_{step}{suffix}" for step in ("data", "train", "evaluate", "predict") for suffix in ("", "_help")),
    *(f"delimiter_{name}" for name in ("comma", "tab", "semicolon", "bar", "other")),
]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_both_languages_have_the_same_fields(key: str) -> None:
    english, chinese = STRINGS[key]
    assert english.strip() and chinese.strip()
    assert _fields(english) == _fields(chinese)


def test_every_key_the_pages_use_exists() -> None:
    sources = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
    used = {key for path in sources for key in re.findall(r'\bt\("([^"]+)"', path.read_text(encoding="utf-8"))}
    missing = sorted((used | set(DYNAMIC_KEYS)) - set(STRINGS))
    assert not missing


def test_t_fills_values_and_falls_back_to_english() -> None:
    assert t("saved_as", "en", name="m", split="test", accuracy=0.875) == "Saved as **m** – test accuracy 87.5%."
    assert t("saved_as", "zh", name="m", split="测试集", accuracy=0.5) == "已保存为 **m** – 测试集准确率 50.0%。"
    assert t("nav_data", "fr") == "Data"
    with pytest.raises(KeyError):
        t("no_such_key")


def test_no_key_is_written_twice() -> None:
    # A dict literal keeps the last of two equal keys without a word: a new "evaluated_on" once silently
    # replaced the Evaluate page's caption.
    import ast

    tree = ast.parse((REPO / "core" / "i18n.py").read_text(encoding="utf-8"))
    strings = next(node.value for node in tree.body if isinstance(node, ast.AnnAssign) and node.target.id == "STRINGS")
    keys = [key.value for key in strings.keys]
    assert sorted({key for key in keys if keys.count(key) > 1}) == []
