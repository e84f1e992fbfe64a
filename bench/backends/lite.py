"""cross-auth-lite as its users get it: ``lite.open(directory)``, and in portable mode.

The portable store is the same store opened with ``$CROSS_AUTH_LITE_PORTABLE=1``
(peewee's and diskcache's public API only): its column against lite's is what
the fast paths buy on each operation, in the same run.
"""

from __future__ import annotations

import os
from pathlib import Path

import cross_auth_lite as lite
from bench.backends import Backend
from cross_auth_lite.adapters.portable import PORTABLE_ENV

__all__ = ["open_backend", "open_portable_backend"]


def open_backend(directory: Path) -> Backend:
    """Open a new store in ``directory``: accounts, sessions and secondary storage."""
    return _backend(lite.open(directory), "lite", "cross-auth-lite")


def open_portable_backend(directory: Path) -> Backend:
    """Open a new portable store in ``directory`` (the variable is set for the open only)."""
    before = os.environ.get(PORTABLE_ENV)
    os.environ[PORTABLE_ENV] = "1"
    try:
        store = lite.open(directory)
    finally:
        if before is None:
            del os.environ[PORTABLE_ENV]
        else:
            os.environ[PORTABLE_ENV] = before
    assert store.portable
    return _backend(store, "portable", "cross-auth-lite, portable mode")


def _backend(store: lite.LiteStore, key: str, label: str) -> Backend:
    return Backend(
        key=key,
        label=label,
        accounts=store.accounts,
        sessions=store.sessions,
        secondary=store.secondary,
        close=store.close,
    )
