"""A closed store's model classes, bound to the next local store of the same shape.

Making a store's three model classes is the largest piece of Python in
opening a store: copying them (or declaring them, in portable mode) and,
later, the garbage collector freeing them again. A test suite opens and
closes a store per test, so ``LiteStore.close()`` hands its classes back
here (``retire_models``), and the next ``lite.open()`` of a store with the
same options binds them to its own database (``store_models``) instead of
making new ones.

Only classes that nothing else can reach are reused: no instance (each holds
its class), no query, no subclass, no ``store.models``, no storage, no field,
accessor or ``_meta`` held anywhere. That is proved, not assumed: when a store's
classes are made, the reference counts of the classes, their ``_meta``,
their schema managers and their fields are taken; when they come to be
reused, they must be the same again. A count above that means something
still holds the classes, and they are left to whoever holds them: the new
store gets classes of its own, so a row read from a closed store can never
be saved into another one. Reuse is limited to local SQLite stores whose
tokens are not encrypted (an encrypted store's fields hold its key), and
to CPython with the GIL, whose reference counts say exactly who holds an
object; elsewhere every store makes its classes, as before.
"""

from __future__ import annotations

import collections
import sys
import sysconfig
import threading
import weakref
from typing import Any, Final

import peewee

from cross_auth_lite.database.models import StoreModels, build_models
from cross_auth_lite.database.sqlite import LiteSqliteDatabase
from cross_auth_lite.encryption import TokenCipher

__all__ = ["retire_models", "store_models"]

#: How many closed stores' classes are kept per shape (a test suite needs one).
KEPT_PER_SHAPE: Final = 2

_Shape = tuple[type[peewee.Database], bool]
#: What a model class holds for its fields and backrefs (``User.__dict__["email"]``).
_ACCESSORS: Final = (peewee.FieldAccessor, peewee.BackrefAccessor, peewee.ObjectIdAccessor)


def _counts_are_exact() -> bool:
    """Whether ``sys.getrefcount`` counts every holder: CPython with the GIL."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return sys.implementation.name == "cpython" and not free_threaded


_EXACT: Final = _counts_are_exact()
#: Retired classes by shape, newest last.
_retired: dict[_Shape, collections.deque[StoreModels]] = {}
_retired_lock = threading.Lock()
#: What each reusable set of classes was made as: its shape and its reference counts.
_made: weakref.WeakKeyDictionary[type[peewee.Model], tuple[_Shape, tuple[int, ...]]] = (
    weakref.WeakKeyDictionary()
)


def store_models(
    database: peewee.Database,
    *,
    shared_connections: bool,
    cipher: TokenCipher | None,
    tokens_locked: bool,
) -> StoreModels:
    """The model classes of a store opening on ``database``: a closed store's, or new ones.

    The same as ``build_models`` with these options, whichever it is.
    """
    shape = _shape(database, shared_connections, cipher, tokens_locked)
    if shape is not None:
        models = _reusable(shape)
        if models is not None:
            for model in models.all():
                _rebind(model, database)
            return models
    models = build_models(
        database, shared_connections=shared_connections, cipher=cipher, tokens_locked=tokens_locked
    )
    if shape is not None:
        # _holdable makes each Table now, kept for good: one peewee made later
        # and let go would hold its class until the garbage collector ran
        # (it is a cycle with its columns), hiding that nobody else does.
        _made[models.User] = (shape, _reference_counts(models))
    return models


def retire_models(models: StoreModels) -> None:
    """Offer a closed store's classes to the next store of its shape.

    They are reused only once nothing else holds them (see the module's
    docstring); classes ``store_models`` did not make reusable are ignored.
    """
    made = _made.get(models.User)
    if made is None:
        return
    with _retired_lock:
        _retired.setdefault(made[0], collections.deque(maxlen=KEPT_PER_SHAPE)).append(models)


def _rebind(model: type[peewee.Model], database: peewee.Database) -> None:
    """Bind ``model`` to ``database`` as ``Model.bind`` does, keeping its Table.

    ``Model.bind`` would replace the Table (see ``store_models``); rebinding
    the one kept does the same. Its fields' database hooks are not run
    again: the new database is of the same class, so they would set what
    they set before.
    """
    meta: Any = model._meta
    meta.database = database
    schema: Any = getattr(model, "_schema")  # noqa: B009 - not in peewee's stubs
    schema.database = database
    meta.table.bind(database)


def _shape(
    database: peewee.Database,
    shared_connections: bool,
    cipher: TokenCipher | None,
    tokens_locked: bool,
) -> _Shape | None:
    """What classes must share to be reused for a store on ``database``; ``None``: never."""
    if not _EXACT or cipher is not None or tokens_locked:
        return None
    if type(database) is not LiteSqliteDatabase:
        return None
    return (type(database), shared_connections)


def _reusable(shape: _Shape) -> StoreModels | None:
    """A retired set of classes of ``shape`` that nothing else holds, or ``None``."""
    with _retired_lock:
        kept = _retired.get(shape)
        models = kept.pop() if kept else None
    if models is None:
        return None
    made = _made.get(models.User)
    if made is None or _reference_counts(models) != made[1]:
        return None  # still held somewhere: left to its holder, never reused
    return models


def _reference_counts(models: StoreModels) -> tuple[int, ...]:
    """The reference counts of ``models`` and of what of its classes a caller could hold on to.

    Called with the same references held each time (the caller's one
    ``models``), so equal counts mean no holder came or stayed.
    """
    return tuple(sys.getrefcount(item) for item in _holdable(models))


def _holdable(models: StoreModels) -> list[Any]:
    """``models``; its classes, their ``_meta``, schema managers, Tables, fields, accessors."""
    held: list[Any] = [models]
    for model in models.all():
        meta: Any = model._meta
        schema = getattr(model, "_schema")  # noqa: B009 - not in peewee's stubs
        held += (model, meta, schema, meta.table, *meta.fields.values())
        held += (value for value in vars(model).values() if isinstance(value, _ACCESSORS))
    return held
