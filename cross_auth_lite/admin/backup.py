"""Consistent copies of a running store, through SQLite's online backup API.

``backup_store(store, "backups/2026-11-27")`` writes a new store directory
(0700, files 0600) holding a snapshot of ``accounts.sqlite3`` and of the
cache database, taken while the app keeps running: each copy is one read
transaction, so it sees every committed write up to that moment and none
after. Open the copy with ``lite.open(destination)`` like any store.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from diskcache.core import DBNAME

from cross_auth_lite.errors import StoreExistsError, StoreLocationError
from cross_auth_lite.private_files import private_directory, private_file
from cross_auth_lite.store.lite_store import LiteStore
from cross_auth_lite.store.location import CACHE_DIRNAME, DATABASE_FILENAME

__all__ = ["backup_store"]


def backup_store(store: LiteStore, destination: str | os.PathLike[str]) -> Path:
    """Copy ``store`` into the new (or empty) directory ``destination``; return its path.

    Raises ``StoreExistsError`` when ``destination`` exists and is not
    empty, and ``StoreLocationError`` when it lies inside the store or the
    store keeps its accounts outside SQLite (back PostgreSQL up with ``pg_dump``).
    """
    directory = store.path
    if directory is None or not (directory / DATABASE_FILENAME).is_file():
        raise StoreLocationError(
            f"{store.location} keeps its accounts in PostgreSQL, not in SQLite: back that "
            "database up with pg_dump (the cache holds nothing worth keeping)"
        )
    source = directory / DATABASE_FILENAME
    target = Path(destination)
    if target.absolute().is_relative_to(directory.absolute()):
        raise StoreLocationError(f"{target} is inside the store: back it up somewhere else")
    if target.exists() and not target.is_dir():
        raise StoreExistsError(
            f"{target} is a file: a backup goes into a new or an empty directory"
        )
    if target.exists() and any(target.iterdir()):
        raise StoreExistsError(f"{target} already exists and is not an empty directory")
    target = private_directory(target, role="backup directory")
    try:
        _copy(source, target / DATABASE_FILENAME)
        cache = directory / CACHE_DIRNAME / DBNAME
        if cache.is_file():
            private_directory(target / CACHE_DIRNAME, role="backup directory")
            _copy(cache, target / CACHE_DIRNAME / DBNAME)
    except BaseException:
        _remove_partial(target)
        raise
    return target


def _copy(source: Path, target: Path) -> None:
    private_file(target)
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = wal")


def _remove_partial(target: Path) -> None:
    for path in sorted(target.rglob("*"), reverse=True):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()
    with contextlib.suppress(OSError):
        target.rmdir()
