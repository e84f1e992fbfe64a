"""The export document: a whole store as one JSON document, and reading one back.

The document:

```text
{
  "format": "cross-auth-lite-export",
  "version": 1,
  "schema_version": 2,
  "connections": "exclusive",
  "users": [{"id": 1, "email": ..., "hashed_password": ...}, ...],
  "social_accounts": [{"id": 1, ..., "user_id": 1}, ...],
  "sessions": [{"id": 1, "token_hash": ..., "user_id": 1}, ...]
}
```

Every column is included (password hashes, provider tokens, session token
hashes, decrypted: the document is as sensitive as the store; ``export_to_file``
writes it 0600). Rows are ordered by id and one record takes one line. There
is no timestamp in it, so exporting an unchanged store gives the same bytes:
an export imported into a fresh store exports identically. Records are
encoded as ``cross_auth_lite.admin.records`` describes.

``export_store(store, out)`` writes one; ``read_export(text)`` reads and
checks one (``ExportFormatError`` naming the record at fault) without
touching any store; ``import_export`` (in ``cross_auth_lite.admin.transfer``)
loads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

import peewee

from cross_auth_lite.admin.records import TABLES, columns, decode_record, encode_row, table_models
from cross_auth_lite.database.models import build_models
from cross_auth_lite.database.schema import EXCLUSIVE, SCHEMA_VERSION, SHARED, read_meta
from cross_auth_lite.database.sqlite import read_snapshot
from cross_auth_lite.errors import ExportFileError, ExportFormatError, LiteError
from cross_auth_lite.private_files import private_output
from cross_auth_lite.store.lite_store import LiteStore

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ExportDocument",
    "Progress",
    "export_store",
    "export_to_file",
    "read_export",
]

#: The ``format`` tag of an export document.
FORMAT = "cross-auth-lite-export"
#: The document layout version; bumped when it changes incompatibly.
FORMAT_VERSION = 1

#: A progress callback: ``progress(done, total)``, called as rows go by.
Progress = Callable[[int, int], None]

_HEADER_KEYS = {"format", "version", "schema_version", "connections"}


@dataclass(frozen=True)
class ExportDocument:
    """An export document, read and checked by ``read_export``.

    ``rows`` maps each table of ``TABLES`` to its records as insert values
    keyed by field name (times are ``datetime``), in document order.
    """

    version: int
    schema_version: int
    connections: str
    rows: Mapping[str, list[dict[str, Any]]] = field(repr=False)

    @property
    def shared_connections(self) -> bool:
        """Whether the exported store had shared connections."""
        return self.connections == SHARED

    @property
    def counts(self) -> dict[str, int]:
        """``{table name: number of records}``."""
        return {table: len(self.rows.get(table, [])) for table in TABLES}


def export_store(
    store: LiteStore, out: TextIO, *, progress: Progress | None = None
) -> dict[str, int]:
    """Write the export document of ``store`` to ``out``; return the rows per table.

    Every read happens in one transaction (``REPEATABLE READ`` on
    PostgreSQL), so the document is a consistent snapshot even while the
    application keeps writing.
    """
    models = table_models(store.models)
    written = dict.fromkeys(TABLES, 0)
    done = 0
    with read_snapshot(store.database):
        meta = read_meta(store.database)
        total = sum(int(model.select().count()) for model in models.values())
        out.write("{\n")
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema_version": int(meta["schema_version"]),
            "connections": meta.get("connections", EXCLUSIVE),
        }
        for key, value in header.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
        for position, (table, model) in enumerate(models.items()):
            fields = columns(model)
            out.write(f"  {json.dumps(table)}: [")
            rows = model.select().order_by(model._meta.primary_key).dicts().iterator()
            for row in rows:
                separator = ",\n" if written[table] else "\n"
                out.write(separator + "    " + json.dumps(encode_row(fields, row)))
                written[table] += 1
                done += 1
                if progress is not None:
                    progress(done, total)
            out.write("\n  ]" if written[table] else "]")
            out.write(",\n" if position < len(models) - 1 else "\n")
        out.write("}\n")
    return written


def export_to_file(
    store: LiteStore, path: str | os.PathLike[str], *, progress: Progress | None = None
) -> dict[str, int]:
    """Write the export document of ``store`` to the file ``path``; return the rows per table.

    The file is private (0600 whatever the umask) and replaced atomically:
    a failed export leaves neither a partial file nor a changed old one.
    ``ExportFileError`` names ``path`` when it cannot be written.
    """
    target = Path(path)
    if target.is_dir():
        raise ExportFileError(f"cannot write {target}: it is a directory")
    try:
        with private_output(target) as stream:
            return export_store(store, stream, progress=progress)
    except LiteError:
        raise
    except OSError as error:
        raise ExportFileError(f"cannot write {target}: {error.strerror or error}") from None


def read_export(
    source: str | bytes | IO[str] | IO[bytes],
    *,
    name: str = "the export",
    progress: Progress | None = None,
) -> ExportDocument:
    """Read and check the export document in ``source`` (its text, or a stream to read).

    Every record is checked against its table's columns before anything is
    returned; ``ExportFormatError`` names the record at fault (``users[3]``),
    prefixed with ``name``. No store is touched.
    """
    try:
        data = source if isinstance(source, str | bytes) else source.read()
        if isinstance(data, bytes):
            data = data.decode("utf-8")
    except UnicodeDecodeError:  # from decode(), or from a text stream's read()
        raise ExportFormatError(f"{name} is not UTF-8 text") from None
    try:
        document = json.loads(data)
    except json.JSONDecodeError as error:
        raise ExportFormatError(f"{name} is not valid JSON ({error})") from None
    except RecursionError:
        raise ExportFormatError(f"{name} is nested too deeply to be an export") from None
    version, schema_version, connections = _check_header(name, document)
    # Field definitions only: models bound to a database that is never opened.
    models = table_models(build_models(peewee.SqliteDatabase(None)))
    total = sum(len(document.get(table, [])) for table in TABLES)
    done = 0
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, model in models.items():
        fields = columns(model)
        decoded = rows[table] = []
        for index, record in enumerate(document.get(table, [])):
            decoded.append(decode_record(fields, record, f"{name}: {table}[{index}]"))
            done += 1
            if progress is not None:
                progress(done, total)
    return ExportDocument(
        version=version, schema_version=schema_version, connections=connections, rows=rows
    )


def _check_header(name: str, document: Any) -> tuple[int, int, str]:
    """The version, schema version and connections of a valid document."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportFormatError(
            f'{name} is not a cross-auth-lite export (no "format": {FORMAT!r})'
        )
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ExportFormatError(f"{name}: version must be a positive whole number")
    if version > FORMAT_VERSION:
        raise ExportFormatError(
            f"{name} is export format {version}; this cross-auth-lite reads up to "
            f"{FORMAT_VERSION}: upgrade it"
        )
    schema = document.get("schema_version", SCHEMA_VERSION)
    if (
        not isinstance(schema, int)
        or isinstance(schema, bool)
        or not 1 <= schema <= SCHEMA_VERSION
    ):
        raise ExportFormatError(
            f"{name}: schema_version must be a whole number from 1 to {SCHEMA_VERSION}"
        )
    unknown = sorted(set(document) - _HEADER_KEYS - set(TABLES))
    if unknown:
        raise ExportFormatError(f"{name}: unknown key(s) {', '.join(map(repr, unknown))}")
    connections = document.get("connections", EXCLUSIVE)
    if connections not in (EXCLUSIVE, SHARED):
        raise ExportFormatError(f"{name}: connections must be {EXCLUSIVE!r} or {SHARED!r}")
    for table in TABLES:
        if not isinstance(document.get(table, []), list):
            raise ExportFormatError(f"{name}: {table} must be a list")
    return version, schema, str(connections)
