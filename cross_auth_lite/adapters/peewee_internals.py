"""Every reach of cross-auth-lite past peewee's public API, and the check that it still works.

The fast paths use: a database's per-thread connection state (``db._state``:
its driver connection), peewee's mapping of driver errors to its own
(``__exception_wrapper__``) and an instance's loaded data (``__data__``,
``_dirty``, ``__rel__``); swapping in an encrypted field takes the old
field's place among its model's fields (``_order``, ``_sort_key``); a store's
model classes are copies of classes peewee declared once (``copy_models``:
the class's ``Metadata``, fields and accessors, rebound).
``on_commit`` and transactions (``cross_auth_lite.database.commit_callbacks``) need
none of them: they are built on peewee's public API in both modes.
``fast_paths()`` says, when a store opens, whether the fast paths may be
used: not when ``$CROSS_AUTH_LITE_PORTABLE`` asks for portable mode, and not
when ``capability_problem()`` finds one of their internals missing or
behaving otherwise; then the store runs on peewee's public API and
``fall_back`` warns once.
"""

from __future__ import annotations

import collections
import functools
import sqlite3
import types
from collections.abc import Sequence
from typing import Any, Final

import peewee

from cross_auth_lite.adapters.portable import fall_back, portable_requested

__all__ = [
    "capability_problem",
    "copy_field_position",
    "copy_models",
    "error_wrapper",
    "fast_paths",
    "loaded_instance",
    "open_connection",
    "reset_connections",
]


def error_wrapper() -> Any:
    """peewee's context manager turning driver exceptions into peewee's (``IntegrityError``...)."""
    return getattr(peewee, "__exception_wrapper__")  # noqa: B009 - not in peewee's stubs


def open_connection(db: peewee.Database) -> Any:
    """This thread's driver connection of ``db``, or ``None`` when it has none open."""
    state: Any = db._state  # type: ignore[attr-defined]
    return None if state.closed else state.conn


def reset_connections(db: peewee.Database) -> None:
    """Make ``db`` forget this thread's connection state (its connections are closed already)."""
    db._state.reset()  # type: ignore[attr-defined]


def loaded_instance(model: Any, data: dict[str, Any]) -> Any:
    """A ``model`` instance holding ``data`` as read from the database (nothing dirty).

    What peewee's row reading makes, without a ``setattr`` per field.
    """
    instance = model.__new__(model)
    instance.__data__ = data
    instance._dirty = set()
    instance.__rel__ = {}
    return instance


def copy_field_position(old: peewee.Field[Any], new: peewee.Field[Any]) -> None:
    """Give ``new`` the place of ``old`` among its model's fields (CREATE TABLE, exports)."""
    target: Any = new
    target._order = old._order  # type: ignore[attr-defined]
    target._sort_key = old._sort_key  # type: ignore[attr-defined]


#: What a model's ``Metadata`` holds in the peewee versions ``copy_models`` knows.
_METADATA_STATE: Final = frozenset(
    {
        "model", "database", "fields", "columns", "combined", "_sorted_field_list",
        "sorted_fields", "sorted_field_names", "defaults", "_default_by_name",
        "_default_callable_list", "name", "table_function", "legacy_table_names",
        "table_name", "_table", "indexes", "constraints", "_schema", "primary_key",
        "composite_key", "auto_increment", "only_save_dirty", "depends_on",
        "table_settings", "without_rowid", "strict_tables", "temporary", "refs",
        "backrefs", "model_refs", "model_backrefs", "manytomany", "options",
        "_additional_keys", "_db_hooks",
    }
)  # fmt: skip
#: The attributes of a field that point into its model's class graph.
_FIELD_LINKS: Final = frozenset({"model", "rel_model", "rel_field"})
#: Class attributes a copy makes anew rather than copies.
_MADE_ANEW: Final = frozenset({"_meta", "_schema", "DoesNotExist", "__dict__", "__weakref__"})
#: The name of the ``__repr__`` peewee's metaclass gives a model class.
_PEEWEE_REPR: Final = "ModelBase.__new__.<locals>.<lambda>"
_ACCESSORS: Final = (peewee.FieldAccessor, peewee.ForeignKeyAccessor)


def copy_models(
    prototypes: Sequence[type[peewee.Model]], database: Any
) -> list[type[peewee.Model]] | None:
    """New classes equal to ``prototypes`` (peewee model classes) but bound to ``database``.

    What peewee's metaclass would make declaring the same classes again,
    at a fraction of the cost: each class, its ``Metadata``, fields and
    accessors are copied and pointed at the copies (a foreign key at the
    copy of the model it references, listed earlier in ``prototypes``).
    The copies share no mutable state with the prototypes or each other.
    ``None`` when the fast paths are off or a prototype holds what this
    copy does not know (the caller declares the classes with peewee then);
    ``test_model_copies_agree`` compares copies with classes peewee built.
    """
    if not fast_paths() or _copy_problem(tuple(prototypes)) is not None:
        return None
    made: dict[int, Any] = {}  # id() of a prototype's object -> its copy
    return [_copy_model(model, database, made) for model in prototypes]


