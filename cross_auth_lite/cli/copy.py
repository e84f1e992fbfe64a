"""``copy --to postgresql://...``: move a store's accounts and sessions to PostgreSQL.

The source is the SQLite store in ``--data``; it may be in use. Its rows are
read in one read transaction, a consistent snapshot, and written to the target
in one transaction with their ids kept (the target's id sequences are then
moved past them), so identities and sessions stay attached to their users.
After the commit the rows of each table are counted on the target and compared
with what was read: a difference fails the command. Rows the application wrote
to the source after the snapshot are not copied; the command says so when the
source changed meanwhile (stop the application, then copy again with
``--force``).

A target that already holds rows is refused unless ``--force``, which replaces
them in the same transaction. A target created with the other connection mode
(shared or exclusive) is always refused. The short-lived cache (OAuth state,
codes) is not copied: sign-ins in progress at the switch start again.

Also here, for ``export`` and ``import``: opening a store by database URL.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import peewee

import cross_auth_lite
from cross_auth_lite.cli.common import CliError, open_existing
from cross_auth_lite.cli.output import Progress, echo, emit_json, print_table
from cross_auth_lite.cli.records import columns
from cross_auth_lite.database import write_transaction
from cross_auth_lite.postgres import LitePostgresqlDatabase, open_postgresql, reset_sequences
from cross_auth_lite.schema import EXCLUSIVE, SHARED, read_meta
from cross_auth_lite.store import LiteStore
from cross_auth_lite.urls import redact_url

__all__ = [
    "TABLES",
    "add_parsers",
    "copy_command",
    "copy_rows",
    "driver_errors",
    "insert_statement",
    "open_url_store",
    "open_url_target",
    "read_snapshot",
]

#: The tables copied, referenced tables first.
TABLES = ("users", "social_accounts", "sessions")
# Rows sent to the server per batch.
_CHUNK = 1000
#: Turns driver exceptions into peewee's (``IntegrityError``, ...), as ``execute_sql`` does.
driver_errors: Any = getattr(peewee, "__exception_wrapper__")  # noqa: B009 - not in the stubs

_URL_HELP = (
    "a postgresql:// URL, e.g. postgresql://USER@HOST:5432/NAME; give the password "
    "through PGPASSWORD or ~/.pgpass rather than in the URL"
)


def add_parsers(
    commands: argparse._SubParsersAction[Any], parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``copy``."""
    parser = commands.add_parser(
        "copy",
        parents=parents,
        help="copy users, identities and sessions to PostgreSQL",
        description=(
            "Copy every user, social account and session of the store to a PostgreSQL "
            "database, keeping ids, in one transaction; then compare the row counts. The "
            "store may be in use: what it held when the copy began is copied."
        ),
    )
    parser.add_argument("--to", required=True, metavar="URL", help=f"the target: {_URL_HELP}")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the rows the target already holds (in the same transaction)",
    )
    parser.set_defaults(handler=copy_command)


def count(query: Any) -> int:  # replaced by the library's transfer functions
    return int(query.count())


# Opening stores by URL


def _connect(url: str) -> LitePostgresqlDatabase:
    try:
        return open_postgresql(url)
    except (ValueError, ImportError) as error:
        raise CliError(str(error)) from None


def _inspect(url: str) -> tuple[dict[str, str], list[str]]:
    """The ``lite_meta`` pairs of the database at ``url`` and the store tables it already has."""
    database = _connect(url)
    try:
        tables = [name for name in database.get_tables() if name in TABLES]
        return read_meta(database), tables
    finally:
        database.close_all()


def _open(url: str, *, shared_connections: bool | None) -> LiteStore:
    try:
        # The directory only holds a cache nobody uses; it goes on close().
        return cross_auth_lite.open(None, database_url=url, shared_connections=shared_connections)
    except (ValueError, ImportError) as error:
        raise CliError(str(error)) from None


def open_url_store(url: str) -> LiteStore:
    """The existing store whose tables are in the database at ``url``; ``CliError`` if none."""
    meta, _ = _inspect(url)
    if not meta:
        raise CliError(
            f"no cross-auth-lite store in {redact_url(url)} (it has no lite_meta table)"
        )
    return _open(url, shared_connections=meta.get("connections") == SHARED)


def open_url_target(url: str, connections: str) -> tuple[LiteStore, bool]:
    """The store at ``url`` to write rows with ``connections`` into, created if needed.

    Also says whether it was created. Refuses a store created with the other
    connection mode, and tables of the same names that cross-auth-lite did
    not create.
    """
    meta, tables = _inspect(url)
    where = redact_url(url)
    if meta:
        recorded = meta.get("connections", EXCLUSIVE)
        if recorded != connections:
            raise CliError(
                f"{where} holds a store with {recorded} connections, and the rows come from "
                f"one with {connections} connections; use another database or schema"
            )
    elif tables:
        raise CliError(
            f"{where} already has table(s) {', '.join(tables)} that cross-auth-lite did not "
            "create; use another database or schema (options=-csearch_path%3D...)"
        )
    return _open(url, shared_connections=connections == SHARED), not meta


