"""The shapes of the session storage's variable statements, built once each.

``PeeweeSessionStorage`` compiles these with ``slot()`` placeholders (see
``statements.py``); each distinct shape is rendered once per storage.
"""

from __future__ import annotations

from typing import Any

import peewee

from cross_auth_lite.database import sqlite_version
from cross_auth_lite.model_checks import primary_key
from cross_auth_lite.statements import slot

__all__ = ["list_query", "refresh_query", "supports_returning"]


def list_query(
    model: type[peewee.Model],
    owner: peewee.Field[Any],
    name: str,
    descending: bool,
    status: str | None,
    *,
    paged: bool,
) -> peewee.Query:
    """One ``list_for_user`` page: a user's sessions by ``name`` then id, optionally by status.

    Slots: ``owner``, ``now`` (with a status), ``after`` and ``after_id``
    (when ``paged``), ``limit``.
    """
    fields = model._meta.fields
    column, pk, expires_at = fields[name], primary_key(model), fields["expires_at"]
    query = model.select().where(owner == slot("owner", owner))
    if status == "revoked":
        query = query.where(fields["revoked_at"].is_null(False))
    elif status == "active":
        query = query.where(fields["revoked_at"].is_null(), expires_at >= slot("now", expires_at))
    elif status == "expired":
        query = query.where(fields["revoked_at"].is_null(), expires_at < slot("now", expires_at))
    if paged:
        # A row-value comparison lets the (user, column, id) index seek
        # straight to the position instead of scanning earlier pages.
        key = peewee.Tuple(column, pk)
        bound = peewee.Tuple(slot("after", column), slot("after_id", pk))
        query = query.where(key < bound if descending else key > bound)
    ordering = (column.desc(), pk.desc()) if descending else (column.asc(), pk.asc())
    return query.order_by(*ordering).limit(slot("limit"))


def refresh_query(
    model: type[peewee.Model], values: dict[str, Any], *, returning: bool
) -> peewee.Query:
    """The conditional UPDATE of ``refresh``: only a session still active at ``updated_at``.

    Slots: ``id`` and every other key of ``values`` (the columns it sets).
    """
    fields = model._meta.fields
    pk = primary_key(model)
    changes = {fields[name]: slot(name, fields[name]) for name in values if name != "id"}
    update = model.update(changes).where(
        pk == slot("id", pk),
        fields["revoked_at"].is_null(),
        fields["expires_at"] >= slot("updated_at", fields["expires_at"]),
    )
    return update.returning(*model._meta.sorted_fields) if returning else update


def supports_returning(database: peewee.Database) -> bool:
    """Whether ``database`` runs ``UPDATE ... RETURNING`` (SQLite 3.35 and newer do)."""
    if isinstance(database, peewee.DatabaseProxy):
        database = database.obj
    if isinstance(database, peewee.SqliteDatabase):
        return sqlite_version() >= (3, 35, 0)
    return bool(getattr(database, "returning_clause", False))
