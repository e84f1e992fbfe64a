"""The documentation covers what the package offers: every public name, every command.

The examples themselves run through Sybil (the root ``conftest.py``); ``make
docs`` builds the site with ``--strict``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import cross_auth_lite as lite
from cross_auth_lite import errors
from cross_auth_lite.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
API = (ROOT / "docs" / "api.md").read_text()
sys.path.insert(0, str(ROOT / "tools"))
import docs_hooks  # noqa: E402


def test_the_api_reference_lists_every_public_name_and_every_exception() -> None:
    documented = set(re.findall(r"^::: cross_auth_lite\.(\w+)$", API, re.M))
    assert set(lite.__all__) - documented == set()
    assert set(errors.__all__) <= documented
    assert documented - set(lite.__all__) == {"testing", "pytest_plugin", "dev"}


def test_every_public_callable_has_a_docstring() -> None:
    for name in lite.__all__:
        value = getattr(lite, name)
        if callable(value):
            assert (value.__doc__ or "").strip(), name


def test_the_cli_reference_has_every_command_of_the_parser() -> None:
    reference = docs_hooks.cli_reference()
    parser = build_parser()
    titles = [" ".join(("cross-auth-lite", *words)) for words, _ in docs_hooks._commands(parser)]
    assert len(titles) > 15
    for title in titles:
        assert f"### `{title}`" in reference
    assert docs_hooks.MARKER in (ROOT / "docs" / "cli.md").read_text()


def test_the_readme_links_only_to_absolute_urls_and_its_own_headings() -> None:
    readme = (ROOT / "README.md").read_text()
    headings = {
        re.sub(r"[^\w\- ]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in readme.splitlines()
        if line.startswith("## ")
    }
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        if target.startswith("#"):
            assert target[1:] in headings, target
        else:
            assert target.startswith("https://"), target
    for path in re.findall(r"`((?:docs/[\w/.-]+\.md)|CHANGELOG\.md|LICENSE)`", readme):
        assert (ROOT / path).is_file(), path
