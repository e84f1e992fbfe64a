"""Savepoint-aware commit callbacks for peewee databases (``on_commit``), on peewee's public API.

Cross-Auth asks storages to run "after" hooks once a write is durable
(``on_commit``). Operations here open ``database.atomic()``; when an
application already has ``database.atomic()`` open on that thread, the
operation joins it as a savepoint, and its callbacks must wait for the
outermost commit, and vanish if the transaction or the savepoint holding the
write rolls back.

peewee keeps such callbacks itself (``Database.after_commit``), but it
forgets nothing when only a savepoint rolls back, and it runs them inside its
own error handling, which answers a failing callback with a rollback of a
transaction already committed. ``CommitCallbacksMixin`` therefore keeps its
own per-thread queue behind ``after_commit`` and gives ``atomic()`` its own
transaction and savepoint (``Transaction``, ``Savepoint``), built on
peewee's public ``begin``/``commit``/``rollback``, its transaction stack
(``push_transaction``...) and ``execute_sql``: a savepoint remembers how long
the queue was when it began and cuts it back when it rolls back, and the
outermost commit takes the queue and runs it after the commit, outside the
rollback-on-error, so a failing callback surfaces as itself.
``after_commit`` and ``on_commit`` share the queue: both run after the
outermost commit, in the order they were registered.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import peewee

__all__ = [
    "CommitCallback",
    "CommitCallbacksMixin",
    "DirectTransaction",
    "Savepoint",
    "Transaction",
    "on_commit",
]

#: A callback run once the writes are committed.
CommitCallback = Callable[[], Any]

_R = TypeVar("_R")


class _Queue(threading.local):
    """One thread's callbacks waiting for its outermost commit."""

    def __init__(self) -> None:
        self.callbacks: list[CommitCallback] = []


def _queue(db: Any) -> list[CommitCallback]:
    callbacks: list[CommitCallback] = db.commit_queue.callbacks
    return callbacks


def _take(db: Any) -> list[CommitCallback]:
    queue = _queue(db)
    ready = list(queue)
    queue.clear()
    return ready


def _run(callbacks: list[CommitCallback]) -> None:
    for callback in callbacks:
        callback()


def _open_transaction(db: Any) -> bool:
    """False when SQLite already rolled the transaction back itself.

    It does so on some errors (a full disk, an I/O error); a ROLLBACK then
    would fail with "no transaction is active" and hide the real error.
    """
    if db.is_closed():
        return True  # peewee's own rollback says what is wrong
    return bool(getattr(db.connection(), "in_transaction", True))


