"""The peewee database a store writes to: connections, closing, errors, transactions.

``LiteSqliteDatabase`` keeps every thread's connection so that ``close()``
of a store closes them all, translates errors from conditions outside the
program (a locked, read-only, full or damaged file) into ``StoreUnavailableError``,
and runs the store's own hot statements and write transactions straight on
the driver connection, where query hooks and peewee's debug log still see
them (the log without their values: ``cross_auth_lite.database.statement_log``).
Its commit callbacks are savepoint-aware: see
``cross_auth_lite.database.commit_callbacks``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee

from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.database.commit_callbacks import (
    CommitCallbacksMixin,
    DirectTransaction,
    on_commit,
)
from cross_auth_lite.database.statement_log import execute_hiding_values, log_statement
from cross_auth_lite.errors import StoreClosedError, StoreLocationError, damaged, unavailable
from cross_auth_lite.private_files import private_file

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "JOURNAL_SIZE_LIMIT",
    "SQLITE_PRAGMAS",
    "ClosableConnectionsMixin",
    "CommitCallbacksMixin",
    "FileErrors",
    "LiteSqliteDatabase",
    "bound_database",
    "close_database",
    "sqlite_database",
    "on_commit",
    "open_sqlite",
    "read_snapshot",
    "write_transaction",
]

#: How long a writer waits for another (thread or process) to finish.
BUSY_TIMEOUT_SECONDS = 30.0

#: The most a ``-wal`` file keeps once checkpointed (4 MiB): a burst of writes
#: does not leave a large one behind.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024

SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # With WAL, NORMAL is durable against application crashes; only a power
    # loss may lose the last transactions, never corrupt the file.
    "synchronous": "normal",
    "busy_timeout": int(BUSY_TIMEOUT_SECONDS * 1000),
    "journal_size_limit": JOURNAL_SIZE_LIMIT,
}


class ClosableConnectionsMixin:
    """Adds ``close_all()`` to a peewee ``Database`` class: every thread's connection.

    peewee keeps one connection per thread and ``close()`` only closes the
    calling thread's. A web app's worker threads hold their own, so this
    remembers every thread's connection: ``close_all()`` closes them all and
    refuses any later use with ``StoreClosedError`` (peewee would otherwise
    quietly reconnect).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: dict[int, Any] = {}
        self._connections_lock = threading.Lock()
        self._shut = False
        #: Whether this database's statements may take the fast paths (see
        #: ``cross_auth_lite.adapters.peewee_internals``); else peewee's public API only.
        self.fast_paths: bool = peewee_internals.fast_paths()
        super().__init__(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """The database as messages name it."""
        return str(getattr(self, "database", ""))

    def connect(self, reuse_if_open: bool = False) -> bool:
        if self._shut:
            raise StoreClosedError(f"{self.display_name} was closed")
        base: Any = super()
        opened: bool = base.connect(reuse_if_open)
        if opened:
            with self._connections_lock:
                self._connections[threading.get_ident()] = base.connection()
        return opened

    def cursor(self, named_cursor: Any = None) -> Any:
        if self._shut:
            raise StoreClosedError(f"{self.display_name} was closed")
        base: Any = super()
        return base.cursor(named_cursor)

    def close_all(self) -> None:
        """Close every thread's connection; any later statement raises ``StoreClosedError``."""
        self._shut = True
        with self._connections_lock:
            connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            with contextlib.suppress(Exception):
                connection.close()
        db: Any = self
        if self.fast_paths:
            peewee_internals.reset_connections(db)
        else:
            with contextlib.suppress(Exception):
                db.close()  # this thread's state; other threads' connections refuse use

    @property
    def shut(self) -> bool:
        """True once ``close_all()`` has run."""
        return self._shut


class LiteSqliteDatabase(ClosableConnectionsMixin, CommitCallbacksMixin, peewee.SqliteDatabase):
    """``peewee.SqliteDatabase`` with savepoint-aware commit callbacks and ``close_all()``.

    Errors from conditions outside the program name the file
    (``StoreUnavailableError``).
    """

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        # Connections are only ever used by the thread that opened them;
        # close_all() is the one cross-thread call, made once use has stopped.
        kwargs.setdefault("check_same_thread", False)
        super().__init__(database, *args, **kwargs)

    # Conditions outside the program (a lock held elsewhere, a read-only or
    # full disk, a damaged file) become StoreUnavailableError naming the file. Only the
    # failure path pays for this.

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        connection = peewee_internals.open_connection(self) if self.fast_paths else None
        if connection is None or self._shut:
            base: Any = super()
            with FileErrors(self.database):
                return execute_hiding_values(base.execute_sql, sql, params)
        # An open connection: straight to the driver, which is all peewee
        # would do after its checks (a hot path runs one statement, and these
        # checks cost as much as SQLite takes for it). Its debug log sees the
        # statement as peewee's own execute_sql logs it for a store (its values
        # hidden), its query hooks exactly as peewee hands it to them.
        log_statement(sql, params)
        hooks = self.query_hooks
        start = time.perf_counter() if hooks else 0.0
        try:
            cursor = connection.execute(sql, params or ())
        except Exception as error:
            if hooks:
                self._notify(sql, params, start, error)
            self._raise_translated(error)
            raise
        if hooks:
            self._notify(sql, params, start, None)
        return cursor

    def _notify(self, sql: str, params: Any, start: float, error: Exception | None) -> None:
        event = peewee.QueryEvent(sql, params, time.perf_counter() - start, error)
        for hook in self.query_hooks:
            hook(event)

    def _raise_translated(self, error: Exception) -> None:
        """Raise a driver error as peewee would (``StoreUnavailableError`` for outside causes).

        Call it while handling ``error``; it returns only for an error peewee
        does not map, which the caller then re-raises.
        """
        # peewee's own mapping to its exception classes, then ours to the file's.
        with FileErrors(self.database):
            peewee_internals.error_wrapper().__exit__(type(error), error, error.__traceback__)

    def direct_transaction(self) -> Any:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` on this thread's connection, or ``None``.

        The store's own outermost write transactions: peewee's ``atomic()``
        machinery costs a sizeable part of a signup. Only on the fast paths,
        when nothing is open and a connection is already made; otherwise
        ``None``, and the caller uses ``atomic()``.
        """
        if not self.fast_paths or self._shut or self.in_transaction():
            return None
        connection = peewee_internals.open_connection(self)
        if connection is None:
            return None
        return DirectTransaction(self, connection)

    def begin(self, lock_type: str | None = None) -> None:
        with FileErrors(self.database):
            super().begin(lock_type)

    def commit(self) -> None:
        with FileErrors(self.database):
            super().commit()


class FileErrors:
    """Re-raises a peewee ``DatabaseError`` that the file caused as ``StoreUnavailableError``.

    A locked, read-only, full or damaged file (``unavailable``, ``damaged``);
    any other error passes through as it is.
    """

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if isinstance(exc, peewee.DatabaseError):
            translated = unavailable(self.path, exc) or damaged(self.path, exc)
            if translated is not None:
                raise translated from exc


def bound_database(db: peewee.Database) -> peewee.Database:
    """``db`` itself, or the database a ``peewee.DatabaseProxy`` currently stands for."""
    return db.obj if isinstance(db, peewee.DatabaseProxy) else db


def close_database(db: peewee.Database) -> None:
    """Close ``db``: every thread's connection when it can (``close_all``), else this thread's."""
    if isinstance(db, ClosableConnectionsMixin):
        db.close_all()
    elif not db.is_closed():
        db.close()


def write_transaction(db: peewee.Database) -> Any:
    """A transaction for an operation that reads and then writes.

    On SQLite the outermost one takes the write lock up front
    (``BEGIN IMMEDIATE``): a deferred transaction that read first could not
    upgrade once another process committed, and would fail instead of
    waiting. Inside an application transaction it is a savepoint.
    """
    if isinstance(db, LiteSqliteDatabase):
        direct = db.direct_transaction()
        if direct is not None:
            return direct
    if isinstance(db, peewee.SqliteDatabase) and db.transaction_depth() == 0:
        return db.atomic("IMMEDIATE")
    return db.atomic()


@contextlib.contextmanager
def read_snapshot(db: peewee.Database) -> Iterator[None]:
    """A transaction whose reads all see the database as of one instant.

    SQLite's read transactions already do; PostgreSQL's default (READ
    COMMITTED) takes a new snapshot per statement, so the outermost one asks
    for REPEATABLE READ. Inside an application transaction it is a savepoint.
    """
    if isinstance(db, peewee.PostgresqlDatabase) and db.transaction_depth() == 0:
        with db.atomic(isolation_level="REPEATABLE READ"):
            yield
    else:
        with db.atomic():
            yield


def open_sqlite(
    path: str | os.PathLike[str], *, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> LiteSqliteDatabase:
    """Open the SQLite file at ``path`` (created 0600): WAL, foreign keys, a busy timeout.

    ``busy_timeout`` is how many seconds a writer waits for another to finish
    before ``StoreUnavailableError``.
    """
    file = private_file(Path(path))
    if file.stat().st_size == 0:
        _lay_out_new_file(file)
    db = sqlite_database(file, busy_timeout=busy_timeout)
    try:
        db.connect()
    except peewee.DatabaseError as error:
        problem = damaged(str(file), error, opening=True)
        if problem is not None:
            raise problem from error
        raise StoreLocationError(f"{file} is not a usable SQLite database: {error}") from None
    return db


def sqlite_database(
    file: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> LiteSqliteDatabase:
    """``open_sqlite`` for a file known to be private and laid out (a copied template).

    Not connected yet: each thread connects on its first statement, as
    always, the opening thread included.
    """
    pragmas = {**SQLITE_PRAGMAS, "busy_timeout": int(busy_timeout * 1000)}
    return LiteSqliteDatabase(str(file), pragmas=pragmas, timeout=busy_timeout)


def _lay_out_new_file(file: Path) -> None:
    """Give a new, empty file incremental auto-vacuum, then WAL.

    ``auto_vacuum`` only takes effect before the first table is made, and
    must come before WAL, whose header write fixes the layout. Housekeeping
    then hands pages freed by deletes back to the filesystem (``PRAGMA
    incremental_vacuum``); older files are converted once by the schema
    upgrade to version 3. It is not among the pragmas of every connection:
    setting it on an existing file writes to it.
    """
    try:
        connection = sqlite3.connect(file, isolation_level=None)
        try:
            connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
            connection.execute("PRAGMA journal_mode = WAL").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise unavailable(str(file), error) or StoreLocationError(
            f"{file} is not a usable SQLite database: {error}"
        ) from None


def sqlite_version() -> tuple[int, ...]:
    """The linked SQLite library's version, e.g. ``(3, 45, 1)``."""
    return sqlite3.sqlite_version_info
