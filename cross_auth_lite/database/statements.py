"""Statements built once per storage and executed many times.

Building a peewee query and rendering its SQL costs far more than SQLite
takes to run it. The hot paths of the storages therefore describe each
statement once, with named ``slot``s where per-call values go, render it on
first use, and afterwards only bind parameters and turn rows into model
instances.

Statements go through ``Database.execute_sql``, so peewee's exception
wrapping, logging and query hooks still see every one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

import peewee

from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.database.refusals import raise_without_values
from cross_auth_lite.database.row_readers import RowReader, generated_factory, plain_field
from cross_auth_lite.database.shapes import StoreShape, store_shape
from cross_auth_lite.database.sqlite import bound_database

__all__ = [
    "Compiled",
    "fast_paths",
    "StatementCache",
    "execute_many",
    "insert_row",
    "quote_identifier",
    "slot",
]

ModelT = TypeVar("ModelT", bound=peewee.Model)


def _unchanged_type(field: peewee.Field[Any]) -> type | None:
    """A value type ``field.db_value`` returns as it is (``bool`` for a boolean...), if any.

    Values of exactly that type skip the converter call; it would return them
    unchanged. A field that converts nothing (``plain_field``) returns an
    ``int`` or a ``str`` as it is; other values (a ``bool`` or a ``float``
    for an integer, a ``UUID`` for text) go through its ``adapt``, as peewee's
    own queries do.
    """
    if plain_field(field):
        return int if isinstance(field, peewee.IntegerField) else str
    if type(field) is peewee.BooleanField:
        return bool  # db_value is bool(value)
    if isinstance(field, peewee.ForeignKeyField) and type(field).db_value is (
        peewee.ForeignKeyField.db_value
    ):
        target = field.rel_field
        integer = issubclass(type(target), peewee.IntegerField)
        return int if integer and plain_field(target) else None  # int(value) for an int
    return None


@dataclass(frozen=True)
class _Slot:
    name: str
    field: peewee.Field[Any] | None
    unchanged: type | None = None


def slot(name: str, field: peewee.Field[Any] | None = None) -> peewee.Value:
    """A placeholder for the per-call value ``name``; ``field`` converts it like that column."""
    if field is None:
        return peewee.Value(_Slot(name, None), converter=False)
    return peewee.Value(_Slot(name, field, _unchanged_type(field)), converter=False)


def _converter(field: peewee.Field[Any] | None, database: Any) -> Callable[[Any], Any] | None:
    """``field.db_value`` of a value other than ``None``, for ``database``; none for no field.

    A field knowing its conversion for a database (``UTCDateTimeField``: text
    on SQLite) gives that function (``db_converter``); any other its ``db_value``.
    """
    if field is None:
        return None
    for_database = getattr(field, "db_converter", None)
    convert: Callable[[Any], Any] = (
        field.db_value if for_database is None else for_database(database)
    )
    return convert


#: A slot as the parameter builder sees it: position, name, converter, and
#: the value type the converter returns unchanged.
_Binding = tuple[int, str, Callable[[Any], Any] | None, type | None]


def _parameter_list(
    params: Sequence[Any], slots: list[_Binding]
) -> tuple[Callable[[Mapping[str, Any]], list[Any]], _BinderPlan]:
    """A function building a statement's parameter list from the per-call values, and its plan.

    Generated once per process for each layout of parameters (a factory,
    see ``generated_factory``), like the row readers: one list display,
    constants in place, each slot looked up (and converted by its field's
    own conversion) where it goes. A value the converter would return
    unchanged (a ``bool`` for a boolean column, an ``int`` for a key) is
    bound as it is; a value bound in several places through one converter
    (refresh's ``updated_at``) is converted once. The plan (the factory and
    what it takes) is the same for every store of a shape: ``_bind_by_plan``
    makes another store's function from it.
    """
    first_use: dict[tuple[str, Any], int] = {}
    layout: list[_SlotLayout] = []
    for index, name, convert, unchanged in slots:
        if convert is None:
            layout.append((index, name, False, None, index))
            continue
        first = first_use.setdefault((name, convert), index)
        layout.append((index, name, True, unchanged, first))
    plan = _binder_factory(len(params), tuple(layout))
    return _bind_by_plan(plan, params, slots), plan


def _bind_by_plan(
    plan: _BinderPlan, params: Sequence[Any], slots: list[_Binding]
) -> Callable[[Mapping[str, Any]], list[Any]]:
    """The parameter list function of ``plan`` for these constants and slot converters."""
    make, arguments = plan
    values: dict[str, dict[int, Any]] = {"k": dict(enumerate(params)), "c": {}, "t": {}}
    for index, _, convert, unchanged in slots:
        values["c"][index] = convert
        values["t"][index] = unchanged
    function: Callable[[Mapping[str, Any]], list[Any]] = make(
        *[values[kind][index] for kind, index in arguments]
    )
    return function


#: A slot as the parameter list's generated code depends on it: its
#: position, its name, whether it has a converter, the value type the
#: converter returns unchanged, and the position of the first slot of the
#: same name and converter (its own if it is the first).
_SlotLayout = tuple[int, str, bool, type | None, int]


#: A parameter list's factory and the arguments it takes (see ``_binder_factory``).
_BinderPlan = tuple[Callable[..., Any], tuple[tuple[str, int], ...]]


@lru_cache(maxsize=512)
def _binder_factory(count: int, layout: tuple[_SlotLayout, ...]) -> _BinderPlan:
    """The factory of ``_parameter_list``'s function for ``count`` parameters, slots at ``layout``.

    The factory takes, in order, the arguments named by the list returned
    beside it: ``("k", i)`` is the constant parameter at ``i``, ``("c", i)``
    the converter of the slot at ``i`` and ``("t", i)`` the type that
    converter returns unchanged. Slot names are written as string literals
    (``repr``), so the source holds nothing but names and indexes.
    """
    at = {entry[0]: entry for entry in layout}
    firsts = [first for _, _, converted, _, first in layout if converted]
    repeated = {first for first in firsts if firsts.count(first) > 1}
    arguments: list[tuple[str, int]] = []
    locals_ = []
    items = []
    for index in range(count):
        if index not in at:
            arguments.append(("k", index))
            items.append(f"k{index}")
            continue
        _, name, converted, unchanged, first = at[index]
        if not converted:
            items.append(f"values[{name!r}]")
        elif first != index:
            items.append(f"p{first}")
        else:
            arguments.append(("c", index))
            if unchanged is not None:
                arguments.append(("t", index))
            expression = _conversion(index, name, unchanged)
            if index in repeated:
                locals_.append(f"        p{index} = {expression}\n")
                expression = f"p{index}"
            items.append(expression)
    source = f"def make({', '.join(kind + str(index) for kind, index in arguments)}):\n"
    source += "    def parameters(values):\n" + "".join(locals_)
    source += "        return [" + ", ".join(items) + "]\n"
    source += "    return parameters\n"
    return generated_factory(source, "make"), tuple(arguments)


def _conversion(index: int, name: str, unchanged: type | None) -> str:
    """The expression binding slot ``name`` at ``index`` through its converter ``c{index}``."""
    value = f"v{index}"
    if unchanged is not None:
        return (
            f"({value} if type({value} := values[{name!r}]) is t{index}"
            f" else None if {value} is None else c{index}({value}))"
        )
    return f"(None if ({value} := values[{name!r}]) is None else c{index}({value}))"


class Compiled(Generic[ModelT]):
    """One rendered statement: its SQL, where each parameter comes from, and its row reader."""

    def __init__(
        self,
        query: peewee.Query,
        database: peewee.Database,
        returning: Sequence[peewee.Field[Any]] | None = None,
    ) -> None:
        """Render ``query`` for ``database``.

        ``returning`` names the fields an INSERT or UPDATE returns, for its
        rows to be read as instances. ``of_shape`` makes the statement for
        another store of the same shape.
        """
        context: Any = database.get_sql_context()
        sql, params = context.sql(query).query()
        self.sql: str = sql
        self.database: Any = database
        self._params: tuple[Any, ...] = tuple(params)
        self._slots: list[_Binding] = [
            (index, value.name, _converter(value.field, database), value.unchanged)
            for index, value in enumerate(params)
            if isinstance(value, _Slot)
        ]
        self._bind, self._binder = _parameter_list(self._params, self._slots)
        self._execute_sql: Callable[[str, list[Any]], Any] = database.execute_sql
        if isinstance(query, peewee.SelectBase):
            select: Any = query
            returning = select.selected_columns
        model = getattr(query, "model", None)
        self.model: type[ModelT] | None = (
            model
            if model is not None
            and returning
            and all(isinstance(f, peewee.Field) for f in returning)
            else None
        )
        #: The fields the rows hold, in order (none for a statement without model rows).
        self.fields: list[peewee.Field[Any]] = list(returning or ()) if self.model else []
        #: The generated row reader on the fast paths; ``None`` in portable
        #: mode, where peewee reads the rows (``Model.raw``).
        self.reader: RowReader[ModelT] | None = (
            RowReader(self.model, self.fields)
            if self.model is not None and fast_paths(database)
            else None
        )

    @classmethod
    def of_shape(
        cls,
        known: _Rendered,
        database: peewee.Database,
        tables: Mapping[str, Any],
        returning: Sequence[peewee.Field[Any]] | None = None,
    ) -> Compiled[Any]:
        """The statement ``known`` for a store of its shape, whose models are in ``tables``.

        The SQL and parameters rendered for another store of the shape, with
        this store's own fields and their conversions, skipping what the shape
        decides: the parameter layout and the row reader's generated code.
        """
        compiled: Compiled[Any] = cls.__new__(cls)
        compiled.sql = known.sql
        compiled.database = database
        compiled._params = known.params
        compiled._slots = [
            (
                index,
                name,
                _converter(None if at is None else _field_at(tables, at), database),
                kind,
            )
            for index, name, at, kind in known.slots
        ]
        compiled._binder = known.binder
        compiled._bind = _bind_by_plan(known.binder, known.params, compiled._slots)
        compiled._execute_sql = database.execute_sql
        model = None if known.table is None else tables[known.table]
        compiled.model = model
        if model is None:
            compiled.fields = []
        elif returning is not None:
            compiled.fields = list(returning)  # this store's own fields already
        else:
            compiled.fields = [_field_at(tables, at) for at in known.fields]
        compiled.reader = (
            RowReader(model, compiled.fields, known.reader)
            if model is not None and fast_paths(database)
            else None
        )
        return compiled

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        """The parameter list for one execution."""
        return self._bind(values)

    def execute(self, **values: Any) -> Any:
        """Run the statement; return the DB-API cursor."""
        return self._execute_sql(self.sql, self._bind(values))

    def rows(self, **values: Any) -> list[ModelT]:
        """Run a statement that returns model rows; return the instances."""
        reader = self.reader
        if reader is not None:
            return reader.instances(self._execute_sql(self.sql, self._bind(values)).fetchall())
        return list(self._raw(values))

    def page(self, shown: int, /, **values: Any) -> tuple[list[ModelT], bool]:
        """The first ``shown`` model rows, and whether the statement returned more.

        Rows past ``shown`` are not made into instances (a page asks for one
        more row than it shows, to know whether there is a next one).
        """
        reader = self.reader
        if reader is not None:
            found = self._execute_sql(self.sql, self._bind(values)).fetchall()
            return reader.instances(found[:shown]), len(found) > shown
        instances = list(self._raw(values))
        return instances[:shown], len(instances) > shown

    def first(self, **values: Any) -> ModelT | None:
        """The first model row, or ``None``."""
        reader = self.reader
        if reader is not None:
            row = self._execute_sql(self.sql, self._bind(values)).fetchone()
            return None if row is None else reader.instance(row)
        for instance in self._raw(values):
            found: ModelT = instance
            return found
        return None

    def _raw(self, values: Mapping[str, Any]) -> Any:
        """The statement as peewee's own ``Model.raw`` query: peewee makes the instances."""
        model = self.model
        if model is None:
            raise TypeError("this statement does not return model rows")
        return model.raw(self.sql, *self._bind(values)).bind(self.database)