@contextlib.contextmanager
def read_snapshot(database: peewee.Database) -> Iterator[None]:
    """A transaction whose reads all see the database as of one instant.

    SQLite's read transactions already do; PostgreSQL's default (READ
    COMMITTED) takes a new snapshot per statement, so REPEATABLE READ is asked for.
    """
    if isinstance(database, peewee.PostgresqlDatabase) and database.transaction_depth() == 0:
        with database.atomic(isolation_level="REPEATABLE READ"):
            yield
    else:
        with database.atomic():
            yield


# Copying


def insert_statement(database: peewee.Database, model: type[peewee.Model]) -> str:
    """``INSERT INTO table (every column) VALUES (...)`` in ``database``'s parameter style."""
    fields = columns(model)
    names = ", ".join(_quote(item.column_name) for item in fields)
    marks = ", ".join(database.param for _ in fields)
    return f"INSERT INTO {_quote(model._meta.table_name)} ({names}) VALUES ({marks})"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _counts(store: LiteStore) -> dict[str, int]:
    return {
        table: count(model.select())
        for table, model in zip(TABLES, store.models.all(), strict=True)
    }


def _clear(target: LiteStore) -> None:
    database: Any = target.database
    tables = ", ".join(_quote(model._meta.table_name) for model in target.models.all())
    if isinstance(target.database, peewee.PostgresqlDatabase):
        database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY")
    else:
        for model in reversed(target.models.all()):
            model.delete().execute()


def copy_rows(source: LiteStore, target: LiteStore, *, force: bool = False) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` in one transaction; return rows per table.

    Reads one snapshot of ``source``. ``CliError`` when ``target`` already
    holds rows, unless ``force``, which deletes them first.
    """
    pairs = list(zip(TABLES, source.models.all(), target.models.all(), strict=True))
    copied = dict.fromkeys(TABLES, 0)
    database: Any = target.database
    with read_snapshot(source.database):
        total = sum(count(model.select()) for _, model, _ in pairs)
        with write_transaction(target.database):
            present = _counts(target)
            if any(present.values()):
                if not force:
                    raise CliError(
                        f"the target already holds {_summary(present)}; pass --force to "
                        "replace them"
                    )
                _clear(target)
            with Progress("copying", total) as progress:
                for table, model, destination in pairs:
                    fields = columns(model)
                    targets: list[Any] = columns(destination)
                    statement = insert_statement(target.database, destination)
                    rows = (
                        model.select(*fields).order_by(model._meta.primary_key).tuples().iterator()
                    )
                    for chunk in _chunks(rows):
                        values = [
                            [
                                item.db_value(value)
                                for item, value in zip(targets, row, strict=True)
                            ]
                            for row in chunk
                        ]
                        with driver_errors:
                            database.cursor().executemany(statement, values)
                        copied[table] += len(chunk)
                        progress.advance(len(chunk))
            reset_sequences(target.database, target.models.all())
    return copied


def _summary(counts: dict[str, int]) -> str:
    return (
        f"{counts['users']} users, {counts['social_accounts']} social accounts "
        f"and {counts['sessions']} sessions"
    )


def copy_command(args: argparse.Namespace) -> int:
    """``copy --to URL [--force]``."""
    with open_existing(args.data) as source:
        connections = SHARED if source.shared_connections else EXCLUSIVE
        target, created = open_url_target(args.to, connections)
        with target:
            try:
                copied = copy_rows(source, target, force=args.force)
            except peewee.IntegrityError as error:
                raise CliError(f"copy refused by the target, nothing copied: {error}") from None
            found = _counts(target)
        now = _counts(source)
        path = source.path.absolute()
    where = redact_url(args.to)
    matches = found == copied
    changed = now != copied
    if args.json:
        emit_json(
            {
                "source": str(path),
                "target": where,
                "created": created,
                "copied": copied,
                "target_counts": found,
                "counts_match": matches,
                "source_changed": changed,
            }
        )
    else:
        echo(f"copied {_summary(copied)} from {path} to {where}")
        print_table(
            ["table", "copied", "in target", ""],
            [
                (
                    table,
                    copied[table],
                    found[table],
                    "ok" if copied[table] == found[table] else "!",
                )
                for table in TABLES
            ],
            indent="  ",
        )
    if not matches:
        raise CliError(
            f"count check failed: copied {_summary(copied)} but the target holds "
            f"{_summary(found)}; is something else writing to it?"
        )
    if changed and not args.json:
        echo(
            f"note: the source changed during the copy (it now holds {_summary(now)}); "
            "stop the application and run copy again with --force to take the rest"
        )
    return 0