class Transaction(contextlib.ContextDecorator):
    """The outermost transaction: its commit runs the queued callbacks, its rollback drops them.

    What ``db.transaction()`` (and ``atomic()`` with nothing open) gives on a
    database with ``CommitCallbacksMixin``; it is on peewee's transaction
    stack, so ``atomic()`` inside is a savepoint, and an explicit
    ``commit()``/``rollback()`` inside works as peewee's (a new transaction
    then begins).
    """

    def __init__(self, db: Any, *args: Any, **kwargs: Any) -> None:
        self.db = db
        self._begin_args = (args, kwargs)
        self._ready: list[CommitCallback] = []

    def _recreate_cm(self) -> Transaction:  # a fresh one per decorated call
        args, kwargs = self._begin_args
        return type(self)(self.db, *args, **kwargs)

    def _begin(self) -> None:
        args, kwargs = self._begin_args
        self.db.begin(*args, **kwargs)

    def commit(self, begin: bool = True) -> None:
        """Commit; with ``begin``, run the callbacks and begin a new transaction."""
        self.db.commit()
        ready = _take(self.db)
        if begin:
            self._begin()
            _run(ready)  # an explicit mid-block commit: the writes are durable now
        else:
            self._ready = ready  # run by __exit__, outside its rollback-on-error

    def rollback(self, begin: bool = True) -> None:
        """Roll back and drop the queued callbacks; with ``begin``, begin a new transaction."""
        _queue(self.db).clear()
        if _open_transaction(self.db):
            self.db.rollback()
        if begin:
            self._begin()

    def __enter__(self) -> Transaction:
        db = self.db
        if db.transaction_depth() == 0:
            _queue(db).clear()  # nothing of a transaction cut short (a closed connection)
            self._begin()
        db.push_transaction(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self.db
        outermost = db.transaction_depth() == 1
        db.pop_transaction()
        if not outermost:  # as peewee: only the outermost block ends the transaction
            return
        if exc_type is not None:
            self.rollback(False)
            return
        self._ready = []
        try:
            self._commit()
        except BaseException:
            self.rollback(False)  # as peewee does when a commit fails
            raise
        ready, self._ready = self._ready, []
        _run(ready)

    def _commit(self) -> None:
        self.commit(False)


class DirectTransaction(Transaction):
    """An outermost ``BEGIN IMMEDIATE`` transaction run straight on the driver connection.

    What ``db.atomic("IMMEDIATE")`` does when nothing is open, without
    peewee's layers (the fast paths of ``LiteSqliteDatabase``). Errors are
    translated as its ``execute_sql`` translates them.
    """

    def __init__(self, db: Any, connection: Any) -> None:
        super().__init__(db, "IMMEDIATE")
        self._connection = connection

    def __enter__(self) -> DirectTransaction:
        self._execute("BEGIN IMMEDIATE")
        _queue(self.db).clear()
        self.db.push_transaction(self)
        return self

    def _commit(self) -> None:
        self._execute("COMMIT")
        self._ready = _take(self.db)

    def _execute(self, sql: str) -> None:
        try:
            self._connection.execute(sql)
        except Exception as error:
            self.db._raise_translated(error)
            raise


class Savepoint(contextlib.ContextDecorator):
    """A nested ``atomic()``: rolling it back forgets the callbacks queued inside it."""

    def __init__(self, db: Any, sid: str | None = None) -> None:
        self.db = db
        self.sid = sid or "s" + uuid.uuid4().hex
        self.quoted_sid = self.sid.join(db.quote)
        self._mark = 0

    def _recreate_cm(self) -> Savepoint:
        return type(self)(self.db)

    def _begin(self) -> None:
        self.db.execute_sql(f"SAVEPOINT {self.quoted_sid};")
        self._mark = len(_queue(self.db))

    def commit(self, begin: bool = True) -> None:
        """Release the savepoint; with ``begin``, open it again."""
        self.db.execute_sql(f"RELEASE SAVEPOINT {self.quoted_sid};")
        if begin:
            self._begin()

    def rollback(self, begin: bool = True) -> None:
        """Undo the savepoint's writes and forget its callbacks; with ``begin``, open it again."""
        del _queue(self.db)[self._mark :]
        if _open_transaction(self.db):
            self.db.execute_sql(f"ROLLBACK TO SAVEPOINT {self.quoted_sid};")
        if begin:
            self._begin()

    def __enter__(self) -> Savepoint:
        self._begin()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.rollback(False)
            return
        try:
            self.commit(False)
        except BaseException:
            self.rollback(False)
            raise


class CommitCallbacksMixin:
    """Makes a peewee ``Database``'s commit callbacks savepoint-aware; adds ``on_commit``.

    Mix it in before the database class:
    ``class MyPostgres(CommitCallbacksMixin, peewee.PostgresqlDatabase): ...``.
    peewee's own ``db.after_commit(fn)`` keeps working, on the same queue.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: Each thread's callbacks waiting for its outermost commit.
        self.commit_queue = _Queue()
        super().__init__(*args, **kwargs)

    # Typed Any: peewee's stubs declare its private classes here.
    def transaction(self, *args: Any, **kwargs: Any) -> Any:
        """The outermost transaction ``atomic()`` opens (arguments as ``begin``'s)."""
        return Transaction(self, *args, **kwargs)

    def savepoint(self) -> Any:
        """The savepoint ``atomic()`` opens inside a transaction."""
        return Savepoint(self)

    def after_commit(self, fn: Callable[[], _R]) -> Callable[[], _R]:
        """Run ``fn`` now, or after the outermost transaction of this thread commits."""
        db: Any = self
        if db.transaction_depth() == 0:
            fn()
        elif isinstance(db.top_transaction(), Transaction):
            _queue(db).append(fn)
        else:
            raise ValueError("after_commit() cannot be used with `manual`")
        return fn

    def on_commit(self, callback: CommitCallback) -> None:
        """Run ``callback`` now, or after the outermost transaction of this thread commits."""
        self.after_commit(callback)


def on_commit(db: peewee.Database, callback: CommitCallback) -> None:
    """Run ``callback`` once the current writes on ``db`` are committed.

    This is peewee's ``after_commit``: on databases with
    ``CommitCallbacksMixin`` it is dropped with a savepoint that rolls back;
    on any other peewee database only with the whole transaction.
    """
    db.after_commit(callback)
