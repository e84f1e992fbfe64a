"""cross-auth-lite in portable mode: peewee's and diskcache's public API only.

The same store as ``bench.backends.lite``, opened with
``$CROSS_AUTH_LITE_PORTABLE=1``: its column against lite's is what the fast
paths buy on each operation, in the same run.
"""

from __future__ import annotations

import os
from pathlib import Path

import cross_auth_lite as lite
from bench.backends import Backend
from cross_auth_lite.adapters.portable import PORTABLE_ENV

__all__ = ["open_backend"]


def open_backend(directory: Path) -> Backend:
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
    return Backend(
        key="portable",
        label="cross-auth-lite, portable mode",
        accounts=store.accounts,
        sessions=store.sessions,
        secondary=store.secondary,
        close=store.close,
    )
