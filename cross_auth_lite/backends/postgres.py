"""PostgreSQL for accounts and sessions, when one machine is no longer enough.

``lite.open(path, database_url="postgresql://...")`` keeps users, social
accounts and sessions in PostgreSQL through peewee, with the same models, the
same indexes (including the shared schema's partial unique index) and the same
storages as on SQLite. The driver is psycopg 3 (``pip install
'cross-auth-lite[postgres]'``); psycopg2 works too when it is the one installed.

What differs from SQLite is handled here and in the storages:

- transactions are plain ``BEGIN`` (READ COMMITTED); disconnecting locks the
  user's row (``SELECT ... FOR UPDATE``) and promotion relies on the partial
  unique index, which PostgreSQL checks against concurrent writers too;
- a failed statement aborts PostgreSQL's whole transaction, so writes that may
  fail inside an application transaction run in a savepoint;
- ids are ``SERIAL`` (32-bit) columns; rows copied with their ids need their
  sequences moved past them (``reset_sequences``).
"""

from __future__ import annotations

from typing import Any

import peewee
from playhouse.shortcuts import ReconnectMixin

from cross_auth_lite.backends.url_checks import checked_url, postgres_url_problem
from cross_auth_lite.database.refusals import raise_without_values
from cross_auth_lite.database.sqlite import ClosableConnectionsMixin, CommitCallbacksMixin
from cross_auth_lite.database.statement_log import execute_hiding_values
from cross_auth_lite.database.statements import quote_identifier
from cross_auth_lite.errors import (
    ConnectionFailedError,
    MissingExtraError,
)
from cross_auth_lite.urls import redact_url, scheme_of, scrub

__all__ = [
    "POSTGRES_SCHEMES",
    "LitePostgresqlDatabase",
    "check_database_url",
    "connect_postgresql",
    "is_postgres_url",
    "open_postgresql",
    "reset_sequences",
]

#: URL schemes ``database_url`` accepts.
POSTGRES_SCHEMES = ("postgresql", "postgres")

_INSTALL_HINT = "install the driver with: pip install 'cross-auth-lite[postgres]'"


def is_postgres_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return scheme_of(url) in POSTGRES_SCHEMES


def check_database_url(url: object) -> str:
    """``url`` if it names a PostgreSQL database, else ``TypeError``/``UnsupportedURLError``.

    A ``postgresql://`` URL that libpq could not read is a ``MalformedURLError``.
    """
    return checked_url(
        "database_url",
        url,
        supported=is_postgres_url,
        advice=f"use a {' or '.join(s + '://' for s in POSTGRES_SCHEMES)} URL, or leave it "
        "out for SQLite in the store's directory",
        problem=postgres_url_problem,
    )


class _Context(peewee.Context):
    """Renders booleans inlined into DDL as ``TRUE``/``FALSE``.

    With psycopg 3, peewee writes the values of index DDL (the shared schema's
    partial index ``WHERE is_login_method = ...``) inline, and would write
    ``True`` as ``1``, which PostgreSQL refuses to compare with a boolean.
    """

    def value(self, value: Any, converter: Any = None, add_param: bool = True) -> Any:
        if self.state.value_literals:
            if converter:
                value = converter(value)
            elif converter is None and self.state.converter:
                value = self.state.converter(value)
            if isinstance(value, bool):
                return self.literal("TRUE" if value else "FALSE")
            converter = False  # converted already
        return super().value(value, converter, add_param)