def fast_paths(database: peewee.Database) -> bool:
    """Whether statements on ``database`` take the fast paths (a store's databases say).

    A database of the application's own class is checked when its first
    statement is compiled.
    """
    flag: bool | None = getattr(database, "fast_paths", None)
    return peewee_internals.fast_paths() if flag is None else flag


class StatementCache:
    """The compiled statements of one storage, each built on first use.

    Keys name a statement shape; ``build`` makes its peewee query with
    ``slot()`` placeholders. Rendering waits for first use so that models
    bound to a ``DatabaseProxy`` can be initialised later.
    """

    def __init__(self, model: type[peewee.Model]) -> None:
        self._model = model
        self._statements: dict[Hashable, Compiled[Any]] = {}
        #: A store's own models: statements rendered once per process and shape.
        self._shape: StoreShape | None = store_shape(model)
        #: The INSERT shapes of ``insert_row``, by model and given column names.
        self.inserts: dict[tuple[type[peewee.Model], tuple[str, ...]], _Insert] = {}

    def get(
        self,
        key: Hashable,
        build: Callable[[], peewee.Query],
        returning: Sequence[peewee.Field[Any]] | None = None,
    ) -> Compiled[Any]:
        """The compiled statement for ``key``, building it with ``build`` the first time.

        ``returning`` names the fields an INSERT or UPDATE returns, for its
        rows to be read as model instances (a SELECT says so itself).
        """
        compiled = self._statements.get(key)
        if compiled is None:
            # The lambda's code tells apart two callers naming one key differently.
            shared = (key, getattr(build, "__code__", build))
            compiled = self._statements[key] = self.compile(shared, build, returning)
        return compiled

    def compile(
        self,
        key: Hashable,
        build: Callable[[], peewee.Query],
        returning: Sequence[peewee.Field[Any]] | None = None,
    ) -> Compiled[Any]:
        """``Compiled(build(), ...)``, rendered once per process for a store's models.

        ``key`` names the statement among those of its shape: a store's own
        model classes all render it alike (``StoreShape``), so only the
        first store of a shape builds and renders it; the others take that
        SQL and the tables and fields of its rows, with their own models and
        their own fields' conversions. Any other model builds and renders
        its every statement.
        """
        shape = self._shape
        database = self.database
        if shape is None:
            return Compiled(build(), database, returning)
        shared = (shape.key, key)
        known = _RENDERED.get(shared)
        if known is None:
            compiled: Compiled[Any] = Compiled(build(), database, returning)
            _RENDERED[shared] = _Rendered(compiled)
            return compiled
        return Compiled.of_shape(known, database, shape.tables, returning)

    def compiled(self, key: Hashable) -> Compiled[Any]:
        """The statement an earlier ``get`` compiled for ``key``."""
        return self._statements[key]

    @property
    def database(self) -> peewee.Database:
        """The database the statements run on (a proxy's current target)."""
        return bound_database(self._model._meta.database)


