"""The store's rows as JSON records and back, table by table.

Every column of a table is written under its column name (so the foreign
key is ``user_id``), in the model's column order. Timestamps become ISO-8601
UTC strings with microseconds and a ``Z`` (when read back, a time without a
zone is taken to be UTC, as everywhere in cross-auth-lite); booleans,
numbers, text and ``null`` stay as they are. Decoding checks each value
against its column and raises ``ExportFormatError`` naming the record at
fault, so a bad document is refused before anything is written. Messages
never repeat a text value: it may be a token or a password hash.

Also here: the tables moved (``TABLES``), counting their rows, and saying
such counts in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import peewee

from cross_auth_lite.database.arguments import INDEXED_TEXT, indexed_text, no_nul
from cross_auth_lite.database.models import StoreModels
from cross_auth_lite.errors import ExportFormatError

__all__ = [
    "TABLES",
    "columns",
    "count_rows",
    "decode_record",
    "describe_counts",
    "encode_row",
    "isoformat",
    "plural",
    "table_models",
]

#: The tables of a store's accounts, referenced tables first.
TABLES = ("users", "social_accounts", "sessions")

_ISO_EXAMPLE = "2026-01-02T03:04:05.000000Z"


def table_models(models: StoreModels) -> dict[str, type[peewee.Model]]:
    """``{table name: model}`` for ``TABLES``, in that order."""
    return dict(zip(TABLES, models.all(), strict=True))


def columns(model: type[peewee.Model]) -> list[peewee.Field]:
    """The model's fields, in column order."""
    fields: list[peewee.Field] = list(model._meta.sorted_fields)
    return fields


def count_rows(models: StoreModels) -> dict[str, int]:
    """``{table name: number of rows}`` for ``TABLES``."""
    return {table: int(model.select().count()) for table, model in table_models(models).items()}


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 session``, ``2 sessions``; ``nouns`` when the plural is not ``noun + "s"``.

    The wording of every count the command line and the library's messages
    print.
    """
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def describe_counts(counts: Mapping[str, int]) -> str:
    """``3 users, 1 social account and 5 sessions``: each count with its noun."""
    return (
        f"{plural(counts['users'], 'user')}, "
        f"{plural(counts['social_accounts'], 'social account')} "
        f"and {plural(counts['sessions'], 'session')}"
    )


def isoformat(value: datetime | None) -> str | None:
    """``value`` as ISO-8601 UTC with microseconds and a ``Z``.

    For example ``2026-01-02T03:04:05.000000Z``. A naive value is taken to be
    UTC. ``None`` stays ``None``.
    """
    if value is None:
        return None
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def encode_row(fields: list[peewee.Field], row: Mapping[str, Any]) -> dict[str, Any]:
    """One row (from ``select().dicts()``, keyed by field name) as a JSON-ready dict."""
    record: dict[str, Any] = {}
    for item in fields:
        value = row[item.name]
        if isinstance(value, datetime):
            value = isoformat(value)
        elif value is not None and not isinstance(value, bool | int | float | str):
            value = str(value)
        record[item.column_name] = value
    return record


def _kind(item: peewee.Field) -> str:
    if isinstance(item, peewee.ForeignKeyField):
        return _kind(item.rel_field)
    if isinstance(item, peewee.DateTimeField):
        return "datetime"
    if isinstance(item, peewee.BooleanField):
        return "bool"
    if isinstance(item, peewee.IntegerField | peewee.AutoField):
        return "int"
    if isinstance(item, peewee.FloatField | peewee.DecimalField):
        return "number"
    return "text"


def _json_kind(value: object) -> str:
    """What ``value`` is in JSON terms, without showing it (it may be a secret)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _decode_value(item: peewee.Field, value: Any, where: str) -> Any:
    name = item.column_name
    if value is None:
        if not item.null:
            raise ExportFormatError(f"{where}: {name} must not be null")
        return None
    kind = _kind(item)
    if kind == "datetime":
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)  # a time without a zone is UTC already
            except ValueError:
                pass
        raise ExportFormatError(
            f"{where}: {name} must be an ISO-8601 time such as {_ISO_EXAMPLE}, "
            f"not {'another string' if isinstance(value, str) else _json_kind(value)}"
        )
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ExportFormatError(f"{where}: {name} must be true or false, not {_json_kind(value)}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
            return value
        raise ExportFormatError(
            f"{where}: {name} must be a whole number (64 bits at most), not {_json_kind(value)}"
        )
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise ExportFormatError(f"{where}: {name} must be a number, not {_json_kind(value)}")
    if isinstance(value, str):
        try:  # what a storage refuses to write
            return indexed_text(name, value) if item.name in INDEXED_TEXT else no_nul(name, value)
        except ValueError as error:
            raise ExportFormatError(f"{where}: {error}") from None
    raise ExportFormatError(f"{where}: {name} must be a string, not {_json_kind(value)}")


def decode_record(fields: list[peewee.Field], record: object, where: str) -> dict[str, Any]:
    """``record`` as insert values keyed by field name; ``ExportFormatError`` if unfit.

    ``where`` names the record in messages (``users[3]``). The primary key is
    required (rows keep their ids, so references stay attached). Other
    columns may be left out when they are nullable (they stay null) or have a
    default; unknown keys are refused.
    """
    if not isinstance(record, dict):
        raise ExportFormatError(f"{where}: expected an object, not {_json_kind(record)}")
    known = {item.column_name: item for item in fields}
    unknown = sorted(set(record) - set(known))
    if unknown:
        raise ExportFormatError(f"{where}: unknown column(s) {', '.join(map(repr, unknown))}")
    values: dict[str, Any] = {}
    for name, item in known.items():
        if name in record:
            values[item.name] = _decode_value(item, record[name], where)
        elif item.null and not item.primary_key:
            values[item.name] = None  # left out of the document: unknown, not "now"
        elif item.default is not None and not item.primary_key:
            values[item.name] = item.default() if callable(item.default) else item.default
        else:
            raise ExportFormatError(f"{where}: {name} is missing")
    return values
