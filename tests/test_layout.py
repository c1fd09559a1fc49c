"""Checks on the repository's shape: core/ stays free of streamlit, and the docs and CI use the make targets."""

from __future__ import annotations

import ast
import os
import re

import pytest

from tests.support import REPO


def _streamlit_import_lines(source: str, filename: str = "<source>") -> list[int]:
    """Returns the line numbers of every `import streamlit…` or `from streamlit… import` in source."""
    lines = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        if any(module == "streamlit" or module.startswith("streamlit.") for module in modules):
            lines.append(node.lineno)
    return lines


def test_import_check_finds_every_form_of_streamlit_import() -> None:
    source = (
        "import os, streamlit as st\n"
        "from streamlit.runtime import exists\n"
        "import streamlit_extras\n"  # another package, not streamlit
        "from . import streamlit\n"  # a sibling module that happens to share the name
        "def f():\n"
        "    import streamlit.components.v1\n"
    )
    assert _streamlit_import_lines(source) == [1, 2, 6]


def test_core_never_imports_streamlit() -> None:
    core_files = sorted((REPO / "core").rglob("*.py"))
    assert core_files, "core/ holds no Python files; did the package move?"
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for path in core_files
        for line in _streamlit_import_lines(path.read_text(encoding="utf-8"), str(path))
    ]
    assert not offenders, (
        "core/ must not import streamlit (UI code belongs in app.py and pages/); found it at "
        + ", ".join(offenders)
    )


def test_readme_names_the_make_targets() -> None:
    readme = REPO / "README.md"
    if not readme.exists():
        pytest.skip("README.md not written yet")
    text = readme.read_text(encoding="utf-8")
    for command in ("make run", "make test"):
        assert command in text, f"README.md should tell readers to use `{command}`"


def test_ci_script_runs_make_test() -> None:
    ci_script = REPO / ".ci" / "run"
    commands = [
        line.strip()
        for line in ci_script.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert any(re.match(r"(exec\s+)?make\s+test\b", command) for command in commands), (
        ".ci/run must run `make test` so CI and developers run the same tests"
    )
    assert os.access(ci_script, os.X_OK), ".ci/run must be executable (chmod +x .ci/run)"


def _built_section(readme: str) -> str:
    """The README's "How it is built" section, up to the next heading of its level."""
    start = readme.index("## How it is built")
    following = readme.find("\n## ", start + 1)
    return readme[start:following if following != -1 else len(readme)]


def test_readme_describes_every_module_in_how_it_is_built() -> None:
    # Every core/ module, and every file in pages/: the page scripts (0_Home.py ...) and their helpers (_ui.py ...).
    section = _built_section((REPO / "README.md").read_text(encoding="utf-8"))
    modules = [path.relative_to(REPO).as_posix()
               for path in [*sorted((REPO / "core").glob("*.py")), *sorted((REPO / "pages").glob("*.py"))]
               if path.name != "__init__.py"]
    missing = [module for module in modules if f"`{module}`" not in section]
    assert not missing, f"README.md's 'How it is built' should give each module a line; missing: {missing}"


# A function longer than this says why in its docstring, with these words, or is split.
MAX_FUNCTION_LINES = 50
LONG_REASON = "Long because"


def _long_functions(source: str, filename: str = "<source>") -> list[tuple[str, int]]:
    """(name, lines) of every function longer than MAX_FUNCTION_LINES whose docstring gives no reason."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and LONG_REASON not in (ast.get_docstring(node) or ""):
                found.append((node.name, lines))
    return found


def test_the_long_function_check_counts_lines_and_reads_reasons() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert _long_functions(f"def short():\n{body[:-len(body.splitlines()[-1]) - 1]}") == []
    assert _long_functions(f"def long():\n{body}") == [("long", MAX_FUNCTION_LINES + 1)]
    assert _long_functions(f'def explained():\n    """{LONG_REASON} it is one table."""\n{body}') == []


def test_no_function_is_over_fifty_lines_without_a_stated_reason() -> None:
    files = [*sorted((REPO / "core").rglob("*.py")), *sorted((REPO / "pages").glob("*.py")),
             REPO / "app.py"]
    offenders = [f"{path.relative_to(REPO)}: {name} ({lines} lines)"
                 for path in files for name, lines in _long_functions(path.read_text(encoding="utf-8"), str(path))]
    assert not offenders, (f"split these, or say why in their docstring ('{LONG_REASON} ...'): "
                           + ", ".join(offenders))