#: Where a field is in a store's models: its table and its name.
_FieldAt = tuple[str, str]


def _place(field: peewee.Field[Any]) -> _FieldAt:
    return field.model._meta.table_name, field.name


def _field_at(tables: Mapping[str, Any], at: _FieldAt) -> peewee.Field[Any]:
    """This store's field at ``at``."""
    own: peewee.Field[Any] = tables[at[0]]._meta.fields[at[1]]
    return own


class _Rendered:
    """A statement rendered for a store shape, and what every store of the shape makes of it.

    Its SQL and parameters; where each slot's field is, and its unchanged
    type; the parameter list's factory; the table and fields its rows hold
    and their reader's factory (``None`` if that store read rows through
    peewee).
    """

    __slots__ = ("binder", "fields", "params", "reader", "slots", "sql", "table")

    def __init__(self, compiled: Compiled[Any]) -> None:
        self.sql = compiled.sql
        self.params = compiled._params  # a tuple: the shape's stores share it
        self.slots: list[tuple[int, str, _FieldAt | None, type | None]] = [
            (
                index,
                value.name,
                None if value.field is None else _place(value.field),
                value.unchanged,
            )
            for index, value in enumerate(self.params)
            if isinstance(value, _Slot)
        ]
        self.binder = compiled._binder
        self.table: str | None = (
            None if compiled.model is None else compiled.model._meta.table_name
        )
        self.fields = [_place(field) for field in compiled.fields]
        self.reader = None if compiled.reader is None else compiled.reader.factory


