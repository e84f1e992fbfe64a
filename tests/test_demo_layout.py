"""The demo's code is laid out by concern: routers in ``routes/``, no long functions."""

from __future__ import annotations

import ast
from pathlib import Path

import cross_auth_lite.demo

DEMO = Path(cross_auth_lite.demo.__file__).parent
MAX_FUNCTION_LINES = 100


def test_no_function_in_the_demo_is_over_100_lines() -> None:
    long = [
        f"{path.relative_to(DEMO)}:{node.lineno} {node.name} ({length} lines)"
        for path in sorted(DEMO.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert not long, long


def test_every_demo_module_says_what_it_owns() -> None:
    missing = [
        str(path.relative_to(DEMO))
        for path in sorted(DEMO.rglob("*.py"))
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not missing, missing
