"""Shared fixtures: real stores in temporary directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import cross_auth_lite as lite

pytest_plugins = ["pytester"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[lite.LiteStore]:
    """A fresh store (exclusive connections) in its own directory."""
    with lite.open(tmp_path / "store") as opened:
        yield opened


@pytest.fixture
def shared_store(tmp_path: Path) -> Iterator[lite.LiteStore]:
    """A fresh store with shared connections."""
    with lite.open(tmp_path / "shared", shared_connections=True) as opened:
        yield opened


@pytest.fixture(params=["exclusive", "shared"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[lite.LiteStore]:
    """A fresh store of each schema in turn."""
    shared = request.param == "shared"
    with lite.open(tmp_path / request.param, shared_connections=shared) as opened:
        yield opened
