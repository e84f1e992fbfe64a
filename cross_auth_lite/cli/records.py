"""Rows as JSON and back, for ``export`` and ``import``.

Every column of a table is written under its column name (so the foreign
key is ``user_id``), in the model's column order. Timestamps become ISO-8601
UTC strings with microseconds and a ``Z`` (on import, a time without a zone
is taken to be UTC, as everywhere in cross-auth-lite); booleans, numbers,
text and ``null`` stay as they are. Decoding checks each value against its
column and names the record at fault, so a bad file is refused before
anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import peewee

from cross_auth_lite.cli.common import CliError
from cross_auth_lite.cli.output import isoformat

__all__ = ["columns", "decode_record", "encode_row"]


def columns(model: type[peewee.Model]) -> list[peewee.Field]:
    """The model's fields, in column order."""
    fields: list[peewee.Field] = list(model._meta.sorted_fields)
    return fields


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


def _decode_value(item: peewee.Field, value: Any, where: str) -> Any:
    name = item.column_name
    if value is None:
        if not item.null:
            raise CliError(f"{where}: {name} must not be null")
        return None
    kind = _kind(item)
    if kind == "datetime":
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None:
                return parsed  # the column stores UTC; a time without a zone is UTC already
        raise CliError(f"{where}: {name} must be an ISO-8601 time, not {value!r}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise CliError(f"{where}: {name} must be true or false, not {value!r}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
            return value
        raise CliError(f"{where}: {name} must be a whole number, not {value!r}")
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise CliError(f"{where}: {name} must be a number, not {value!r}")
    if isinstance(value, str):
        return value
    raise CliError(f"{where}: {name} must be a string, not {value!r}")


def decode_record(fields: list[peewee.Field], record: object, where: str) -> dict[str, Any]:
    """``record`` from a file as insert values keyed by field name; ``CliError`` if unfit.

    The primary key is required (rows keep their ids, so references stay
    attached). Other columns may be left out when they are nullable (they
    stay null) or have a default; unknown keys are refused.
    """
    if not isinstance(record, dict):
        raise CliError(f"{where}: expected an object, not {type(record).__name__}")
    known = {item.column_name: item for item in fields}
    unknown = sorted(set(record) - set(known))
    if unknown:
        raise CliError(f"{where}: unknown column(s) {', '.join(map(repr, unknown))}")
    values: dict[str, Any] = {}
    for name, item in known.items():
        if name in record:
            values[item.name] = _decode_value(item, record[name], where)
        elif item.null and not item.primary_key:
            values[item.name] = None  # left out of the file: unknown, not "now"
        elif item.default is not None and not item.primary_key:
            values[item.name] = item.default() if callable(item.default) else item.default
        else:
            raise CliError(f"{where}: {name} is missing")
    return values
