"""Field types shared by the models: timestamps that are always UTC and aware."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import peewee

from cross_auth_lite.database.sqlite import bound_database

__all__ = ["SQLITE_WIDTH", "UTCDateTimeField", "to_utc", "utc_argument"]

# SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: fixed width, so that text
# order is time order and equal instants are equal strings (peewee's default
# drops ".000000" and keeps offsets).
#: Length of a timestamp as stored on SQLite.
SQLITE_WIDTH = len("2000-01-01 00:00:00.000000")


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} has no UTC equivalent a datetime can hold") from None


def utc_argument(name: str, value: object) -> datetime:
    """``value`` (a datetime) as aware UTC; ``TypeError`` naming the argument otherwise."""
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # the usual case, answered without further checks
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    return to_utc(value)


def _sqlite_text(value: Any) -> Any:
    """The text SQLite keeps for ``value``, a datetime (an SQL expression passes as it is)."""
    if type(value) is not datetime or value.tzinfo is not UTC:
        if isinstance(value, peewee.Node):
            return value
        value = to_utc(value)
    # isoformat pads years to four digits (strftime does not) and is faster.
    return value.isoformat(" ", "microseconds")[:SQLITE_WIDTH]


def _naive_utc(value: Any) -> Any:
    """``value``, a datetime, as the naive UTC timestamp other databases keep."""
    if isinstance(value, peewee.Node):
        return value
    return to_utc(value).replace(tzinfo=None)


class UTCDateTimeField(peewee.DateTimeField):
    """A timestamp stored as UTC and read back as an aware UTC ``datetime``.

    Any aware datetime may go in; naive ones are taken to be UTC. SQLite keeps
    fixed-width text, other databases a plain timestamp column holding UTC.
    Compiled statements and row readers call the conversions below
    directly: each tests for the usual value first.
    """

    def db_converter(self, database: peewee.Database) -> Callable[[Any], Any]:
        """``db_value`` of a value other than ``None`` for ``database``, as one function."""
        return _sqlite_text if isinstance(database, peewee.SqliteDatabase) else _naive_utc

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return self.db_converter(bound_database(self.model._meta.database))(value)

    def python_value(self, value: Any) -> Any:
        if type(value) is str and len(value) == SQLITE_WIDTH:
            # Our own format. Parsing the offset is cheaper than replace().
            return datetime.fromisoformat(value + "+00:00")
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return to_utc(value)
        return value
