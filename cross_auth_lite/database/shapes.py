"""The shape of a store's model classes: what makes their statements render alike.

Every store built with the same options on the same kind of database has
model classes of the same shape, whose statements render to the same SQL;
``cross_auth_lite.database.statements`` renders each once per process and
shape instead of once per store.
"""

from __future__ import annotations

from typing import Any

import peewee

__all__ = ["SHAPE_ATTRIBUTE", "StoreShape", "store_shape"]


#: The class attribute a store's own model classes carry their ``StoreShape`` in.
SHAPE_ATTRIBUTE = "_lite_store_shape"


class StoreShape:
    """What a store's model classes share with every other store built with the same options.

    Models built by ``build_models`` with the same options and the same kind of
    database render every statement to the same SQL: ``key`` says which,
    ``tables`` finds this store's model (and field) of a table. Only the
    classes ``build_models`` makes carry one (a subclass of them does not).
    """

    __slots__ = ("key", "tables")

    def __init__(
        self,
        database_class: type,
        shared_connections: bool,
        encrypted: bool,
        locked: bool,
        tables: dict[str, type[peewee.Model]],
    ) -> None:
        # Stores sharing a key share SQL, parameter layouts and row readers'
        # generated code, which depend on the fields' classes: every option
        # that changes a field's class (encryption, a locked store) is in it.
        self.key = (database_class, shared_connections, encrypted, locked)
        self.tables = tables


def store_shape(model: Any) -> StoreShape | None:
    """The ``StoreShape`` of a store's own model class; ``None`` for any other model."""
    shape = model.__dict__.get(SHAPE_ATTRIBUTE)
    return shape if isinstance(shape, StoreShape) else None
