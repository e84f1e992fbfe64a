"""``export`` and ``import``: the whole store as one JSON document, and back.

The document::

    {
      "format": "cross-auth-lite-export",
      "version": 1,
      "schema_version": 1,
      "connections": "exclusive",
      "users": [{"id": 1, "email": ..., "hashed_password": ...}, ...],
      "social_accounts": [{"id": 1, ..., "user_id": 1}, ...],
      "sessions": [{"id": 1, "token_hash": ..., "user_id": 1}, ...]
    }

Every column is included (password hashes, provider tokens, session token
hashes: the file is as sensitive as the store, and is written 0600), rows
are ordered by id, and one record takes one line. There is no timestamp in
it, so exporting an unchanged store gives the same bytes: an export
imported into a fresh store exports identically.

``import`` keeps ids, so identities and sessions stay attached to their
users, and writes everything in one transaction: any conflict with the
store (or within the file) refuses the whole file.

Both work on a store in PostgreSQL too (``--database-url postgresql://...``),
so an export from SQLite imports into PostgreSQL and the other way round.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import peewee

from cross_auth_lite.cli.common import CliError, open_existing, open_or_create
from cross_auth_lite.cli.copy import (
    count,
    driver_errors,
    insert_statement,
    open_url_store,
    open_url_target,
    read_snapshot,
)
from cross_auth_lite.cli.output import Progress, echo, emit_json
from cross_auth_lite.cli.records import columns, decode_record, encode_row
from cross_auth_lite.database import write_transaction
from cross_auth_lite.models import StoreModels, build_models
from cross_auth_lite.postgres import reset_sequences
from cross_auth_lite.schema import SCHEMA_VERSION, SHARED, read_meta
from cross_auth_lite.store import DATABASE_FILENAME, LiteStore
from cross_auth_lite.urls import redact_url

__all__ = ["FORMAT", "FORMAT_VERSION", "TABLES", "add_parsers", "write_export"]

#: The ``format`` tag of an export document.
FORMAT = "cross-auth-lite-export"
#: The document layout version; bumped when it changes incompatibly.
FORMAT_VERSION = 1
#: The tables in an export, referenced tables first.
TABLES = ("users", "social_accounts", "sessions")
_HEADER_KEYS = {"format", "version", "schema_version", "connections"}
# Rows written per savepoint; a conflict is searched for within one chunk.
_CHUNK = 1000
_DATABASE_URL_HELP = (
    "%s the store in this PostgreSQL database (postgresql://USER@HOST:PORT/NAME; password "
    "through PGPASSWORD or ~/.pgpass) instead of the one in --data"
)


def add_parsers(
    commands: argparse._SubParsersAction[Any],
    parents: list[argparse.ArgumentParser],
    data_parent: argparse.ArgumentParser,
) -> None:
    """Register ``export`` and ``import``."""
    export = commands.add_parser(
        "export",
        parents=[data_parent],
        help="write users, identities and sessions as JSON",
        description=(
            "Write every user, social account and session, with every column, as one JSON "
            "document: to stdout, or to a new 0600 file with --output."
        ),
    )
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write to FILE (replaced atomically)"
    )
    export.add_argument("--database-url", metavar="URL", help=_DATABASE_URL_HELP % "export")
    export.set_defaults(handler=export_command)

    load = commands.add_parser(
        "import",
        parents=parents,
        help="load an export into the store",
        description=(
            "Load an export into the store, creating the store if there is none. Ids are "
            "kept; everything is written in one transaction, and any conflict refuses the "
            "whole file."
        ),
    )
    load.add_argument("file", metavar="FILE", help="the export to load ('-' for stdin)")
    load.add_argument("--database-url", metavar="URL", help=_DATABASE_URL_HELP % "import into")
    load.set_defaults(handler=import_command)


def _models(store_models: StoreModels) -> dict[str, type[peewee.Model]]:
    return dict(zip(TABLES, store_models.all(), strict=True))


def write_export(store: LiteStore, out: TextIO) -> dict[str, int]:
    """Write the export document of ``store`` to ``out``; return the rows per table.

    Reads happen in one transaction, so the document is a consistent snapshot.
    """
    models = _models(store.models)
    written = dict.fromkeys(TABLES, 0)
    with read_snapshot(store.database):
        meta = read_meta(store.database)
        total = sum(count(model.select()) for model in models.values())
        out.write("{\n")
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema_version": int(meta["schema_version"]),
            "connections": meta["connections"],
        }
        for key, value in header.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
        with Progress("exporting", total) as progress:
            for position, (table, model) in enumerate(models.items()):
                fields = columns(model)
                out.write(f"  {json.dumps(table)}: [")
                rows = model.select().order_by(model._meta.primary_key).dicts().iterator()
                for row in progress.track(rows):
                    separator = ",\n" if written[table] else "\n"
                    out.write(separator + "    " + json.dumps(encode_row(fields, row)))
                    written[table] += 1
                out.write("\n  ]" if written[table] else "]")
                out.write(",\n" if position < len(models) - 1 else "\n")
        out.write("}\n")
    return written


@contextlib.contextmanager
def private_output(path: Path) -> Iterator[TextIO]:
    """A text stream whose content replaces ``path`` (mode 0600) once the block succeeds.

    It is written to a temporary file next to ``path`` first, so a failed or
    interrupted export never leaves a partial file, nor touches an old one.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _summary(counts: dict[str, int]) -> str:
    return (
        f"{counts['users']} users, {counts['social_accounts']} social accounts "
        f"and {counts['sessions']} sessions"
    )


