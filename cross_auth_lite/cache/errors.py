"""What a disk-cache call raises: a busy, read-only or full file, a closed cache."""

from __future__ import annotations

import sqlite3
from typing import Any

import diskcache

from cross_auth_lite.errors import StoreClosedError, StoreUnavailableError, damaged, unavailable

__all__ = ["CacheErrors", "ClosedCache"]


class CacheErrors:
    """Turns a locked, read-only, full or damaged cache file into ``StoreUnavailableError``.

    Calls run with ``retry=False``: diskcache's ``retry=True`` would loop
    for ever on a file that stays locked or read-only.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is diskcache.Timeout:
            raise StoreUnavailableError(self.path, "locked by another process; gave up waiting")
        if exc is not None and issubclass(exc_type, sqlite3.DatabaseError):
            translated = unavailable(self.path, exc) or damaged(self.path, exc)
            if translated is not None:
                raise translated from exc


class ClosedCache:
    """Stands in for the cache after ``close()``: any use is a clear error.

    diskcache reconnects on demand, per thread, so without this a closed
    storage would quietly keep working (or write into a removed directory).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def __getattr__(self, name: str) -> Any:
        raise StoreClosedError(f"the cache in {self.directory} was closed")
