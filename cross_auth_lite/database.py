"""The peewee database a store writes to: savepoint-aware commit callbacks, closing, errors.

Cross-Auth asks storages to run "after" hooks once a write is durable
(``on_commit``). Operations here open ``database.atomic()``; when an
application already has ``database.atomic()`` open on that thread, the
operation joins it as a savepoint, and its callbacks must wait for the
outermost commit, and vanish if the transaction or the savepoint holding the
write rolls back.

peewee keeps such callbacks itself (``Database.after_commit``, one list per
thread) and runs them after the outermost commit, but it forgets nothing when
only a savepoint rolls back, and it runs them inside its own error handling,
which answers a failing callback with a rollback of a transaction already
committed. ``CommitCallbacksMixin`` keeps peewee's list and fixes both: a
savepoint remembers how long the list was when it began and cuts it back
when it rolls back, and the outermost commit takes the list and runs it
after the commit, outside that handling, so a failing callback surfaces as
itself. ``after_commit`` and ``on_commit`` therefore share one queue: both
run after the outermost commit, in the order they were registered.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import peewee

from cross_auth_lite.errors import StoreClosedError, StoreLocationError, unavailable
from cross_auth_lite.private_files import private_file

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "JOURNAL_SIZE_LIMIT",
    "SQLITE_PRAGMAS",
    "ClosableConnectionsMixin",
    "CommitCallbacksMixin",
    "LiteSqliteDatabase",
    "bound_database",
    "close_database",
    "sqlite_database",
    "on_commit",
    "open_sqlite",
    "read_snapshot",
    "write_transaction",
]

CommitCallback = Callable[[], None]

_PEEWEE_LOG = logging.getLogger("peewee")
DEBUG = logging.DEBUG
#: peewee's mapping of driver exceptions to its own classes (as its execute_sql applies it).
_PEEWEE_ERRORS: Any = getattr(peewee, "__exception_wrapper__")  # noqa: B009 - not in the stubs

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


def _queue(db: Any) -> list[CommitCallback]:
    """peewee's per-thread list of callbacks waiting for the outermost commit."""
    queue: list[CommitCallback] = db._state.commit_callbacks
    return queue


def _take(db: Any) -> list[CommitCallback]:
    queue = _queue(db)
    ready = list(queue)
    queue.clear()
    return ready


def _run(callbacks: list[CommitCallback]) -> None:
    for callback in callbacks:
        callback()


class _Transaction(peewee._transaction):
    """The outermost transaction: commit runs the queued callbacks, rollback drops them."""

    _ready: list[CommitCallback]

    def commit(self, begin: bool = True) -> None:
        self.db.commit()
        ready = _take(self.db)
        if begin:
            self._begin()
            _run(ready)  # an explicit mid-block commit: the writes are durable now
        else:
            self._ready = ready  # run by __exit__, outside peewee's rollback-on-error

    def rollback(self, begin: bool = True) -> None:
        _queue(self.db).clear()
        if _open_transaction(self.db):
            self.db.rollback()
        if begin:
            self._begin()

    def _begin(self) -> None:
        super()._begin()  # type: ignore[misc]

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._ready = []
        try:
            super().__exit__(exc_type, exc, tb)
        except BaseException:
            _queue(self.db).clear()
            raise
        ready, self._ready = self._ready, []
        _run(ready)