def export_command(args: argparse.Namespace) -> int:
    """``export [--output FILE]``."""
    url = getattr(args, "database_url", None)
    with open_url_store(url) if url else open_existing(args.data) as store:
        if args.output is None or str(args.output) == "-":
            write_export(store, sys.stdout)
            return 0
        if args.output.is_dir():
            raise CliError(f"{args.output} is a directory")
        with private_output(args.output) as stream:
            counts = write_export(store, stream)
    echo(f"exported {_summary(counts)} to {args.output}")
    return 0


def _read_document(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{name} is not UTF-8 text") from None
    except OSError as error:
        raise CliError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(f"{name} is not valid JSON ({error})") from None
    except RecursionError:
        raise CliError(f"{name} is nested too deeply to be an export") from None


def _check_header(name: str, document: Any) -> str:
    """The ``connections`` of a valid export document; ``CliError`` otherwise."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CliError(f'{name} is not a cross-auth-lite export (no "format": {FORMAT!r})')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CliError(f"{name}: version must be a positive whole number, not {version!r}")
    if version > FORMAT_VERSION:
        raise CliError(
            f"{name} is export format {version}; this cross-auth-lite reads up to "
            f"{FORMAT_VERSION}: upgrade it"
        )
    schema = document.get("schema_version", SCHEMA_VERSION)
    if not isinstance(schema, int) or isinstance(schema, bool) or schema > SCHEMA_VERSION:
        raise CliError(f"{name}: schema_version {schema!r} is not one this version can load")
    unknown = sorted(set(document) - _HEADER_KEYS - set(TABLES))
    if unknown:
        raise CliError(f"{name}: unknown key(s) {', '.join(map(repr, unknown))}")
    connections = document.get("connections", "exclusive")
    if connections not in ("exclusive", SHARED):
        raise CliError(f"{name}: connections must be 'exclusive' or 'shared'")
    for table in TABLES:
        if not isinstance(document.get(table, []), list):
            raise CliError(f"{name}: {table} must be a list")
    return str(connections)


def _decode(name: str, document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    # Field definitions only: models bound to a database that is never opened.
    models = _models(build_models(peewee.SqliteDatabase(None)))
    total = sum(len(document.get(table, [])) for table in TABLES)
    rows: dict[str, list[dict[str, Any]]] = {}
    with Progress("checking", total) as progress:
        for table, model in models.items():
            fields = columns(model)
            records = enumerate(document.get(table, []))
            rows[table] = [
                decode_record(fields, record, f"{name}: {table}[{index}]")
                for index, record in progress.track(records)
            ]
    return rows


def _open_target(
    data_dir: Path, connections: str, database_url: str | None = None
) -> tuple[LiteStore, bool]:
    if database_url:
        return open_url_target(database_url, connections)
    if (data_dir / DATABASE_FILENAME).is_file():
        store = open_existing(data_dir)
        if connections == SHARED and not store.shared_connections:
            store.close()
            raise CliError(
                "the export comes from a store with shared connections; import it into a new "
                "store, or one created with 'init --shared-connections'"
            )
        return store, False
    store = open_or_create(data_dir, shared_connections=connections == SHARED)
    return store, store.created


def _conflict(table: str, index: int, values: dict[str, Any], error: Exception) -> CliError:
    where = f"{table}[{index}] (id {values.get('id')!r})"
    text = str(error)
    if text.startswith("UNIQUE constraint failed:"):
        detail = (
            "conflicts with a row already in the store or earlier in the file "
            f"({text.split(':', 1)[1].strip()} must be unique)"
        )
    elif text.startswith("duplicate key value violates unique constraint"):  # PostgreSQL
        key = re.search(r"Key \(([^)]*)\)=", text)
        names = ", ".join(f"{table}.{name.strip()}" for name in key[1].split(",")) if key else ""
        detail = (
            "conflicts with a row already in the store or earlier in the file "
            f"({names or text.splitlines()[0]} must be unique)"
        )
    elif "FOREIGN KEY" in text.upper():
        detail = f"belongs to user {values.get('user')!r}, who is not in the file or the store"
    else:
        detail = f"was refused by the database ({text})"
    return CliError(f"import refused, nothing imported: {where} {detail}")


def _insert(
    store: LiteStore,
    table: str,
    model: type[peewee.Model],
    rows: list[dict[str, Any]],
    progress: Progress,
) -> None:
    # One prepared INSERT run over chunks of rows: building SQL per row through
    # peewee costs ten times more than SQLite spends writing it.
    fields: list[Any] = columns(model)
    database: Any = store.database
    statement = insert_statement(database, model)
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        parameters = [[item.db_value(values[item.name]) for item in fields] for values in chunk]
        try:
            with database.atomic(), driver_errors:
                database.cursor().executemany(statement, parameters)
        except peewee.IntegrityError:
            # Find the row at fault, to name it; the enclosing transaction rolls back.
            for index, (values, row) in enumerate(zip(chunk, parameters, strict=True), start):
                try:
                    with database.atomic(), driver_errors:
                        database.cursor().execute(statement, row)
                except peewee.IntegrityError as error:
                    raise _conflict(table, index, values, error) from None
            raise
        progress.advance(len(chunk))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def import_command(args: argparse.Namespace) -> int:
    """``import FILE``."""
    document = _read_document(args.file)
    connections = _check_header(args.file, document)
    rows = _decode(args.file, document)
    url = getattr(args, "database_url", None)
    store, created = _open_target(args.data, connections, url)
    with store:
        models = _models(store.models)
        total = sum(len(table_rows) for table_rows in rows.values())
        with Progress("importing", total) as progress, write_transaction(store.database):
            for table, model in models.items():
                _insert(store, table, model, rows[table], progress)
            reset_sequences(store.database, store.models.all())
        path = redact_url(url) if url else store.path.absolute()
    counts = {table: len(table_rows) for table, table_rows in rows.items()}
    if args.json:
        emit_json({"path": str(path), "created": created, "imported": counts})
    else:
        where = f"a new store at {path}" if created else str(path)
        echo(f"imported {_summary(counts)} into {where}")
    return 0