class LitePostgresqlDatabase(
    ReconnectMixin,  # type: ignore[misc]  # playhouse has no type information
    ClosableConnectionsMixin,
    CommitCallbacksMixin,
    peewee.PostgresqlDatabase,
):
    """``peewee.PostgresqlDatabase`` with savepoint-aware commit callbacks and ``close_all()``.

    Like ``LiteSqliteDatabase``. psycopg 3 is used when it is installed
    (peewee would otherwise prefer psycopg2). A connection the server dropped
    (restart, idle timeout, ``pg_terminate_backend``) is opened again on the
    next statement outside a transaction; inside one the error surfaces, since
    the transaction's work is gone.
    """

    context_class = _Context
    reconnect_errors = (
        (peewee.OperationalError, "terminating connection"),  # psycopg 3
        (peewee.OperationalError, "the connection is closed"),  # psycopg 3
        (peewee.OperationalError, "consuming input failed"),  # psycopg 3
        (peewee.OperationalError, "server closed the connection"),  # psycopg2
        (peewee.InterfaceError, "connection already closed"),  # psycopg2
        (peewee.InterfaceError, "the connection is closed"),  # psycopg 3
    )

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefer_psycopg3", True)
        super().__init__(database, *args, **kwargs)

    @property
    def display_name(self) -> str:
        """The database for messages: its URL without the password."""
        return redact_url(str(self.database))

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """Run one statement, as peewee does; neither its log nor a refusal quotes values.

        PostgreSQL's DETAIL of a constraint violation quotes the row it
        refused or the key: the error raised says which constraint and which
        columns, never the values (``cross_auth_lite.database.refusals``).
        peewee's debug log shows the statement with its values hidden
        (``cross_auth_lite.database.statement_log``).
        """
        base: Any = super()
        try:
            return execute_hiding_values(base.execute_sql, sql, params)
        except peewee.IntegrityError as error:
            raise_without_values(error)

    def commit(self) -> None:
        """Commit, as peewee does; a deferred constraint's refusal quotes no values either."""
        base: Any = super()
        try:
            base.commit()
        except peewee.IntegrityError as error:
            raise_without_values(error)


def _connection_target(url: str) -> str:
    # peewee hands the name to the driver as a connection string only when it
    # starts with "postgresql://"; libpq also knows the short "postgres://".
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.lower() in POSTGRES_SCHEMES else url


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def open_postgresql(url: str) -> LitePostgresqlDatabase:
    """Connect to the PostgreSQL database at ``url`` (``postgresql://user@host:port/name``).

    Anything libpq understands may follow in the query string (``sslmode``,
    ``options=-csearch_path%3Dauth`` to keep the tables in schema ``auth``, ...);
    passwords are best left to ``PGPASSWORD`` or ``~/.pgpass``. Raises
    ``UnsupportedURLError`` for another kind of URL (``MalformedURLError`` for
    one libpq could not read), ``ConnectionFailedError`` for a database that
    cannot be reached, and ``MissingExtraError`` when no PostgreSQL driver is
    installed. No error repeats the password.
    """
    return connect_postgresql(check_database_url(url))


def connect_postgresql(url: str) -> LitePostgresqlDatabase:
    """``open_postgresql`` for a URL that ``check_database_url`` already accepted."""
    db = LitePostgresqlDatabase(_connection_target(url))
    try:
        db.connect()
    except peewee.ImproperlyConfigured:
        raise MissingExtraError(f"PostgreSQL support needs psycopg: {_INSTALL_HINT}") from None
    except peewee.DatabaseError as error:
        reason = scrub(_first_line(error), url)
        raise ConnectionFailedError(
            f"cannot use PostgreSQL at {redact_url(url)}: {reason}"
        ) from None
    return db


def reset_sequences(db: peewee.Database, models: list[type[peewee.Model]]) -> None:
    """Move each model's id sequence past the largest id, after rows were written with ids.

    Does nothing on databases without sequences (SQLite picks the next id itself).
    """
    database: Any = db
    if not getattr(database, "sequences", False):
        return
    for model in models:
        primary_key = model._meta.primary_key
        if not isinstance(primary_key, peewee.AutoField | peewee.BigAutoField):
            continue
        table = quote_identifier(model._meta.table_name)
        column = primary_key.column_name
        largest = f"MAX({quote_identifier(column)})"
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE({largest}, 1), "
            f"{largest} IS NOT NULL) FROM {table}",
            (table, column),
        )
