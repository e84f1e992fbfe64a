"""The store's schema: creating tables, and recording what created them.

A ``lite_meta`` table holds the schema version and the connection-sharing
choice the store was created with. Opening a store with the other choice, or
one written by a newer cross-auth-lite, fails with a clear message instead of
quietly running against constraints it does not expect.
"""

from __future__ import annotations

import peewee

from cross_auth_lite.database import write_transaction
from cross_auth_lite.models import StoreModels

__all__ = ["SCHEMA_VERSION", "SchemaError", "ensure_schema", "read_meta"]

#: Bumped whenever the tables change shape; older stores are upgraded on open.
SCHEMA_VERSION = 1

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
    with LiteMeta.bind_ctx(database), write_transaction(database):
        meta = read_meta(database)
        if meta:
            _check(meta, wanted, database)
            return meta
        database.create_tables([LiteMeta, *models.all()], safe=True)
        meta = {"schema_version": str(SCHEMA_VERSION), "connections": wanted}
        LiteMeta.insert_many(list(meta.items())).execute()
    return meta


def _check(meta: dict[str, str], wanted: str, database: peewee.Database) -> None:
    where = getattr(database, "database", "the database")
    version = int(meta.get("schema_version", "0"))
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
