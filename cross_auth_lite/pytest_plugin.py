"""pytest fixtures for apps that use cross-auth-lite; loaded automatically once it is installed.

Each test gets a fresh store in its own temporary directory:

- ``lite_store``: the whole ``LiteStore`` (``cross_auth_kwargs()`` for ``CrossAuth``);
- ``lite_secondary``, ``lite_accounts``, ``lite_sessions``: its three storages.

Options are read from markers, e.g.
``@pytest.mark.lite_store(shared_connections=True, default_ttl=60)``.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import cross_auth_lite
from cross_auth_lite import (
    DiskCacheStorage,
    LiteStore,
    PeeweeAccountsStorage,
    PeeweeSessionStorage,
)

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lite_store(shared_connections=False, default_ttl=None): "
        "options for the lite_store fixture of cross-auth-lite",
    )


@pytest.fixture
def lite_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiteStore]:
    """A fresh cross-auth-lite store in a temporary directory, closed after the test.

    The directory is ``lite-stores/<n>-<test name>`` in pytest's base
    temporary directory (kept, like ``tmp_path``, for a look after the run).
    """
    options = _marker_options(request.node.get_closest_marker("lite_store"))
    store = cross_auth_lite.open(_store_path(request, tmp_path_factory), **options)
    try:
        yield store
    finally:
        store.close()


def _marker_options(marker: pytest.Mark | None) -> dict[str, Any]:
    """The ``lite_store`` marker's options, checked against ``lite.open()``'s keywords."""
    if marker is None:
        return {}
    accepted = [
        name for name in inspect.signature(cross_auth_lite.open).parameters if name != "path"
    ]
    unknown = sorted(set(marker.kwargs) - set(accepted))
    if marker.args or unknown:
        given = (
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
            if unknown
            else "takes keyword options only"
        )
        pytest.fail(
            f"@pytest.mark.lite_store: {given}; it takes the keywords of lite.open() "
            f"(the fixture gives the path): {', '.join(accepted)}",
            pytrace=False,
        )
    return dict(marker.kwargs)


_numbers = itertools.count()


def _store_path(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> Path:
    """A new path for a test's store: numbered, and named after the test.

    Not ``factory.mktemp()``, which lists every directory made so far and
    re-points a symbolic link for each: most of the cost of a fresh store.
    """
    name = re.sub(r"\W", "_", request.node.name)[:30]
    return factory.getbasetemp() / "lite-stores" / f"{next(_numbers)}-{name}"


@pytest.fixture
def lite_secondary(lite_store: LiteStore) -> DiskCacheStorage | RedisStorage:
    """The test store's secondary storage (``CrossAuth(storage=...)``)."""
    return lite_store.secondary


@pytest.fixture
def lite_accounts(lite_store: LiteStore) -> PeeweeAccountsStorage[Any, Any]:
    """The test store's accounts storage (``CrossAuth(accounts_storage=...)``)."""
    return lite_store.accounts


@pytest.fixture
def lite_sessions(lite_store: LiteStore) -> PeeweeSessionStorage[Any]:
    """The test store's session storage (``CrossAuth(session_storage=...)``)."""
    return lite_store.sessions
