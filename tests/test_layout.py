"""Checks on the repository's shape: core/ stays free of streamlit, and the docs and CI use the make targets."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


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
    core_files = sorted((REPO_ROOT / "core").rglob("*.py"))
    assert core_files, "core/ holds no Python files; did the package move?"
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for path in core_files
        for line in _streamlit_import_lines(path.read_text(encoding="utf-8"), str(path))
    ]
    assert not offenders, (
        "core/ must not import streamlit (UI code belongs in app.py and pages/); found it at "
        + ", ".join(offenders)
    )


def test_readme_names_the_make_targets() -> None:
    readme = REPO_ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md not written yet")
    text = readme.read_text(encoding="utf-8")
    for command in ("make run", "make test"):
        assert command in text, f"README.md should tell readers to use `{command}`"


def test_ci_script_runs_make_test() -> None:
    ci_script = REPO_ROOT / ".ci" / "run"
    commands = [
        line.strip()
        for line in ci_script.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert any(re.match(r"(exec\s+)?make\s+test\b", command) for command in commands), (
        ".ci/run must run `make test` so CI and developers run the same tests"
    )
    assert os.access(ci_script, os.X_OK), ".ci/run must be executable (chmod +x .ci/run)"
