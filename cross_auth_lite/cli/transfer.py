"""``export`` and ``import``: the whole store as one JSON document, and back.

The document and its guarantees are described in ``cross_auth_lite.admin.export``
(writing and reading it) and ``cross_auth_lite.admin.transfer`` (loading it: ids
kept, one transaction, any conflict refuses the whole file). Both commands
work on a store in PostgreSQL too (``--database-url postgresql://...``), so
an export from SQLite imports into PostgreSQL and the other way round.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cross_auth_lite as lite
from cross_auth_lite.cli.common import Commands, open_existing, path_argument, url_error
from cross_auth_lite.cli.errors import CliError, error_message
from cross_auth_lite.cli.output import Progress, describe_counts, echo, emit_json

__all__ = ["add_parsers", "export_command", "import_command"]


def add_parsers(commands: Commands) -> None:
    """Register ``export`` and ``import``."""
    export = commands.add(
        "export",
        export_command,
        "write users, identities and sessions as JSON",
        "Write every user, social account and session, with every column, as one JSON "
        "document: to stdout, or with --output to a 0600 file, replaced whole. The document "
        "holds the provider access and refresh tokens in plain text (decrypted, if the "
        "store encrypts them) and the password hashes: keep it as private as the store. "
        "Session tokens "
        "are only in it as their hashes.",
        parents=[commands.store_options],
    )
    export.add_argument(
        "--output",
        "-o",
        type=path_argument,
        metavar="FILE",
        help="write to FILE (replaced atomically)",
    )
    export.set_defaults(stray_hint="to write to a file, give it with --output FILE")
    load = commands.add(
        "import",
        import_command,
        "load an export into the store",
        "Load an export into the store, creating the store if there is none. Ids are "
        "kept; everything is written in one transaction, and any conflict refuses the "
        "whole file. A store it creates in a directory appears there once every row is "
        "in, so a refused file leaves no new store behind (a new store in PostgreSQL "
        "keeps its empty tables).",
    )
    load.add_argument(
        "file", type=path_argument, metavar="FILE", help="the export to load ('-' for stdin)"
    )


def export_command(args: argparse.Namespace) -> int:
    """``export [--output FILE]``."""
    with open_existing(args) as store:
        if args.output is None or str(args.output) == "-":
            lite.admin.export_store(store, sys.stdout)
            return 0
        try:
            with Progress("exporting") as bar:
                counts = lite.admin.export_to_file(store, args.output, progress=bar.update)
        except lite.LiteError as error:
            raise CliError(error_message(error)) from None
    echo(f"exported {describe_counts(counts)} to {args.output}")
    return 0


def _read(name: str) -> lite.admin.ExportDocument:
    try:
        source = sys.stdin if name == "-" else Path(name).read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        shown = "standard input" if name == "-" else name
        with Progress("checking") as bar:
            return lite.admin.read_export(source, name=shown, progress=bar.update)
    except lite.ExportFormatError as error:
        raise CliError(str(error)) from None


def import_command(args: argparse.Namespace) -> int:
    """``import FILE``."""
    document = _read(str(args.file))  # checked whole before any store is touched
    url = args.database_url
    try:
        with Progress("importing") as bar:
            result = lite.admin.import_into(
                None if url else args.data, document, database_url=url, progress=bar.update
            )
    except lite.UnsupportedURLError as error:
        raise url_error(error, args) from None
    except lite.LiteError as error:
        raise CliError(error_message(error)) from None
    if args.json:
        emit_json(
            {"path": result.location, "created": result.created, "imported": result.imported}
        )
    else:
        where = f"a new store at {result.location}" if result.created else result.location
        echo(f"imported {describe_counts(result.imported)} into {where}")
    return 0
