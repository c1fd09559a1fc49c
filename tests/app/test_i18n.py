"""Every UI string exists in English and Chinese with the same fields, and every key the pages use exists."""

from __future__ import annotations

import ast
import re
import string
import textwrap

import pytest

from core.config import FAMILIES, PRESETS
from core.i18n import PLURAL_FORM, STRINGS, t
from core.samples import sample_names
from tests.support import REPO

# Keys the pages build at run time, e.g. t(f"family_{family}"); the keys written out are found in the sources.
DYNAMIC_KEYS = [
    *(f"family_{family}" for family in FAMILIES),
    *(f"preset_{name}" for name in [*PRESETS, "custom"]),
    *(f"sample_{name}" for name in sample_names()),
    *(f"ngrams_{n}" for n in (1, 2, 3, "auto")),
    "split_test", "split_validation",
    *(f"step_{step}_help" for step in ("data", "train", "evaluate", "predict")),
    "list_comma",  # core.i18n.Listing's default separator, looked up inside core/i18n.py itself
]


def _fields(text: str) -> set[str]:
    """The values a string formats; an English plural ("{count|row|rows}") names one that is formatted too."""
    return {name for _, name, _, _ in string.Formatter().parse(PLURAL_FORM.sub("", text)) if name}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_both_languages_have_the_same_fields(key: str) -> None:
    english, chinese = STRINGS[key]
    assert english.strip() and chinese.strip()
    assert _fields(english) == _fields(chinese)


# Functions that look a string up: `t` in pages and core.i18n, `translate` where pages/_ui imports it under that
# name, and `Message`, the string a core error carries (core.i18n.Message).
_LOOKUPS = {"t", "translate", "Message"}
# Tables of keys by name (ERROR_SUMMARIES, _DELIMITER_KEYS, step_keys): every string in them (in a dict, every
# value) is a key.
_KEY_TABLE = re.compile(r"(?i).*(_keys|summaries)$")


def _called_name(call: ast.Call) -> str | None:
    function = call.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)


def _key_parameters(trees: list[ast.Module]) -> dict[str, list[str]]:
    """Functions whose parameters named `..._key` take a key, e.g. page_header(title_key, caption_key); a bare `key`
    is a widget's session-state key, as in Streamlit."""
    functions = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names = [argument.arg for argument in node.args.args]
                if any(name.endswith("_key") for name in names):
                    functions[node.name] = names
    return functions


def _keys_in(trees: list[ast.Module]) -> tuple[set[str], set[str]]:
    """Keys written out in the sources, with either quotes, and the patterns of keys built with f-strings."""
    keyed = _key_parameters(trees)
    keys, patterns = set(), set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and _called_name(node) in _LOOKUPS:
                argument = node.args[0]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    keys.add(argument.value)
                elif isinstance(argument, ast.JoinedStr):  # t(f"family_{family}"): some key must fit
                    patterns.add("".join(re.escape(part.value) if isinstance(part, ast.Constant) else ".+"
                                         for part in argument.values))
            elif isinstance(node, ast.Call) and _called_name(node) in keyed:
                parameters = keyed[_called_name(node)]
                keys |= {argument.value for name, argument in zip(parameters, node.args)
                         if name.endswith("_key") and isinstance(argument, ast.Constant)}
            elif isinstance(node, ast.Assign) and any(_KEY_TABLE.match(getattr(target, "id", "")) for target in node.targets):
                table = ast.List(node.value.values, ast.Load()) if isinstance(node.value, ast.Dict) else node.value
                keys |= {part.value for part in ast.walk(table)
                         if isinstance(part, ast.Constant) and isinstance(part.value, str)}
    return keys, patterns


def _sources(*, with_strings: bool = True) -> list[ast.Module]:
    """The app's code; `with_strings` False leaves out core/i18n.py, where every key is written once."""
    paths = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py")), *sorted((REPO / "core").glob("*.py"))]
    return [ast.parse(path.read_text(encoding="utf-8")) for path in paths if with_strings or path.name != "i18n.py"]


def test_every_key_the_app_uses_exists() -> None:
    # Settings' labels, help and choices are checked with the config (tests/test_config.py).
    from pages._nav import PAGES

    keys, patterns = _keys_in(_sources())
    keys |= {title_key for _, title_key, _, _ in PAGES} | set(DYNAMIC_KEYS)
    assert sorted(keys - set(STRINGS)) == []
    assert sorted(pattern for pattern in patterns if not any(re.fullmatch(pattern, key) for key in STRINGS)) == []


def test_every_string_is_used() -> None:
    """A string nothing looks up any more (its column was folded into another, its widget removed) is dead text
    someone would go on translating. A key counts as used when any string in the sources spells it (lookups hide
    keys in conditionals and tables the key finder does not follow), a Setting names it, or an f-string key with a
    fixed leading part (t(f"log_{name}")) fits it."""
    from core.config import SETTINGS
    from pages._nav import PAGES

    trees = _sources(with_strings=False)
    keys = {node.value for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    keys |= {title_key for _, title_key, _, _ in PAGES} | set(DYNAMIC_KEYS)
    for name, setting in SETTINGS.items():  # the Train page and the CLI build these from each Setting
        keys |= {setting.label, setting.help, *(f"{name}_{option}" for option in setting.options)}
        if setting.none is not None:
            keys |= {setting.none, f"{name}_{setting.none}"}
    # t(f"{name}_{option}") would fit nearly every key; the settings it builds are counted above.
    patterns = [pattern for pattern in _keys_in(trees)[1] if not pattern.startswith(".+")]
    unused = [key for key in STRINGS if key not in keys and not any(re.fullmatch(pattern, key) for pattern in patterns)]
    assert unused == []


def test_the_key_finder_sees_single_quotes_tables_and_key_parameters() -> None:
    source = textwrap.dedent("""
        ERROR_SUMMARIES = ((DataError, "error_data"),)
        _DELIMITER_KEYS = {",": "delimiter_comma"}
        def header(title_key, other, key): ...
        t('single_quoted')
        _ui.t("double_quoted", rows=3)
        header("title", "not_a_key", "widget_key")
        t(f"family_{family}")
    """)
    keys, patterns = _keys_in([ast.parse(source)])
    assert keys == {"error_data", "delimiter_comma", "single_quoted", "double_quoted", "title"}
    assert patterns == {"family_.+"}


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
