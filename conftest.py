"""Every example in README.md, docs/ and the package's docstrings runs as a test.

The examples are collected by Sybil (https://sybil.readthedocs.io): each
fenced block is one test, run in the order of its document, all the blocks
of a document sharing one namespace and one working directory (a new
temporary directory per document, also its ``$HOME``, so ``var/auth`` in an
example is a fresh store). How each kind of block runs:

- ``python``: executed as printed. A block that defines ``test_*`` functions
  is an app's test file: it is written to a file of its own and run by
  pytest (through ``pytester``), with this package's pytest plugin as an
  installed app sees it.
- ``sh``: each line is a ``cross-auth-lite`` command, run in process through
  ``cross_auth_lite.cli.main`` and expected to exit 0. A block with any other
  command (``pip``, ``make``, ``export``) or that would not return (a server)
  must say so with ``<!-- skip: next "the reason" -->`` above it.
- ``text``, ``json``, ``toml``: shown, not run. Any other language is an
  error, so a block cannot go unnoticed under a new name.

Examples name servers as an app would (``postgresql://auth@db.internal/auth``,
``redis://cache.internal:6379/0``); before a block runs, those URLs are
replaced with the throwaway PostgreSQL and Redis servers the test suite
starts on loopback (``tests/pg_server.py``, ``tests/redis_server.py``): a new
schema for each distinct database URL of a document. Nothing else in a block is changed.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.document import PythonDocStringDocument
from sybil.evaluators.python import pad
from sybil.parsers.markdown import CodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

from tests import pg_server
from tests.redis_server import redis_server

pytest_plugins = ["pytester"]

__all__ = ["postgres_server", "redis_server"]

#: Languages of blocks that are shown and not run.
NOT_CODE = frozenset({"text", "json", "toml"})
POSTGRES_PLACEHOLDER = re.compile(r"postgresql://[\w.@:%-]*db\.internal[\w./:%=?&-]*")
REDIS_PLACEHOLDER = re.compile(r"redis://cache\.internal[\w./:%-]*")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg_server.PostgresServer]:
    """One PostgreSQL server for the session; skips the test when none can run here."""
    reason = pg_server.unavailable()
    if reason:
        pg_server.skip_or_fail(reason)
    server = pg_server.PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


class DocumentEnvironment:
    """Where one document's examples run: its directory, and its stand-in servers."""

    def __init__(self, request: pytest.FixtureRequest, directory: Path) -> None:
        self.request = request
        self.directory = directory
        self._postgres: dict[str, str] = {}
        self._redis: str | None = None
        self.cleanups: list[Any] = []
        #: The document's namespace, once an example ran.
        self.namespace: dict[str, Any] = {}

    def postgres_url(self, placeholder: str) -> str:
        """A schema of the test server for ``placeholder``: one per distinct URL."""
        if placeholder not in self._postgres:
            server: pg_server.PostgresServer = self.request.getfixturevalue("postgres_server")
            schema = server.new_schema()
            self.cleanups.append(lambda: server.drop_schema(schema))
            self._postgres[placeholder] = server.url(schema)
        return self._postgres[placeholder]

    def redis_url(self) -> str:
        if self._redis is None:
            url: str = self.request.getfixturevalue("redis_server")
            import redis

            with contextlib.closing(redis.Redis.from_url(url)) as client:
                client.flushall()
            self._redis = url
        return self._redis

    def stand_in(self, source: str) -> str:
        """``source`` with the placeholder servers' URLs replaced by local ones."""
        if POSTGRES_PLACEHOLDER.search(source):
            source = POSTGRES_PLACEHOLDER.sub(
                lambda found: self.postgres_url(found.group()), source
            )
        if REDIS_PLACEHOLDER.search(source):
            source = REDIS_PLACEHOLDER.sub(lambda _: self.redis_url(), source)
        return source


@pytest.fixture(scope="module")
def docs_environment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DocumentEnvironment]:
    """One per document (Sybil's file is the module): a fresh working directory."""
    environment = DocumentEnvironment(request, tmp_path_factory.mktemp("doc"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(environment.directory)
        patch.setenv("HOME", str(environment.directory))  # ~ in an example stays in here
        for name in list(os.environ):
            if name.startswith(("CROSS_AUTH_LITE_", "GITHUB_", "XDG_")):
                patch.delenv(name)
        yield environment
    _close_stores(environment.namespace)
    for cleanup in reversed(environment.cleanups):
        cleanup()


def _close_stores(namespace: dict[str, Any]) -> None:
    """Close what a document's examples opened and left open, as a process exit would."""
    import cross_auth_lite as lite

    for value in namespace.values():
        if isinstance(value, lite.LiteStore):
            value.close()


def _defines_tests(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]


def run_python(example: Example) -> None:
    environment: DocumentEnvironment = example.namespace["docs_environment"]
    environment.namespace = example.namespace
    source = environment.stand_in(str(example.parsed))
    tests = _defines_tests(source)
    if tests:
        # An app's test file, as printed: run it with pytest, on its own.
        pytester: pytest.Pytester = example.namespace["request"].getfixturevalue("pytester")
        pytester.makepyfile(**{f"test_doc_line_{example.line}": source})
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
        outcomes = result.parseoutcomes()
        assert result.ret == 0, "\n".join(result.outlines)
        assert outcomes.get("passed", 0) >= len(tests), outcomes
        return
    code = compile(pad(source, example.line + example.parsed.line_offset), example.path, "exec")
    exec(code, example.namespace)


def run_shell(example: Example) -> None:
    from cross_auth_lite.cli import main

    environment: DocumentEnvironment = example.namespace["docs_environment"]
    for line in environment.stand_in(str(example.parsed)).splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] == "cross-auth-lite", (
            f"{line!r} is not a cross-auth-lite command: "
            'mark the block with <!-- skip: next "why it cannot run here" -->'
        )
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(words[1:])
        assert status == 0, f"{line}: exit status {status}\n{out.getvalue()}{err.getvalue()}"


class UnknownBlockParser:
    """Fails on a fenced block of a language that is neither run nor declared not code."""

    def __init__(self) -> None:
        self.lexer = FencedCodeBlockLexer(
            language=r"[^\n]*", mapping={"language": "language", "source": "source"}
        )

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.lexer(document):
            language = region.lexemes["language"].strip()
            if language in {"python", "sh"} | NOT_CODE:
                continue
            region.parsed = language
            region.evaluator = self.fail
            yield region

    @staticmethod
    def fail(example: Example) -> None:
        raise AssertionError(
            f"a fenced block of language {example.parsed!r}: use python or sh (run), "
            f"or one of {sorted(NOT_CODE)} (not code)"
        )


def _parsers() -> list[Any]:
    return [
        CodeBlockParser("python", run_python),
        CodeBlockParser("sh", run_shell),
        SkipParser(),
        UnknownBlockParser(),
    ]


_FIXTURES = ["docs_environment", "request"]

pytest_collect_file = (
    Sybil(
        name="docs",
        parsers=_parsers(),
        patterns=["README.md", "CHANGELOG.md", "docs/*.md", "docs/*/*.md"],
        fixtures=_FIXTURES,
    )
    + Sybil(
        name="docstrings",
        parsers=_parsers(),
        patterns=["cross_auth_lite/*.py", "cross_auth_lite/*/*.py"],
        document_types={".py": PythonDocStringDocument},
        fixtures=_FIXTURES,
    )
).pytest()
