"""Savepoint-aware commit callbacks for peewee databases (``on_commit``).

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

from collections.abc import Callable
from typing import Any

import peewee

from cross_auth_lite.adapters import peewee_internals

__all__ = ["CommitCallback", "CommitCallbacksMixin", "DirectTransaction", "on_commit"]

#: A callback run once the writes are committed.
CommitCallback = Callable[[], None]


def _queue(db: Any) -> list[CommitCallback]:
    """peewee's per-thread list of callbacks waiting for the outermost commit."""
    return peewee_internals.commit_queue(db)


def _take(db: Any) -> list[CommitCallback]:
    queue = _queue(db)
    ready = list(queue)
    queue.clear()
    return ready


def _run(callbacks: list[CommitCallback]) -> None:
    for callback in callbacks:
        callback()


class _Transaction(peewee_internals.TRANSACTION_BASE):  # type: ignore[misc]
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
        super()._begin()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._ready = []
        try:
            super().__exit__(exc_type, exc, tb)
        except BaseException:
            _queue(self.db).clear()
            raise
        ready, self._ready = self._ready, []
        _run(ready)


class DirectTransaction(_Transaction):
    """An outermost ``BEGIN IMMEDIATE`` transaction run straight on the driver connection.

    What ``db.atomic("IMMEDIATE")`` does when nothing is open, without its
    layers: it is on peewee's transaction stack like any transaction, so
    ``atomic()`` inside it is a savepoint, ``after_commit``/``on_commit``
    wait for its commit, and an explicit ``commit()``/``rollback()`` inside
    works as peewee's. Errors are translated as ``execute_sql`` translates them.
    """

    def __init__(self, db: Any, connection: Any) -> None:
        self.db = db
        self._begin_args: tuple[tuple[Any, ...], dict[str, Any]] = (("IMMEDIATE",), {})
        self._connection = connection
        self._ready = []

    def __enter__(self) -> DirectTransaction:
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        except Exception as error:
            self.db._raise_translated(error)
            raise
        self.db.push_transaction(self)
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
        try:
            self._connection.execute("COMMIT")
        except Exception as error:
            try:
                db._raise_translated(error)
                raise
            finally:
                self.rollback(False)  # as peewee does when a commit fails
        _run(_take(db))


class _Savepoint(peewee_internals.SAVEPOINT_BASE):  # type: ignore[misc]
    """A nested ``atomic()``: rolling it back forgets the callbacks queued inside it."""

    def _begin(self) -> None:
        super()._begin()
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
    connection = peewee_internals.open_connection(db)
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


def on_commit(db: peewee.Database, callback: CommitCallback) -> None:
    """Run ``callback`` once the current writes on ``db`` are committed.

    This is peewee's ``after_commit``: on databases with
    ``CommitCallbacksMixin`` it is dropped with a savepoint that rolls back;
    on any other peewee database only with the whole transaction.
    """
    db.after_commit(callback)
