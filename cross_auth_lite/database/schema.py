"""The store's schema: creating tables, and recording what created them.

A ``lite_meta`` table holds the schema version and the connection-sharing
choice the store was created with. Opening a store with the other choice
(``ConnectionModeError``), or one written by a newer cross-auth-lite, fails
with a clear message instead of quietly running against constraints it does
not expect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from cross_auth_lite.database.fields import UTCDateTimeField
from cross_auth_lite.database.models import StoreModels
from cross_auth_lite.database.sqlite import write_transaction
from cross_auth_lite.errors import ConnectionModeError, SchemaError

__all__ = [
    "EXCLUSIVE",
    "SCHEMA_VERSION",
    "SHARED",
    "SchemaError",
    "describe_database",
    "ensure_schema",
    "meta_model",
    "read_meta",
]

#: Bumped whenever the tables change shape; older stores are upgraded on open.
SCHEMA_VERSION = 3

EXCLUSIVE = "exclusive"
SHARED = "shared"


class LiteMeta(peewee.Model):
    key = peewee.TextField(primary_key=True)
    value = peewee.TextField()

    class Meta:
        table_name = "lite_meta"


def meta_model(database: peewee.Database) -> type[LiteMeta]:
    """``LiteMeta`` bound to ``database``: one class per database, never rebound.

    (Rebinding the shared class with ``bind_ctx`` would let two stores opening
    at once in two threads read each other's tables.)
    """
    bound: type[LiteMeta] | None = getattr(database, "_lite_meta_model", None)
    if bound is None:
        options = {"database": database, "table_name": "lite_meta"}  # not inherited
        bound = type("LiteMeta", (LiteMeta,), {"Meta": type("Meta", (), options)})
        database._lite_meta_model = bound  # type: ignore[attr-defined]
    return bound


def read_meta(database: peewee.Database) -> dict[str, str]:
    """The recorded ``key -> value`` pairs, empty for a new database."""
    if not database.table_exists("lite_meta"):
        return {}
    model = meta_model(database)
    return {row.key: row.value for row in model.select()}


def ensure_schema(
    database: peewee.Database, models: StoreModels, *, shared_connections: bool
) -> dict[str, str]:
    """Create missing tables and record the schema, or check an existing store against it."""
    wanted = SHARED if shared_connections else EXCLUSIVE
    meta = read_meta(database)
    if meta and _version(meta) == SCHEMA_VERSION:
        _check(meta, wanted, database)
        return meta  # the usual case: no write lock taken
    if meta:
        _check(meta, wanted, database)  # refused before anything is rewritten
        _prepare_upgrade(database, meta)
    model = meta_model(database)
    with write_transaction(database):
        _lock_schema(database)
        meta = read_meta(database)  # another process may have got here first
        if meta:
            _check(meta, wanted, database)
            return _upgrade(database, meta)
        _refuse_foreign_tables(database, models)
        database.create_tables([model, *models.all()], safe=True)
        meta = {"schema_version": str(SCHEMA_VERSION), "connections": wanted}
        model.insert_many(list(meta.items())).execute()
    return meta


def _refuse_foreign_tables(database: peewee.Database, models: StoreModels) -> None:
    """``SchemaError`` when tables of the store's names exist but no store created them.

    Creating the missing ones beside them (``CREATE TABLE IF NOT EXISTS``)
    would quietly run the storages on someone else's tables.
    """
    names = {model._meta.table_name for model in models.all()}
    found = sorted(names & set(database.get_tables()))
    if found:
        raise SchemaError(
            f"{describe_database(database)} already has table(s) {', '.join(found)} that "
            "cross-auth-lite did not create; use another database or schema"
        )


def describe_database(database: peewee.Database) -> str:
    """The database as messages name it (a PostgreSQL URL without its password)."""
    shown = getattr(database, "display_name", None) or getattr(database, "database", None)
    return str(shown or "the database")


#: Key of the PostgreSQL advisory lock held while creating or upgrading tables.
_SCHEMA_LOCK = 0x63616C5F736368  # "cal_sch"


def _lock_schema(database: peewee.Database) -> None:
    """Serialise schema changes on PostgreSQL, whose DDL takes no lock up front.

    SQLite's ``BEGIN IMMEDIATE`` already did; on PostgreSQL two processes
    creating the same tables at once would otherwise collide in its catalog.
    """
    if isinstance(database, peewee.PostgresqlDatabase):
        postgres: Any = database
        postgres.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))


def _version(meta: dict[str, str]) -> int:
    return int(meta.get("schema_version", "0"))


def _add_user_created_at(database: peewee.Database) -> None:
    """Version 2: users remember when they were created (unknown for older users)."""
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("users", "created_at", UTCDateTimeField(null=True)))


def _incremental_vacuum(database: peewee.Database) -> None:
    """Version 3: a SQLite file hands freed pages back (``auto_vacuum = INCREMENTAL``).

    The conversion itself rewrites the file (``VACUUM``), which cannot run in
    a transaction: ``_prepare_upgrade`` did it before this runs, in the
    upgrade's transaction, to record the version. Nothing changes on
    PostgreSQL, whose own autovacuum reuses space.
    """
    if _is_sqlite(database) and _auto_vacuum(database) != _INCREMENTAL:
        raise SchemaError(f"{describe_database(database)} could not be set to incremental vacuum")


#: How to bring a store from the version before each key to that version.
UPGRADES: dict[int, Callable[[peewee.Database], None]] = {
    2: _add_user_created_at,
    3: _incremental_vacuum,
}

#: ``PRAGMA auto_vacuum``'s value for INCREMENTAL.
_INCREMENTAL = 2


def _is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _auto_vacuum(database: peewee.Database) -> int:
    return int(_pragma(database, "PRAGMA auto_vacuum").fetchone()[0])


def _prepare_upgrade(database: peewee.Database, meta: dict[str, str]) -> None:
    """The part of an upgrade that must run outside a transaction, before it.

    Up to version 3, a SQLite file made without incremental auto-vacuum is
    rewritten once with it (``VACUUM``: it needs free disk space about the
    size of the file, and holds the database for as long as the copy takes).
    A file already converted, by an earlier attempt or another process, is
    left alone, so this is safe to repeat.
    """
    if _version(meta) >= 3 or not _is_sqlite(database) or database.transaction_depth():
        return
    if _auto_vacuum(database) == _INCREMENTAL:
        return
    _pragma(database, "PRAGMA auto_vacuum = INCREMENTAL")
    _pragma(database, "VACUUM")


def _upgrade(database: peewee.Database, meta: dict[str, str]) -> dict[str, str]:
    """Run the upgrades from the store's version to ``SCHEMA_VERSION``, in the open transaction."""
    for version in range(_version(meta) + 1, SCHEMA_VERSION + 1):
        UPGRADES[version](database)
    model = meta_model(database)
    model.update(value=str(SCHEMA_VERSION)).where(model.key == "schema_version").execute()
    return {**meta, "schema_version": str(SCHEMA_VERSION)}


def _check(meta: dict[str, str], wanted: str, database: peewee.Database) -> None:
    where = describe_database(database)
    version = _version(meta)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{where} has schema version {version}, newer than this cross-auth-lite "
            f"understands ({SCHEMA_VERSION}); upgrade cross-auth-lite to open it"
        )
    recorded = meta.get("connections", EXCLUSIVE)
    if recorded != wanted:
        raise ConnectionModeError(where, shared_connections=recorded == SHARED)


def _pragma(database: peewee.Database, statement: str) -> Any:
    """Run ``statement`` (a PRAGMA or VACUUM) on ``database``; its cursor."""
    db: Any = database  # execute_sql has no type information
    return db.execute_sql(statement)
