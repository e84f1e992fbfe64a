"""MkDocs hooks for the documentation site (``hooks:`` in mkdocs.yml).

``cli.md`` carries a ``<!-- cli-reference -->`` marker, replaced when the site
is built with the help of every command, from ``cross_auth_lite.cli.build_parser()``:
the reference cannot drift from the parser.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- cli-reference -->"
#: The width the help is wrapped to, whatever the terminal building the site.
WIDTH = "88"


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*words, name))


def cli_reference() -> str:
    """The help of ``cross-auth-lite`` and of each of its commands, as Markdown."""
    from cross_auth_lite.cli import PROG, build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parts = []
        for words, parser in _commands(build_parser()):
            title = " ".join((PROG, *words))
            parts.append(f"### `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        return "\n".join(parts)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Put the generated CLI reference in place of the marker."""
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
