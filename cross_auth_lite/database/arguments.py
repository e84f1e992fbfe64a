"""Arguments from callers, checked before anything is written.

Cross-Auth, an application or a provider's answer hands the storages their
values. Each is checked for its type here, naming the argument, so a wrong
value is a ``TypeError`` or ``ValueError`` instead of a driver error or a
silently coerced column (no truthiness: a provider's ``"false"`` must not
become ``True``). Values produced by Cross-Auth's hooks (``extra_fields``) are
checked against the model.

A text a unique index holds (an email, an identity, a token hash) is at most
``MAX_INDEXED_BYTES`` long, on every database, for the same reason.

No text a storage writes may hold a NUL character (``"\x00"``): PostgreSQL
cannot store one, and a store must move from SQLite to PostgreSQL whole. So a
write refuses it (``ValueError`` naming the argument) on every database, and
a lookup by such a text finds nothing, without a query.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import peewee

from cross_auth_lite.database.fields import to_utc

__all__ = [
    "INDEXED_TEXT",
    "MAX_INDEXED_BYTES",
    "NUL",
    "flag",
    "indexed_text",
    "merge_extra_fields",
    "no_nul",
    "optional_text",
    "prepare_values",
    "text_argument",
]

#: The one character no stored text holds.
NUL = "\x00"
#: The longest text a storage writes to a column a unique index holds, in UTF-8
#: bytes. An index row on PostgreSQL holds about 2.7 kB, and an identity's holds
#: two such texts; SQLite has no such limit, but a store must move whole.
MAX_INDEXED_BYTES = 1024
#: The store's text columns a unique index holds, by field name: written through
#: ``indexed_text`` by the storages, and checked so in an export.
INDEXED_TEXT = frozenset({"email", "provider", "provider_user_id", "token_hash"})


def no_nul(name: str, value: str) -> str:
    """``value``, unless it holds a NUL character: then ``ValueError`` naming the argument."""
    if NUL in value:
        raise ValueError(f"{name} contains a NUL character, which no stored text may hold")
    return value


def indexed_text(name: str, value: object, *, optional: bool = False) -> str | None:
    """``text_argument`` (or ``optional_text``) for a text a unique index holds.

    An email, a provider's name and user id, a session's token hash: at most
    ``MAX_INDEXED_BYTES`` in UTF-8, else ``ValueError`` naming the argument.
    """
    checked = optional_text(name, value) if optional else text_argument(name, value)
    if checked is not None and len(checked) > MAX_INDEXED_BYTES // 4:
        size = len(checked.encode("utf-8", "surrogatepass"))  # the driver refuses surrogates
        if size > MAX_INDEXED_BYTES:
            raise ValueError(
                f"{name} is {size} bytes long in UTF-8; an indexed text holds at most "
                f"{MAX_INDEXED_BYTES}"
            )
    return checked


def text_argument(name: str, value: object) -> str:
    """``value`` if it is a ``str`` without NUL; otherwise ``TypeError`` or ``ValueError``."""
    if type(value) is not str:
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    return no_nul(name, value)


def merge_extra_fields(
    model: type[peewee.Model],
    values: dict[str, Any],
    extra_fields: Mapping[str, Any] | None,
    *,
    standard: frozenset[str],
    hook: str,
) -> None:
    """Add hook-provided ``extra_fields`` to ``values``, refusing standard or unknown names."""
    if not extra_fields:
        return
    if type(extra_fields) is not dict and not isinstance(extra_fields, Mapping):
        raise TypeError(
            f"{hook} extra_fields must be a mapping, not {type(extra_fields).__name__}"
        )
    primary = model._meta.primary_key
    refused = standard | {primary.name} if isinstance(primary, peewee.Field) else standard
    conflicts = sorted(refused & extra_fields.keys())
    if conflicts:
        raise ValueError(f"{hook} extra_fields cannot replace standard field(s) {conflicts!r}")
    unknown = sorted(str(key) for key in extra_fields if key not in model._meta.fields)
    if unknown:
        raise TypeError(
            f"{model.__name__} has no field(s) {unknown!r}, but a {hook} hook produced them"
        )
    for name, value in extra_fields.items():
        if not _bindable(value):
            raise TypeError(
                f"{hook} extra_fields[{name!r}] cannot be stored: {type(value).__name__} "
                f"{'out of range' if isinstance(value, int) else 'is not a column value'}"
            )
        if isinstance(value, str):
            no_nul(f"{hook} extra_fields[{name!r}]", value)
    values.update(extra_fields)


_COLUMN_TYPES = (str, float, bool, datetime, date, time, Decimal, uuid.UUID)


def _bindable(value: object) -> bool:
    """Whether a database driver can store ``value`` as a column value."""
    if value is None or isinstance(value, _COLUMN_TYPES):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, bytes)


def optional_text(name: str, value: object) -> str | None:
    """``value`` if ``None`` or a ``str`` without NUL; otherwise ``TypeError``/``ValueError``."""
    if value is None:
        return None
    if type(value) is not str:
        raise TypeError(f"{name} must be str or None, not {type(value).__name__}")
    return no_nul(name, value)


def flag(name: str, value: object, *, optional: bool = False) -> bool | None:
    """``value`` if it is a ``bool`` (or ``None`` when ``optional``); otherwise ``TypeError``.

    No truthiness: a provider's ``"false"`` must not become ``True``.
    """
    if isinstance(value, bool) or (optional and value is None):
        return value
    expected = "a bool or None" if optional else "a bool"
    raise TypeError(f"{name} must be {expected}, not {type(value).__name__}")


def prepare_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` ready to write: datetimes in UTC, so returned rows read like stored ones."""
    return {
        key: to_utc(value) if isinstance(value, datetime) else value
        for key, value in values.items()
    }
