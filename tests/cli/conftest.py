"""Fixtures the command-line tests share: where a store goes, a seeded store, a PostgreSQL schema.

The helpers (``run``, ``seed``, ``assert_one_line_error``) are in
``tests.test_cli_support``, which tests outside this folder use too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import PostgresServer
from tests.test_cli_support import seed


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Where the test's store goes: a directory not made yet."""
    return tmp_path / "store"


@pytest.fixture
def ids(data: Path) -> dict[str, Any]:
    """A store at ``data`` as ``seed`` makes it (plaintext tokens), and the ids of its rows."""
    return seed(data)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema."""
    with postgres_server.schema_url() as url:
        yield url
