"""A refused write's error as the storages raise it: which constraint, never the values.

PostgreSQL explains a constraint violation in a DETAIL line that repeats
the refused row (``Failing row contains (...)``, provider tokens included)
or the key's value (``Key (token_hash)=(...)``), and its drivers put that
line in the error's message. SQLite names only the constraint. So the
``IntegrityError`` of any driver but SQLite's is raised in its place as a
copy of the same peewee class holding the constraint's message and the
key's columns, with the driver's ``sqlstate``; the driver's error, which
holds the values, is left out of the copy's exception chain altogether
(not only hidden from tracebacks), and out of the chain of any error
raised because of it.

This happens where writes run: in ``LitePostgresqlDatabase`` (each
statement and each commit) and bulk ``execute_many`` for a store's own
database, and around each storage method that writes
(``quoting_no_values``) for a database of the application's own class, a
plain ``peewee.PostgresqlDatabase`` say. peewee's debug log shows a store's
statements without their values too (``cross_auth_lite.database.statement_log``);
an application's own database logs as peewee does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import peewee

__all__ = ["Diagnostics", "quoting_no_values", "raise_without_values", "without_values"]

CallableT = TypeVar("CallableT", bound=Callable[..., Any])

# "Key (provider, provider_user_id)=(github, 1) already exists.": the columns.
_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")
# The drivers whose messages name only the constraint: SQLite's.
_SQLITE_DRIVERS = frozenset({"sqlite3", "pysqlite3", "sqlcipher3", "pysqlcipher3", "apsw"})


@dataclass(frozen=True)
class Diagnostics:
    """What the server said of a refused write that names things, never values.

    The ``diag`` of a cleaned error: the fields of psycopg's (and
    psycopg2's) diagnostics that name the constraint, table, column or type
    refused. Those that may quote the row (its detail, context, the
    statement) are not kept.
    """

    severity: str | None = None
    sqlstate: str | None = None
    message_primary: str | None = None
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    datatype_name: str | None = None
    constraint_name: str | None = None


def without_values(error: peewee.IntegrityError) -> peewee.IntegrityError:
    """``error`` itself when its driver quotes no values (SQLite's), else a copy without them.

    The copy is of ``error``'s class. Its message is the driver's primary
    message (the first line: the constraint) and, of a ``Key (...)=(...)``
    detail, the columns; ``sqlstate`` (and psycopg2's name for it,
    ``pgcode``) is the driver's, ``diag`` its ``Diagnostics`` (``None``
    when the driver has none), ``orig`` is ``None``: the driver's error
    holds the values. ``error`` itself, returned for SQLite, has none of
    these attributes added.
    """
    driver: Any = getattr(error, "orig", None)
    if driver is None or type(driver).__module__.partition(".")[0] in _SQLITE_DRIVERS:
        return error
    diag = getattr(driver, "diag", None)
    primary = getattr(diag, "message_primary", None)
    detail = getattr(diag, "message_detail", None)
    if not isinstance(primary, str):  # no diagnostics: the message's own lines
        lines = str(driver).strip().splitlines()
        primary = lines[0] if lines else type(error).__name__
        following = lines[1] if len(lines) > 1 else ""
        detail = (
            following.removeprefix("DETAIL:").strip() if following.startswith("DETAIL:") else None
        )
    message = primary
    # Only the start of the detail: a quoted value may itself hold "Key (...)=".
    key = _KEY_COLUMNS.match(detail) if isinstance(detail, str) else None
    if key is not None:
        message += f" (Key ({key[1]}))"
    cleaned: Any = type(error)(message)
    cleaned.orig = None
    cleaned.sqlstate = cleaned.pgcode = getattr(driver, "sqlstate", None) or getattr(
        driver, "pgcode", None
    )
    cleaned.diag = (
        None
        if diag is None
        else Diagnostics(**{name: _text(diag, name) for name in Diagnostics.__dataclass_fields__})
    )
    result: peewee.IntegrityError = cleaned
    return result


def _text(diag: object, name: str) -> str | None:
    value = getattr(diag, name, None)
    return value if isinstance(value, str) else None


def raise_without_values(error: BaseException) -> NoReturn:
    """Raise ``error``, or its copy ``without_values``, with no value-quoting error in its chain.

    For an ``except`` block re-raising what it caught. The copy is raised
    with no context at all. Its traceback starts here, on purpose: the
    frames of peewee's error wrapping hold the driver's error as a local.
    """
    cleaned = without_values(error) if isinstance(error, peewee.IntegrityError) else error
    _clean_chain(cleaned)
    if cleaned is error:
        raise error
    try:
        raise cleaned from None
    finally:
        # "from None" only hides the error being handled; it would still be kept.
        cleaned.__context__ = None


def quoting_no_values(method: CallableT) -> CallableT:
    """``method`` (a storage's write), raising nothing that quotes a refused row's values.

    A refused write's ``IntegrityError`` is raised ``without_values``; an
    error the storage raised because of one (``UnknownUserError``, a
    duplicate token hash...) keeps it as its cause, cleaned the same way.
    """

    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except BaseException as error:
            raise_without_values(error)

    return write  # type: ignore[return-value]


def _clean_chain(error: BaseException) -> None:
    """Put clean copies in place of every value-quoting ``IntegrityError`` in ``error``'s chain."""
    copies: dict[int, BaseException] = {}
    seen: set[int] = set()
    pending = [error]
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        for name in ("__cause__", "__context__"):
            cause = getattr(link, name)
            if cause is None:
                continue
            if isinstance(cause, peewee.IntegrityError):
                if id(cause) not in copies:
                    copies[id(cause)] = without_values(cause)
                cleaned = copies[id(cause)]
                if cleaned is not cause:
                    setattr(link, name, cleaned)
                    if name == "__cause__":
                        link.__suppress_context__ = True
                cause = cleaned
            pending.append(cause)
