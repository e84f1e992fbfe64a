"""cross-auth-lite as its users get it: ``lite.open(directory)``."""

from __future__ import annotations

from pathlib import Path

import cross_auth_lite as lite
from bench.backends import Backend

__all__ = ["open_backend"]


def open_backend(directory: Path) -> Backend:
    """Open a new store in ``directory``: accounts, sessions and secondary storage."""
    store = lite.open(directory)
    return Backend(
        key="lite",
        label="cross-auth-lite",
        accounts=store.accounts,
        sessions=store.sessions,
        secondary=store.secondary,
        close=store.close,
    )