@functools.cache
def _copy_problem(prototypes: tuple[type[peewee.Model], ...]) -> str | None:
    """What in ``prototypes`` ``copy_models`` cannot copy, or ``None``; checked once per set."""
    names = {id(model) for model in prototypes}
    earlier: set[int] = set()  # a foreign key's model is copied before the models referencing it
    for prototype in prototypes:
        model: Any = prototype
        meta: Any = model._meta
        if type(prototype) is not peewee.ModelBase or type(model._meta) is not peewee.Metadata:
            return f"{model.__name__} has its own metaclass or Metadata"
        if set(vars(meta)) != _METADATA_STATE:
            return f"{model.__name__}'s Metadata holds other state than expected"
        if meta.manytomany or meta._db_hooks or meta.composite_key or meta._table is not None:
            return f"{model.__name__} has what a copy does not rebind"
        if any(not _plain_index(index) for index in meta.indexes):
            return f"{model.__name__} has an index that is not a tuple of names"
        if vars(type(meta._sorted_field_list)).get("__slots__") != ("_keys", "_items"):
            return "peewee's sorted field list holds other state than expected"
        schema: Any = model._schema
        if set(vars(schema)) != {"model", "_database", "context_options"}:
            return "a model's SchemaManager holds other state than expected"
        own_check = getattr(model.validate_model, "__func__", None)
        if own_check is not getattr(peewee.Model.validate_model, "__func__", None):
            return f"{model.__name__} validates itself"
        if model.DoesNotExist.__bases__ != (peewee.DoesNotExist,):
            return f"{model.__name__}.DoesNotExist is not peewee's"
        for field in meta.fields.values():
            if isinstance(field, peewee.ForeignKeyField) and id(field.rel_model) not in earlier:
                return f"{model.__name__}.{field.name} references a model not copied before it"
            for key, value in vars(field).items():
                if key not in _FIELD_LINKS and not _shareable(value):
                    return f"{model.__name__}.{field.name} holds a {type(value).__name__}"
        for key, value in vars(model).items():
            if key == "__repr__":
                if getattr(value, "__qualname__", "") != _PEEWEE_REPR:
                    return f"{model.__name__} has a __repr__ of its own"
                continue
            if key in _MADE_ANEW or _shareable(value):
                continue
            if type(value) in (*_ACCESSORS, peewee.ObjectIdAccessor):
                if value.field is not meta.fields.get(value.field.name):
                    return f"{model.__name__}.{key} reads a field the model does not have"
                continue
            if type(value) is peewee.BackrefAccessor and id(value.field.model) in names:
                continue
            return f"{model.__name__}.{key} is a {type(value).__name__}"
        earlier.add(id(model))
    return None


def _plain_index(index: object) -> bool:
    return (
        type(index) is tuple
        and len(index) == 2
        and type(index[0]) is tuple
        and all(type(name) is str for name in index[0])
        and type(index[1]) is bool
    )


def _shareable(value: object) -> bool:
    """Whether a copy may hold ``value`` itself: immutable, or a plain function."""
    if type(value) is tuple:
        return all(_shareable(item) for item in value)
    return (
        value is None
        or type(value) in (str, int, float, bool, bytes)
        or (type(value) is types.FunctionType and value.__closure__ is None)
    )


def _copy_model(model: Any, database: Any, made: dict[int, Any]) -> Any:
    meta = model._meta
    fields = {name: _copy_field(field, made) for name, field in meta.fields.items()}
    namespace: dict[str, Any] = {"__qualname__": model.__qualname__}
    accessors = []
    for key, value in vars(model).items():
        kind = type(value)
        if kind in _ACCESSORS:
            accessor = object.__new__(kind)
            vars(accessor).update(vars(value), field=made[id(value.field)])
            if kind is peewee.ForeignKeyAccessor:
                accessor.rel_model = accessor.field.rel_model
            accessors.append(accessor)
            namespace[key] = accessor
        elif kind is peewee.ObjectIdAccessor:
            namespace[key] = kind(made[id(value.field)])
        elif kind is not peewee.BackrefAccessor and key not in _MADE_ANEW and key != "__repr__":
            # __repr__ is peewee's (checked), naming the class: made anew below.
            namespace[key] = value
    namespace["DoesNotExist"] = type(
        model.DoesNotExist.__name__, (peewee.DoesNotExist,), {"__module__": model.__module__}
    )
    copy: Any = type.__new__(type(model), model.__name__, model.__bases__, namespace)
    made[id(model)] = copy
    for accessor in accessors:
        accessor.model = copy
    for field in fields.values():
        field.model = copy
    copy.__repr__ = lambda self: f"<{copy.__name__}: {self.__str__()}>"
    copy._meta = _copy_metadata(meta, copy, database, fields, made)
    schema = object.__new__(type(model._schema))
    vars(schema).update(vars(model._schema), model=copy)
    schema.context_options = dict(schema.context_options)
    copy._schema = schema
    for field, target in meta.refs.items():
        # The backref on the referenced model's copy, as binding the field would add.
        new, referenced = made[id(field)], made[id(target)]
        referenced._meta.backrefs[new] = copy
        referenced._meta.model_backrefs[copy].append(new)
        if field.backref != "+":
            setattr(referenced, field.backref, peewee.BackrefAccessor(new))
    return copy


