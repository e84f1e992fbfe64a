"""Shared fixtures: real stores in temporary directories.

Modules marked ``pytest.mark.all_backends`` run each test that uses a store
fixture (through ``backend``) on SQLite and on PostgreSQL: a server started
once per session by ``tests.pg_server``, a fresh schema per store. The
PostgreSQL runs skip, saying why, where the server binaries or the driver are
missing. ``pytest.mark.sqlite_only`` keeps one test of such a module on SQLite.

Modules marked ``pytest.mark.contract`` (the storages' protocol and the
sign-in flow through the router) run each test twice: on the fast paths,
and in portable mode (``$CROSS_AUTH_LITE_PORTABLE``), the public API of
peewee and diskcache only. Every other test runs with the variable unset.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import cross_auth_lite as lite
from cross_auth_lite.adapters.portable import PORTABLE_ENV
from tests import pg_server

BACKENDS = ("sqlite", "postgresql")
MODES = ("fast", "portable")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "all_backends: run the store fixtures on SQLite and on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "sqlite_only: keep this test of an all_backends module on SQLite"
    )
    config.addinivalue_line(
        "markers", "contract: run each test on the fast paths and in portable mode"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    if definition.get_closest_marker("all_backends") and not definition.get_closest_marker(
        "sqlite_only"
    ):
        metafunc.parametrize("backend", BACKENDS, indirect=True)
    if "store_mode" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "contract"
    ):
        metafunc.parametrize("store_mode", MODES, indirect=True)


@pytest.fixture(autouse=True)
def store_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``fast``, or ``portable`` with ``$CROSS_AUTH_LITE_PORTABLE`` set for the test."""
    mode: str = getattr(request, "param", "fast")
    monkeypatch.delenv(PORTABLE_ENV, raising=False)
    if mode == "portable":
        monkeypatch.setenv(PORTABLE_ENV, "1")
    return mode


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Where the test's stores keep accounts and sessions: ``sqlite`` or ``postgresql``."""
    name: str = getattr(request, "param", "sqlite")
    if name == "postgresql":
        request.getfixturevalue("postgres_server")
    return name


@pytest.fixture
def make_database_url(
    backend: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str | None]]:
    """Makes ``database_url`` values: ``None`` on SQLite, a new empty schema on PostgreSQL."""
    if backend == "sqlite":
        yield lambda: None
        return
    server: pg_server.PostgresServer = request.getfixturevalue("postgres_server")
    schemas: list[str] = []

    def make() -> str:
        schemas.append(server.new_schema())
        return server.url(schemas[-1])

    yield make
    for name in schemas:
        server.drop_schema(name)


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own key or data directory must not change what the tests see."""
    for name in (
        "CROSS_AUTH_LITE_ENCRYPTION_KEY",
        "CROSS_AUTH_LITE_DATA",
        "CROSS_AUTH_LITE_DEBUG",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(tmp_path: Path, make_database_url: Callable[[], str | None]) -> Iterator[lite.LiteStore]:
    """A fresh store (exclusive connections) in its own directory."""
    with lite.open(tmp_path / "store", database_url=make_database_url()) as opened:
        yield opened


@pytest.fixture
def shared_store(
    tmp_path: Path, make_database_url: Callable[[], str | None]
) -> Iterator[lite.LiteStore]:
    """A fresh store with shared connections."""
    with lite.open(
        tmp_path / "shared", shared_connections=True, database_url=make_database_url()
    ) as opened:
        yield opened


@pytest.fixture(params=["exclusive", "shared"])
def any_store(
    request: pytest.FixtureRequest, tmp_path: Path, make_database_url: Callable[[], str | None]
) -> Iterator[lite.LiteStore]:
    """A fresh store of each schema in turn."""
    shared = request.param == "shared"
    with lite.open(
        tmp_path / request.param, shared_connections=shared, database_url=make_database_url()
    ) as opened:
        yield opened


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The server's URL, emptied for this test."""
    import redis

    with contextlib.closing(redis.Redis.from_url(redis_server)) as client:
        client.flushall()
    return redis_server


@pytest.fixture(params=[0o022, 0o002, 0o077, 0o000], ids=lambda m: f"umask-{m:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Runs the test under each of these umasks (the process's, restored after)."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)
