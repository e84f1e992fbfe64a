"""What every command shares: the data directory, opening the store, finding users.

A store records how it was created (schema version, connection sharing) in
its ``lite_meta`` table. Commands other than ``init`` read that first, with
a plain connection to the existing file, and open the store the same way, so
nobody has to repeat ``--shared-connections``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee
from cross_auth import normalize_email

import cross_auth_lite
from cross_auth_lite.schema import SHARED, read_meta
from cross_auth_lite.store import DATABASE_FILENAME, LiteStore

__all__ = [
    "DATA_ENV",
    "DEFAULT_DATA_DIR",
    "CliError",
    "connect_existing",
    "count",
    "default_data_dir",
    "describe_user",
    "open_existing",
    "open_or_create",
    "positive_int",
    "read_store_meta",
    "resolve_user",
    "sql",
    "utc_now",
]

#: Environment variable naming the data directory when ``--data`` is not given.
DATA_ENV = "CROSS_AUTH_LITE_DATA"
#: The data directory when neither ``--data`` nor the environment names one.
DEFAULT_DATA_DIR = Path("var/auth")


class CliError(Exception):
    """A failure the CLI reports as one line on stderr, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def default_data_dir() -> Path:
    """``$CROSS_AUTH_LITE_DATA`` if set and not empty, else ``./var/auth``."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value) if value else DEFAULT_DATA_DIR


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def count(query: Any) -> int:
    """Rows matched by a peewee query, as an ``int``."""
    return int(query.count())


def connect_existing(file: Path) -> peewee.SqliteDatabase:
    """A plain connection to the SQLite file at ``file``, which must exist.

    The file is opened read-write but never created, and its permissions are
    left alone (``lite.open`` would tighten them, hiding what ``check``
    reports). Raises ``CliError`` when SQLite cannot use the file.
    """
    uri = "file:" + urllib.parse.quote(str(file.absolute())) + "?mode=rw"
    database = peewee.SqliteDatabase(uri, uri=True, timeout=5)
    try:
        database.connect()
        # SQLite reads the header lazily; make a non-database fail here.
        sql(database, "SELECT count(*) FROM sqlite_master")
    except peewee.DatabaseError as error:
        database.close()
        raise CliError(f"{file} is not a usable SQLite database ({error})") from None
    return database


def sql(database: peewee.Database, statement: str) -> list[tuple[Any, ...]]:
    """The rows ``statement`` returns on ``database``; failures are ``peewee.DatabaseError``."""
    connection: Any = database
    try:
        return list(connection.execute_sql(statement).fetchall())
    except sqlite3.DatabaseError as error:  # raised by fetchall, outside peewee's wrapper
        raise peewee.DatabaseError(str(error)) from error


def read_store_meta(file: Path) -> dict[str, str]:
    """The ``lite_meta`` pairs of the accounts database ``file``; empty if it has none."""
    database = connect_existing(file)
    try:
        return read_meta(database)
    except (peewee.DatabaseError, sqlite3.DatabaseError) as error:
        raise CliError(f"{file} is not a usable SQLite database ({error})") from None
    finally:
        database.close()


def _no_store(data_dir: Path, detail: str) -> CliError:
    return CliError(
        f"no store at {data_dir} ({detail}); create one with 'cross-auth-lite init', "
        f"or point --data or ${DATA_ENV} at an existing one"
    )


def _open(data_dir: Path, *, shared_connections: bool) -> LiteStore:
    try:
        return cross_auth_lite.open(data_dir, shared_connections=shared_connections)
    except ValueError as error:  # StoreLocationError, SchemaError, unusable SQLite file
        raise CliError(str(error)) from None


def open_existing(data_dir: Path) -> LiteStore:
    """Open the store in ``data_dir`` the way it was created; ``CliError`` if there is none."""
    if not data_dir.exists():
        raise _no_store(data_dir, "the directory does not exist")
    if not data_dir.is_dir():
        raise CliError(f"{data_dir} is not a directory")
    file = data_dir / DATABASE_FILENAME
    if not file.exists():
        raise _no_store(data_dir, f"{DATABASE_FILENAME} is missing")
    if not file.is_file():
        raise CliError(f"{file} is not a regular file")
    meta = read_store_meta(file)
    if not meta:
        raise _no_store(data_dir, f"{DATABASE_FILENAME} has no lite_meta table")
    return _open(data_dir, shared_connections=meta.get("connections") == SHARED)


def open_or_create(data_dir: Path, *, shared_connections: bool) -> tuple[LiteStore, bool]:
    """Open the store in ``data_dir``, creating it first if needed; also say whether it was new.

    An existing store keeps the connection mode it was created with: asking
    for the other one is a ``CliError``.
    """
    file = data_dir / DATABASE_FILENAME
    meta = read_store_meta(file) if file.is_file() else {}
    if meta:
        recorded = meta.get("connections")
        wanted = SHARED if shared_connections else "exclusive"
        if recorded != wanted:
            raise CliError(
                f"{data_dir} already holds a store with {recorded} connections; "
                "the connection mode is fixed when a store is created"
            )
    return _open(data_dir, shared_connections=shared_connections), not meta


def resolve_user(store: LiteStore, reference: str) -> Any:
    """The user whose id or email is ``reference``; ``CliError`` when there is none.

    An all-digit reference is tried as an id first. Emails are matched
    exactly, then in Cross-Auth's normalized form (trimmed, lower case).
    """
    user = store.accounts.find_user_by_id(reference)
    if user is None and reference:
        user = store.accounts.find_user_by_email(reference)
        if user is None:
            user = store.accounts.find_user_by_email(normalize_email(reference))
    if user is None:
        raise CliError(f"no user has id or email {reference!r}")
    return user


def describe_user(user: Any) -> str:
    """``user 3 <ada@example.com>`` (or just ``user 3`` without an email)."""
    return f"user {user.id} <{user.email}>" if user.email else f"user {user.id}"