def _copy_field(field: Any, made: dict[int, Any]) -> Any:
    copy = object.__new__(type(field))
    vars(copy).update(vars(field))
    if isinstance(field, peewee.ForeignKeyField):
        copy.rel_model = made[id(field.rel_model)]
        copy.rel_field = made[id(field.rel_field)]
    made[id(field)] = copy
    return copy


def _copy_metadata(
    meta: Any, model: Any, database: Any, fields: dict[str, Any], made: dict[int, Any]
) -> Any:
    copy = object.__new__(type(meta))
    ordered = object.__new__(type(meta._sorted_field_list))
    ordered._keys = list(meta._sorted_field_list._keys)
    ordered._items = [made[id(field)] for field in meta._sorted_field_list._items]
    vars(copy).update(
        vars(meta),
        model=model,
        database=database,
        fields=fields,
        columns={name: made[id(field)] for name, field in meta.columns.items()},
        combined={name: made[id(field)] for name, field in meta.combined.items()},
        _sorted_field_list=ordered,
        sorted_fields=list(ordered._items),
        sorted_field_names=list(meta.sorted_field_names),
        defaults={made[id(field)]: value for field, value in meta.defaults.items()},
        _default_by_name=dict(meta._default_by_name),
        _default_callable_list=list(meta._default_callable_list),
        indexes=list(meta.indexes),
        primary_key=made[id(meta.primary_key)],
        refs={made[id(field)]: made[id(target)] for field, target in meta.refs.items()},
        backrefs={},  # filled by the models referencing this one
        model_refs=collections.defaultdict(
            list,
            {
                made[id(target)]: [made[id(f)] for f in refs]
                for target, refs in meta.model_refs.items()
            },
        ),
        model_backrefs=collections.defaultdict(list),
        manytomany={},
        options=dict(meta.options),
        _additional_keys=set(meta._additional_keys),
        _db_hooks=[],
    )
    return copy


@functools.cache
def capability_problem() -> str | None:
    """What the fast paths rely on that this peewee lacks, or ``None`` when all is there.

    A real probe, made once per process on an in-memory SQLite database:
    the connection state, the error mapping and a loaded instance must all
    do what the fast paths expect of them.
    """
    try:
        return _probe()
    except Exception as error:  # whatever a changed peewee raises here
        return f"{type(error).__name__}: {error}"


class _ProbeDatabase(peewee.SqliteDatabase):
    """The probe's in-memory database: its statements are lite's own, not the app's.

    peewee logs each statement through ``_log_query``; the probe's are kept out
    of the application's debug log (with a peewee that logs elsewhere they
    would show, which changes nothing else).
    """

    def _log_query(self, sql: str, params: Any) -> None:
        pass


def _probe() -> str | None:
    if not hasattr(peewee, "__exception_wrapper__"):
        return "peewee.__exception_wrapper__ is missing"
    db = _ProbeDatabase(":memory:")

    class Probe(peewee.Model):
        name = peewee.TextField(unique=True)

        class Meta:
            database = db

    db.connect()
    try:
        connection = open_connection(db)
        if not isinstance(connection, sqlite3.Connection):
            return "a database's connection state holds no driver connection"
        db.create_tables([Probe])
        try:
            with error_wrapper():
                connection.execute("INSERT INTO probe (name) VALUES ('a'), ('a')")
        except peewee.IntegrityError:
            pass
        else:
            return "__exception_wrapper__ does not map a driver IntegrityError to peewee's"
        Probe.create(name="a")
        row = loaded_instance(Probe, {"id": 1, "name": "b"})
        if row.name != "b" or row.is_dirty() or row.dirty_fields:
            return "an instance's loaded data is not kept where its fields read it"
        row.save()
        if Probe.get_by_id(1).name != "b":
            return "a loaded instance does not save as a read one"
    finally:
        db.close()
    if open_connection(db) is not None:
        return "closing does not clear the connection state"
    return _copy_probe()


def _copy_probe() -> str | None:
    """What goes wrong with two classes ``copy_models`` copies, or ``None``."""

    class Owner(peewee.Model):
        name = peewee.TextField(default="ada")

    class Post(peewee.Model):
        owner = peewee.ForeignKeyField(Owner, backref="posts")

    problem = _copy_problem((Owner, Post))
    if problem is not None:
        return problem
    db = _ProbeDatabase(":memory:")
    made: dict[int, Any] = {}
    owner, post = (_copy_model(model, db, made) for model in (Owner, Post))
    try:
        db.create_tables([owner, post])
        post.create(owner=owner.create())
        copied = [(row.owner.name, type(row)) for row in owner.get().posts]
        if copied != [("ada", post)] or Owner._meta.database is not None:
            return "a copied model class does not work as the class it copies"
    finally:
        db.close()
    return None


def fast_paths() -> bool:
    """Whether a store opened now may use its fast paths (warning once when it may not)."""
    if portable_requested():
        return False
    problem = capability_problem()
    if problem is not None:
        fall_back("peewee", problem)
        return False
    return True
