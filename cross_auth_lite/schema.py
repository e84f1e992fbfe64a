"""The store's schema: creating tables, and recording what created them.

A ``lite_meta`` table holds the schema version and the connection-sharing
choice the store was created with. Opening a store with the other choice, or
one written by a newer cross-auth-lite, fails with a clear message instead of
quietly running against constraints it does not expect.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from cross_auth_lite.database import write_transaction
from cross_auth_lite.fields import UTCDateTimeField
from cross_auth_lite.models import StoreModels

__all__ = ["SCHEMA_VERSION", "SchemaError", "ensure_schema", "read_meta"]

#: Bumped whenever the tables change shape; older stores are upgraded on open.
SCHEMA_VERSION = 2

EXCLUSIVE = "exclusive"
SHARED = "shared"


class SchemaError(ValueError):
    """The store on disk does not match what this process expects."""


class LiteMeta(peewee.Model):
    key = peewee.TextField(primary_key=True)
    value = peewee.TextField()

    class Meta:
        table_name = "lite_meta"


def read_meta(database: peewee.Database) -> dict[str, str]:
    """The recorded ``key -> value`` pairs, empty for a new database."""
    if not database.table_exists("lite_meta"):
        return {}
    with LiteMeta.bind_ctx(database):
        return {row.key: row.value for row in LiteMeta.select()}


def ensure_schema(
    database: peewee.Database, models: StoreModels, *, shared_connections: bool
) -> dict[str, str]:
    """Create missing tables and record the schema, or check an existing store against it."""
    wanted = SHARED if shared_connections else EXCLUSIVE
    with LiteMeta.bind_ctx(database):
        meta = read_meta(database)
        if meta and _version(meta) == SCHEMA_VERSION:
            _check(meta, wanted, database)
            return meta  # the usual case: no write lock taken
        with write_transaction(database):
            meta = read_meta(database)  # another process may have got here first
            if meta:
                _check(meta, wanted, database)
                return _upgrade(database, meta)
            database.create_tables([LiteMeta, *models.all()], safe=True)
            meta = {"schema_version": str(SCHEMA_VERSION), "connections": wanted}
            LiteMeta.insert_many(list(meta.items())).execute()
    return meta


def _version(meta: dict[str, str]) -> int:
    return int(meta.get("schema_version", "0"))


def _add_user_created_at(database: peewee.Database) -> None:
    """Version 2: users remember when they were created (unknown for older users)."""
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("users", "created_at", UTCDateTimeField(null=True)))


#: How to bring a store from the version before each key to that version.
UPGRADES: dict[int, Callable[[peewee.Database], None]] = {2: _add_user_created_at}


def _upgrade(database: peewee.Database, meta: dict[str, str]) -> dict[str, str]:
    """Run the upgrades from the store's version to ``SCHEMA_VERSION``, in the open transaction."""
    for version in range(_version(meta) + 1, SCHEMA_VERSION + 1):
        UPGRADES[version](database)
    LiteMeta.update(value=str(SCHEMA_VERSION)).where(LiteMeta.key == "schema_version").execute()
    return {**meta, "schema_version": str(SCHEMA_VERSION)}


def _check(meta: dict[str, str], wanted: str, database: peewee.Database) -> None:
    where = getattr(database, "database", "the database")
    version = _version(meta)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{where} has schema version {version}, newer than this cross-auth-lite "
            f"understands ({SCHEMA_VERSION}); upgrade cross-auth-lite to open it"
        )
    recorded = meta.get("connections", EXCLUSIVE)
    if recorded != wanted:
        raise SchemaError(
            f"{where} was created with {recorded} connections; open it with "
            f"shared_connections={recorded == SHARED}"
        )
