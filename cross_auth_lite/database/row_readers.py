"""Result rows turned into model instances, as peewee would, in generated code.

peewee reads a row by looping over its columns, testing each value and
calling each field's converter. For a statement known in advance the loop
is generated once instead: one function call per row (one per page of rows),
one dict display, converters only for the fields that convert something.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import peewee

from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.database.fields import SQLITE_WIDTH, UTCDateTimeField

__all__ = ["RowReader", "plain_field", "reader", "related_target"]

ModelT = TypeVar("ModelT", bound=peewee.Model)

# Field types whose database values SQLite and PostgreSQL already return as the
# Python value peewee would produce: no per-row conversion needed. Exact types
# only: a subclass may convert (an encrypted text field does).
_PLAIN_FIELDS = frozenset(
    {
        peewee.AutoField,
        peewee.BigAutoField,
        peewee.IntegerField,
        peewee.BigIntegerField,
        peewee.TextField,
        peewee.CharField,
    }
)


_CONVERSIONS = ("adapt", "db_value", "python_value")


def plain_field(field: peewee.Field[Any]) -> bool:
    """Whether ``field`` converts nothing: a plain type, or a subclass overriding no conversion.

    The store's own ``id`` field is such a subclass (it only copies itself
    differently).
    """
    kind = type(field)
    if kind in _PLAIN_FIELDS:
        return True
    return any(
        issubclass(kind, base)
        and all(getattr(kind, name) is getattr(base, name) for name in _CONVERSIONS)
        for base in _PLAIN_FIELDS
    )


class RowReader(Generic[ModelT]):
    """Turns result rows of a statement into model instances, as peewee would."""

    def __init__(self, model: type[ModelT], fields: list[peewee.Field[Any]]) -> None:
        self.model = model
        self.names = [field.name for field in fields]
        read_row, read_rows = _row_reader(model, fields)
        #: One model instance from a row (not marked dirty).
        self.instance: Callable[[Any], ModelT] = read_row
        #: The model instances of a sequence of rows, in one loop.
        self.instances: Callable[[Sequence[Any]], list[ModelT]] = read_rows


def _row_reader(
    model: type[ModelT], fields: list[peewee.Field[Any]]
) -> tuple[Callable[[Any], ModelT], Callable[[Sequence[Any]], list[ModelT]]]:
    """Functions turning a row, and a sequence of rows, into model instances.

    Generated once per statement, so reading a row is one function call (a
    page of rows one call in all) and one dict display: no loop over
    columns, no per-column type test. Field names are Python identifiers
    and the converters are passed in by name, so the generated source holds
    nothing from outside. Conversions are the fields' own (``reader``),
    but for the fast path of ``UTCDateTimeField`` on SQLite, inlined.
    """
    namespace: dict[str, Any] = {
        "model": model,
        "loaded": peewee_internals.loaded_instance,
        "parse": datetime.fromisoformat,
        "width": SQLITE_WIDTH,
    }
    items = []
    for index, field in enumerate(fields):
        if plain_field(related_target(field)):
            items.append(f"{field.name!r}: row[{index}]")
            continue
        converter, value = f"c{index}", f"v{index}"
        namespace[converter] = reader(field)
        fast = ""
        if type(field) is UTCDateTimeField:
            # The one conversion inlined: the first test of python_value,
            # SQLite's fixed-width UTC text. A call per timestamp costs a
            # page of 20 sessions a tenth more (docs/how-it-is-built.md);
            # test_read_paths_agree compares it with python_value's reads.
            fast = (
                f" else parse({value} + '+00:00')"
                f" if type({value}) is str and len({value}) == width"
            )
        items.append(
            f"{field.name!r}: (None if ({value} := row[{index}]) is None{fast}"
            f" else {converter}({value}))"
        )
    data = "{" + ", ".join(items) + "}"
    source = (
        "def read_row(row):\n"
        f"    return loaded(model, {data})\n"
        "def read_rows(rows):\n"
        f"    return [loaded(model, {data}) for row in rows]\n"
    )
    exec(source, namespace)  # generated from field names only, see above
    return namespace["read_row"], namespace["read_rows"]


def reader(field: peewee.Field[Any]) -> Callable[[Any], Any]:
    """``field.python_value`` for a value other than ``None``, as directly callable as can be.

    A field keeping peewee's ``python_value`` (``adapt`` of a value not
    ``None``) reads through its ``adapt``: ``bool`` itself for a boolean.
    """
    if type(field).python_value is peewee.Field.python_value:
        adapt: Callable[[Any], Any] = field.adapt
        return adapt
    python_value: Callable[[Any], Any] = field.python_value
    return python_value


def related_target(field: peewee.Field[Any]) -> peewee.Field[Any]:
    """The field a foreign key points at, or ``field`` itself."""
    return field.rel_field if isinstance(field, peewee.ForeignKeyField) else field
