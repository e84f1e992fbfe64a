"""Arguments from callers, checked before anything is written.

Cross-Auth, an application or a provider's answer hands the storages their
values. Each is checked for its type here, naming the argument, so a wrong
value is a ``TypeError`` or ``ValueError`` instead of a driver error or a
silently coerced column (no truthiness: a provider's ``"false"`` must not
become ``True``). Values produced by Cross-Auth's hooks (``extra_fields``) are
checked against the model.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import peewee

from cross_auth_lite.database.fields import to_utc

__all__ = ["flag", "merge_extra_fields", "optional_text", "prepare_values", "text_argument"]


def text_argument(name: str, value: object) -> str:
    """``value`` if it is a ``str``; otherwise ``TypeError`` naming the argument."""
    if type(value) is not str:
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    return value


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
    """``value`` if it is ``str`` or ``None``; otherwise ``TypeError`` naming the argument."""
    if value is not None and type(value) is not str:
        raise TypeError(f"{name} must be str or None, not {type(value).__name__}")
    return value


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
