"""The shapes of the session storage's variable statements, built once each.

``PeeweeSessionStorage`` compiles these with ``slot()`` placeholders (see
``statements.py``); each distinct shape is rendered once per storage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import peewee

from cross_auth_lite.database.model_checks import primary_key
from cross_auth_lite.database.sqlite import bound_database, sqlite_version
from cross_auth_lite.database.statements import slot

__all__ = [
    "DEFAULT_RETENTION",
    "SESSION_ORDERINGS",
    "SESSION_STATUSES",
    "active_session_query",
    "ended_before",
    "list_query",
    "refresh_query",
    "revoke_query",
    "session_by_id_query",
    "status_condition",
    "supports_returning",
]


#: Cross-Auth's session statuses, as ``list_for_user(status=...)`` takes them.
SESSION_STATUSES = ("active", "expired", "revoked")

#: ``list_for_user``'s ``order_by`` values: the column each orders by, and whether descending.
SESSION_ORDERINGS: dict[str, tuple[str, bool]] = {
    "updated_at_desc": ("updated_at", True),
    "updated_at_asc": ("updated_at", False),
    "created_at_desc": ("created_at", True),
    "created_at_asc": ("created_at", False),
    "expires_at_desc": ("expires_at", True),
    "expires_at_asc": ("expires_at", False),
}


def status_condition(model: type[peewee.Model], status: str, now: Any) -> peewee.Expression:
    """The sessions of ``model`` that have ``status`` at ``now`` (a datetime or a slot).

    As Cross-Auth derives it: ``revoked`` once ``revoked_at`` is set, else
    ``active`` up to and including ``expires_at``, then ``expired``.
    """
    fields = model._meta.fields
    revoked_at, expires_at = fields["revoked_at"], fields["expires_at"]
    if status == "revoked":
        condition: peewee.Expression = revoked_at.is_null(False)
    elif status == "active":
        condition = revoked_at.is_null() & (expires_at >= now)
    elif status == "expired":
        condition = revoked_at.is_null() & (expires_at < now)
    else:
        raise ValueError(f"unknown status {status!r}; use one of {list(SESSION_STATUSES)}")
    return condition


#: How long ended (expired or revoked) sessions are kept, so listings still show them.
DEFAULT_RETENTION = timedelta(days=30)


def ended_before(model: type[peewee.Model], cutoff: datetime) -> peewee.Expression:
    """The sessions of ``model`` that expired or were revoked before ``cutoff``.

    What ``purge_expired`` and housekeeping delete.
    """
    fields = model._meta.fields
    condition: peewee.Expression = (fields["expires_at"] < cutoff) | (
        fields["revoked_at"] < cutoff
    )
    return condition


def active_session_query(model: type[peewee.Model]) -> peewee.Query:
    """``get``: the session with a token hash, if it is active at ``now``.

    Slots: ``token_hash``, ``now``.
    """
    fields = model._meta.fields
    return (
        model.select()
        .where(
            (fields["token_hash"] == slot("token_hash"))
            & fields["revoked_at"].is_null()
            & (fields["expires_at"] >= slot("now", fields["expires_at"]))
        )
        .limit(1)
    )


def session_by_id_query(model: type[peewee.Model]) -> peewee.Query:
    """``get_any``: the session with an id, whatever its status. Slot: ``id``."""
    pk = primary_key(model)
    return model.select().where(pk == slot("id", pk)).limit(1)


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
    if status is not None:
        query = query.where(status_condition(model, status, slot("now", expires_at)))
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


def revoke_query(model: type[peewee.Model]) -> peewee.Query:
    """``revoke``: the session with an id gets ``revoked_at``, unless it already has one.

    Slots: ``id``, ``revoked_at``.
    """
    pk, column = primary_key(model), model._meta.fields["revoked_at"]
    return model.update({column: slot("revoked_at", column)}).where(
        (pk == slot("id", pk)) & column.is_null()
    )


def supports_returning(database: peewee.Database) -> bool:
    """Whether ``database`` runs ``UPDATE ... RETURNING`` (SQLite 3.35 and newer do)."""
    database = bound_database(database)
    if isinstance(database, peewee.SqliteDatabase):
        return sqlite_version() >= (3, 35, 0)
    return bool(getattr(database, "returning_clause", False))
