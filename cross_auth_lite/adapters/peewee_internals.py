"""Every reach of cross-auth-lite past peewee's public API, and the check that it still works.

The fast paths use: a database's per-thread connection state (``db._state``:
its driver connection), peewee's mapping of driver errors to its own
(``__exception_wrapper__``) and an instance's loaded data (``__data__``,
``_dirty``, ``__rel__``); swapping in an encrypted field takes the old
field's place among its model's fields (``_order``, ``_sort_key``).
``on_commit`` and transactions (``cross_auth_lite.database.commit_callbacks``) need
none of them: they are built on peewee's public API in both modes.
``fast_paths()`` says, when a store opens, whether the fast paths may be
used: not when ``$CROSS_AUTH_LITE_PORTABLE`` asks for portable mode, and not
when ``capability_problem()`` finds one of their internals missing or
behaving otherwise; then the store runs on peewee's public API and
``fall_back`` warns once.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

import peewee

from cross_auth_lite.adapters.portable import fall_back, portable_requested

__all__ = [
    "capability_problem",
    "copy_field_position",
    "error_wrapper",
    "fast_paths",
    "loaded_instance",
    "open_connection",
    "reset_connections",
]


def error_wrapper() -> Any:
    """peewee's context manager turning driver exceptions into peewee's (``IntegrityError``...)."""
    return getattr(peewee, "__exception_wrapper__")  # noqa: B009 - not in peewee's stubs


def open_connection(db: peewee.Database) -> Any:
    """This thread's driver connection of ``db``, or ``None`` when it has none open."""
    state: Any = db._state  # type: ignore[attr-defined]
    return None if state.closed else state.conn


def reset_connections(db: peewee.Database) -> None:
    """Make ``db`` forget this thread's connection state (its connections are closed already)."""
    db._state.reset()  # type: ignore[attr-defined]


def loaded_instance(model: Any, data: dict[str, Any]) -> Any:
    """A ``model`` instance holding ``data`` as read from the database (nothing dirty).

    What peewee's row reading makes, without a ``setattr`` per field.
    """
    instance = model.__new__(model)
    instance.__data__ = data
    instance._dirty = set()
    instance.__rel__ = {}
    return instance


def copy_field_position(old: peewee.Field[Any], new: peewee.Field[Any]) -> None:
    """Give ``new`` the place of ``old`` among its model's fields (CREATE TABLE, exports)."""
    target: Any = new
    target._order = old._order  # type: ignore[attr-defined]
    target._sort_key = old._sort_key  # type: ignore[attr-defined]


@functools.cache
def capability_problem() -> str | None:
    """What the fast paths rely on that this peewee lacks, or ``None`` when all is there.

    A real probe, made once per process on an in-memory SQLite database:
    the connection state, the error mapping and a loaded instance must all
    do what the fast paths expect of them.
    """
    try:
        return _probe()
    except Exception as error:  # whatever a changed peewee raises here
        return f"{type(error).__name__}: {error}"


def _probe() -> str | None:
    if not hasattr(peewee, "__exception_wrapper__"):
        return "peewee.__exception_wrapper__ is missing"
    db = peewee.SqliteDatabase(":memory:")

    class Probe(peewee.Model):
        name = peewee.TextField(unique=True)

        class Meta:
            database = db

    db.connect()
    try:
        connection = open_connection(db)
        if not isinstance(connection, sqlite3.Connection):
            return "a database's connection state holds no driver connection"
        db.create_tables([Probe])
        try:
            with error_wrapper():
                connection.execute("INSERT INTO probe (name) VALUES ('a'), ('a')")
        except peewee.IntegrityError:
            pass
        else:
            return "__exception_wrapper__ does not map a driver IntegrityError to peewee's"
        Probe.create(name="a")
        row = loaded_instance(Probe, {"id": 1, "name": "b"})
        if row.name != "b" or row.is_dirty() or row.dirty_fields:
            return "an instance's loaded data is not kept where its fields read it"
        row.save()
        if Probe.get_by_id(1).name != "b":
            return "a loaded instance does not save as a read one"
    finally:
        db.close()
    if open_connection(db) is not None:
        return "closing does not clear the connection state"
    return None


def fast_paths() -> bool:
    """Whether a store opened now may use its fast paths (warning once when it may not)."""
    if portable_requested():
        return False
    problem = capability_problem()
    if problem is not None:
        fall_back("peewee", problem)
        return False
    return True
