"""Ids from the outside world: HTTP hands over strings, callers hand over anything.

``coerce_id`` turns a value into what a primary-key (or foreign-key) column
holds, or ``NO_MATCH`` when no row could have it, so that lookups answer
"nothing" instead of raising a driver error (``"abc"`` against an integer
column, ``2**80`` that SQLite cannot bind, ``None``, a list).
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import peewee

__all__ = ["NO_MATCH", "coerce_id"]


class _NoMatch:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_MATCH"


#: Returned by ``coerce_id`` for values no row can match.
NO_MATCH: Final = _NoMatch()

_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
_INTEGER_FIELDS = (peewee.IntegerField, peewee.AutoField)
_WIDE_FIELDS = (peewee.BigIntegerField, peewee.BigAutoField)
_EXACT_INTEGER_FIELDS = frozenset({*_INTEGER_FIELDS, *_WIDE_FIELDS})


def _int_range(field: peewee.Field) -> tuple[int, int]:
    database = field.model._meta.database
    if isinstance(field, _WIDE_FIELDS) or isinstance(database, peewee.SqliteDatabase):
        return _INT64  # every SQLite integer is 64-bit
    return _INT32


def coerce_id(field: peewee.Field, value: object) -> Any:
    """Convert ``value`` for comparison with ``field``, or return ``NO_MATCH``."""
    if type(value) is int and _INT32[0] <= value <= _INT32[1]:
        # The common case, decided without the checks below: a plain int that
        # every integer column holds, for an integer key (or a key to one).
        target = field.rel_field if type(field) is peewee.ForeignKeyField else field
        if type(target) in _EXACT_INTEGER_FIELDS or isinstance(target, peewee.IntegerField):
            return value  # any integer column (the store's own id field is a subclass)
    if isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    if value is None:
        return NO_MATCH
    if isinstance(field, peewee.UUIDField):
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                return NO_MATCH
        return NO_MATCH
    if isinstance(field, _INTEGER_FIELDS):
        if isinstance(value, str):
            text = value.strip()
            if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 20):
                return NO_MATCH
            value = int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            return NO_MATCH
        low, high = _int_range(field)
        return value if low <= value <= high else NO_MATCH
    if isinstance(field, peewee.CharField | peewee.TextField):
        if isinstance(value, str):
            return value if "\x00" not in value else NO_MATCH
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return NO_MATCH
    return value