class _DirectTransaction(_Transaction):
    """An outermost ``BEGIN IMMEDIATE`` transaction run straight on the driver connection.

    What ``db.atomic("IMMEDIATE")`` does when nothing is open, without its
    layers: it is on peewee's transaction stack like any transaction, so
    ``atomic()`` inside it is a savepoint, ``after_commit``/``on_commit``
    wait for its commit, and an explicit ``commit()``/``rollback()`` inside
    works as peewee's. Errors are translated as ``execute_sql`` translates them.
    """

    def __init__(self, db: Any, state: Any) -> None:
        self.db = db
        self._begin_args: tuple[tuple[Any, ...], dict[str, Any]] = (("IMMEDIATE",), {})
        self._state = state
        self._ready = []

    def __enter__(self) -> _DirectTransaction:
        state = self._state
        try:
            state.conn.execute("BEGIN IMMEDIATE")
        except Exception as error:
            self.db._raise_translated(error)
            raise
        state.transactions.append(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        state = self._state
        outermost = len(state.transactions) == 1
        state.transactions.pop()
        if not outermost:  # as peewee: only the outermost block ends the transaction
            return
        if exc_type is not None:
            self.rollback(False)
            return
        try:
            state.conn.execute("COMMIT")
        except Exception as error:
            try:
                self.db._raise_translated(error)
                raise
            finally:
                self.rollback(False)  # as peewee does when a commit fails
        ready = list(state.commit_callbacks)
        state.commit_callbacks.clear()
        _run(ready)


class _Savepoint(peewee._savepoint):
    """A nested ``atomic()``: rolling it back forgets the callbacks queued inside it."""

    def _begin(self) -> None:
        super()._begin()  # type: ignore[misc]
        self._mark = len(_queue(self.db))

    def rollback(self, begin: bool = True) -> None:
        del _queue(self.db)[self._mark :]
        if _open_transaction(self.db):
            super().rollback(begin)
        elif begin:
            self._begin()


def _open_transaction(db: Any) -> bool:
    """False when SQLite already rolled the transaction back itself.

    It does so on some errors (a full disk, an I/O error); a ROLLBACK then
    would fail with "no transaction is active" and hide the real error.
    """
    connection = db._state.conn
    return bool(getattr(connection, "in_transaction", True))


class CommitCallbacksMixin:
    """Makes a peewee ``Database``'s commit callbacks savepoint-aware; adds ``on_commit``.

    Mix it in before the database class:
    ``class MyPostgres(CommitCallbacksMixin, peewee.PostgresqlDatabase): ...``.
    peewee's own ``db.after_commit(fn)`` keeps working, on the same queue.
    """

    def transaction(self, *args: Any, **kwargs: Any) -> Any:
        return _Transaction(self, *args, **kwargs)

    def savepoint(self) -> Any:
        return _Savepoint(self)

    def on_commit(self, callback: CommitCallback) -> None:
        """Run ``callback`` now, or after the outermost transaction of this thread commits."""
        db: Any = self
        db.after_commit(callback)


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
        super().__init__(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """The database as messages name it."""
        return str(getattr(self, "database", ""))

    def _connect(self) -> Any:
        if self._shut:
            raise StoreClosedError(f"{self.display_name} was closed")
        connection = super()._connect()  # type: ignore[misc]
        with self._connections_lock:
            self._connections[threading.get_ident()] = connection
        return connection

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
        state: Any = getattr(self, "_state")  # noqa: B009 - missing from peewee's stubs
        state.reset()

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
    # full disk) become StoreUnavailableError naming the file. Only the
    # failure path pays for this.

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        state: Any = self._state  # type: ignore[attr-defined]
        if state.closed or self._shut or self.query_hooks or _PEEWEE_LOG.isEnabledFor(DEBUG):
            base: Any = super()
            try:
                return base.execute_sql(sql, params)
            except peewee.OperationalError as error:
                raise self._unavailable(error) from error
        # An open connection, nobody listening: straight to the driver, which
        # is all peewee would do after its checks (a hot path runs one
        # statement, and these checks cost as much as SQLite takes for it).
        try:
            return state.conn.execute(sql, params or ())
        except Exception as error:
            self._raise_translated(error)
            raise

    def _raise_translated(self, error: Exception) -> None:
        """Raise a driver error as peewee would (``StoreUnavailableError`` for outside causes).

        Call it while handling ``error``; it returns only for an error peewee
        does not map, which the caller then re-raises.
        """
        try:  # peewee's own mapping to its exception classes
            _PEEWEE_ERRORS.__exit__(type(error), error, error.__traceback__)
        except peewee.OperationalError as wrapped:
            raise self._unavailable(wrapped) from wrapped

    def direct_transaction(self) -> Any:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` on this thread's connection, or ``None``.

        The store's own outermost write transactions: peewee's ``atomic()``
        machinery costs a sizeable part of a signup. Only when nothing is
        open and nobody listens (no query hooks, no debug log, a connection
        already made); otherwise ``None``, and the caller uses ``atomic()``.
        """
        state: Any = self._state  # type: ignore[attr-defined]
        if (
            state.transactions
            or state.closed
            or self._shut
            or self.query_hooks
            or _PEEWEE_LOG.isEnabledFor(DEBUG)
        ):
            return None
        return _DirectTransaction(self, state)

    def begin(self, lock_type: str | None = None) -> None:
        try:
            super().begin(lock_type)
        except peewee.OperationalError as error:
            raise self._unavailable(error) from error

    def commit(self) -> None:
        try:
            super().commit()
        except peewee.OperationalError as error:
            raise self._unavailable(error) from error

    def _unavailable(self, error: peewee.OperationalError) -> Exception:
        return unavailable(str(self.database), error) or error


def on_commit(db: peewee.Database, callback: CommitCallback) -> None:
    """Run ``callback`` once the current writes on ``db`` are committed.

    This is peewee's ``after_commit``: on databases with
    ``CommitCallbacksMixin`` it is dropped with a savepoint that rolls back;
    on any other peewee database only with the whole transaction.
    """
    db.after_commit(callback)


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