#: SQL and parameters rendered for a store shape, by (shape, statement): see
#: ``StatementCache.compile``. Bounded by the statements the storages name.
_RENDERED: dict[Hashable, _Rendered] = {}


class _Insert:
    """One INSERT shape of a model: its defaults, its statement, how its new key comes back."""

    __slots__ = ("callables", "compiled", "defaults", "fast", "key", "returning")

    def __init__(self, cache: StatementCache, model: type[peewee.Model], given: tuple[str, ...]):
        meta: Any = model._meta
        # peewee's defaults (get_default_dict): plain values, then callables,
        # then the given values over them; a callable whose column is given
        # is not called.
        defaults = {field.name: default for field, default in meta.defaults.items()}
        self.defaults: dict[str, Any] = {
            name: None if callable(default) else default for name, default in defaults.items()
        }
        self.callables: list[tuple[str, Callable[[], Any]]] = [
            (name, default)
            for name, default in defaults.items()
            if callable(default) and name not in given
        ]
        self.fast = fast_paths(cache.database)
        names = tuple({**self.defaults, **dict.fromkeys(given)})
        primary_key = meta.primary_key
        self.key: str | None = None if primary_key.name in names else primary_key.name
        self.returning = bool(cache.database.returning_clause)
        fields = [meta.fields[name] for name in names]
        returning = self.returning

        def build() -> peewee.Query:
            query = model.insert({field: slot(field.name, field) for field in fields})
            return query.returning(primary_key) if returning else query

        self.compiled: Compiled[Any] = cache.compile(("insert", meta.table_name, given), build)


def insert_row(cache: StatementCache, model: type[ModelT], values: Mapping[str, Any]) -> ModelT:
    """Insert one row of ``model`` (peewee defaults filled in) and return it as an instance.

    The INSERT for each set of column names is compiled once.
    """
    key = (model, tuple(values))
    insert: _Insert | None = cache.inserts.get(key)
    if insert is None:
        insert = cache.inserts[key] = _Insert(cache, model, key[1])
    data = dict(insert.defaults)
    for name, default in insert.callables:
        data[name] = default()
    data.update(values)
    compiled = insert.compiled
    cursor = compiled._execute_sql(compiled.sql, compiled._bind(data))
    if insert.key is not None:
        data[insert.key] = cursor.fetchone()[0] if insert.returning else cursor.lastrowid
    instance: ModelT = peewee_internals.loaded_instance(model, data)
    return instance


def quote_identifier(name: str) -> str:
    """``name`` as an SQL identifier, in double quotes (SQLite and PostgreSQL alike)."""
    return '"' + name.replace('"', '""') + '"'


def execute_many(database: peewee.Database, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql`` once per parameter row in ``rows`` (the driver's ``executemany``).

    One prepared statement over many rows, for bulk writes where building
    each statement through peewee would cost more than running it. Errors
    are raised as peewee's (``peewee.IntegrityError``, ...), as ``execute_sql``
    raises them.
    """
    db: Any = database
    if not fast_paths(database):
        for row in rows:
            db.execute_sql(sql, row)
        return
    cursor = db.cursor()
    try:
        with peewee_internals.error_wrapper():
            cursor.executemany(sql, rows)
    except peewee.IntegrityError as error:
        raise_without_values(error)  # PostgreSQL's message quotes the refused row
