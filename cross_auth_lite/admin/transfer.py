"""Moving rows into a store with their ids: importing an export, copying a whole store.

Both keep ids, so identities and sessions stay attached to their users, and
write everything in one transaction: a conflict with the target refuses the
whole lot (``TransferRefusedError``, naming the row at fault) and nothing is
written. Afterwards the target's id sequences (PostgreSQL) are moved past the
ids written, so new rows do not collide.

``import_export(store, document)`` loads a document from ``read_export``
into an open store; ``import_into(path, document)`` opens the store at
``path`` first, creating it if there is none, and a store it creates
appears only once the import succeeded: a refused import leaves no store
behind.
``copy_store(source, target)`` copies every row of one store into another
(typically SQLite into PostgreSQL, ``lite.open(None, database_url=...)``):
the source is read as one snapshot while it stays in use, and the rows of
each table are counted on the target after the commit (``CopyResult``). A
target that already holds rows is refused unless ``force=True``, which
replaces them in the same transaction. The short-lived cache (OAuth state,
codes) is never moved: sign-ins in progress at the switch start again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from cross_auth_lite.admin.export import ExportDocument, Progress
from cross_auth_lite.admin.records import (
    TABLES,
    columns,
    count_rows,
    describe_counts,
    table_models,
)
from cross_auth_lite.admin.staged_store import stage_store
from cross_auth_lite.backends.postgres import reset_sequences
from cross_auth_lite.database.schema import EXCLUSIVE, SHARED, describe_database
from cross_auth_lite.database.sqlite import read_snapshot, write_transaction
from cross_auth_lite.database.statements import execute_many, quote_identifier
from cross_auth_lite.errors import (
    StoreExistsError,
    StoreLocationError,
    StoreNotFoundError,
    TargetNotEmptyError,
    TransferRefusedError,
)
from cross_auth_lite.store.lite_store import LiteStore
from cross_auth_lite.store.opening import open_store

__all__ = [
    "CopyResult",
    "ImportResult",
    "copy_store",
    "import_export",
    "import_into",
    "open_transfer_target",
]

# Rows sent to the database per statement batch; a conflict is searched for within one.
_CHUNK = 1000


@dataclass(frozen=True)
class CopyResult:
    """What ``copy_store`` did: rows per table copied, and counted afterwards."""

    #: Rows copied, per table (what the source's snapshot held).
    copied: dict[str, int]
    #: Rows the target holds after the commit, per table.
    target_counts: dict[str, int]
    #: Rows the source holds after the copy, per table.
    source_counts: dict[str, int]

    @property
    def counts_match(self) -> bool:
        """Whether the target holds exactly the rows copied (else something else wrote to it)."""
        return self.target_counts == self.copied

    @property
    def source_changed(self) -> bool:
        """Whether the source changed meanwhile (rows written after the snapshot are not in)."""
        return self.source_counts != self.copied


def open_transfer_target(
    path: str | os.PathLike[str] | None = None,
    *,
    database_url: str | None = None,
    shared_connections: bool = False,
    housekeeping: bool = True,
) -> LiteStore:
    """The store to move rows into: the existing one as it was created, else a new one.

    ``path`` and ``database_url`` are those of ``lite.open``; a new store
    gets ``shared_connections``. ``store.created`` says which it was. Like
    ``lite.open``, refuses (``SchemaError``) tables of the store's names
    that no store created. ``housekeeping=False`` opens it without the
    housekeeping thread, whose first pass would delete the long-ended
    sessions just moved in (``import_into`` and the ``copy`` command do so).

    A store it creates exists from then on, for every process: if what
    follows is refused, it stays, empty. To import into a directory that
    may hold no store yet, ``import_into`` leaves none behind instead.
    """
    try:
        return open_store(path, database_url=database_url, create=False, housekeeping=housekeeping)
    except StoreNotFoundError:
        return open_store(
            path,
            database_url=database_url,
            shared_connections=shared_connections,
            housekeeping=housekeeping,
        )


def _mode(shared: bool) -> str:
    return f"{SHARED if shared else EXCLUSIVE} connections"


def _insert_statement(database: peewee.Database, model: type[peewee.Model]) -> str:
    """``INSERT INTO table (every column) VALUES (...)`` in ``database``'s parameter style."""
    fields = columns(model)
    names = ", ".join(quote_identifier(item.column_name) for item in fields)
    marks = ", ".join(database.param for _ in fields)
    table = quote_identifier(model._meta.table_name)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _first_line(error: BaseException) -> str:
    # PostgreSQL's DETAIL lines may quote the values of the row: never repeat them.
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


_CONFLICTS = "conflicts with a row already in the store or earlier in the file"


def _conflict(table: str, index: int, values: dict[str, Any], error: Exception) -> str:
    """Why row ``index`` of ``table`` was refused, naming columns, never values."""
    where = f"{table}[{index}] (id {values.get('id')!r})"
    text = str(error)
    if text.startswith("UNIQUE constraint failed:"):  # SQLite
        names = text.split(":", 1)[1].strip().splitlines()[0]
        detail = f"{_CONFLICTS} ({names} must be unique)"
    elif text.startswith("duplicate key value violates unique constraint"):  # PostgreSQL
        key = re.search(r"Key \(([^)]*)\)", text)
        names = ", ".join(f"{table}.{name.strip()}" for name in key[1].split(",")) if key else ""
        detail = f"{_CONFLICTS} ({names or _first_line(error)} must be unique)"
    elif "FOREIGN KEY" in text.upper():
        detail = f"belongs to user {values.get('user')!r}, who is not in the file or the store"
    else:
        detail = f"was refused by the database ({_first_line(error)})"
    return f"{where} {detail}"


def _insert(
    database: peewee.Database,
    table: str,
    model: type[peewee.Model],
    rows: Sequence[dict[str, Any]],
    start: int,
) -> None:
    """Insert ``rows`` (values keyed by field name) in one batch; name the row at fault."""
    # One prepared INSERT run over the rows: building SQL per row through
    # peewee costs ten times more than SQLite spends writing it.
    fields: list[Any] = columns(model)
    statement = _insert_statement(database, model)
    parameters = [[item.db_value(values[item.name]) for item in fields] for values in rows]
    try:
        with database.atomic():
            execute_many(database, statement, parameters)
    except peewee.IntegrityError:
        # Find the row at fault, to name it; the enclosing transaction rolls back.
        for index, (values, row) in enumerate(zip(rows, parameters, strict=True), start):
            try:
                with database.atomic():
                    execute_many(database, statement, [row])
            except peewee.IntegrityError as error:
                raise TransferRefusedError(
                    f"import refused, nothing imported: {_conflict(table, index, values, error)}"
                ) from None
        raise


def import_export(
    store: LiteStore, document: ExportDocument, *, progress: Progress | None = None
) -> dict[str, int]:
    """Load ``document`` (from ``read_export``) into ``store``, ids kept; return rows per table.

    One transaction: any row that conflicts with the store or with an
    earlier row of the document raises ``TransferRefusedError`` naming it,
    and nothing is imported. An export of a store with shared connections
    only goes into a store with shared connections (an exclusive one could
    not hold what it allows); an exclusive export goes anywhere.
    """
    _check_document(document)
    if document.shared_connections and not store.shared_connections:
        raise TransferRefusedError(
            f"import refused, nothing imported: the export comes from a store with "
            f"{_mode(True)}, and {describe_database(store.database)} holds one with "
            f"{_mode(False)}; import it into a new store, or one created with shared "
            "connections"
        )
    models = table_models(store.models)
    total = sum(document.counts.values())
    done = 0
    with write_transaction(store.database):
        for table, model in models.items():
            rows = list(document.rows.get(table, []))
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                _insert(store.database, table, model, chunk, start)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        reset_sequences(store.database, store.models.all())
    return document.counts


def _check_document(document: object) -> None:
    if not isinstance(document, ExportDocument):
        raise TypeError(
            f"document must be an ExportDocument (from read_export), not {type(document).__name__}"
        )


@dataclass(frozen=True)
class ImportResult:
    """What ``import_into`` did."""

    #: Where the store is: its absolute directory (a store the import created: its
    #: symbolic links resolved), or its database URL without the password.
    location: str
    #: Whether the import created the store.
    created: bool
    #: Rows imported, per table.
    imported: dict[str, int]


def import_into(
    path: str | os.PathLike[str] | None,
    document: ExportDocument,
    *,
    database_url: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Load ``document`` into the store at ``path``, creating it if there is none.

    ``import_export`` on ``open_transfer_target(path, database_url=...)``
    (the new store gets the export's connection mode; no housekeeping runs
    meanwhile), with one more guarantee where ``path`` is missing or an
    empty directory: the new store is built out of sight and published
    there only once every row is in. So a refused import leaves the disk as
    it was (no directory where there was none, an empty directory empty and
    its mode untouched), and no other process can open the store before it
    is complete. Should something appear at ``path`` meanwhile, the import
    is refused (``TransferRefusedError``) and that is left alone; an empty
    directory made there meanwhile receives the store, as ``lite.open``
    would use it. ``path`` is resolved first (``os.path.realpath``):
    ``ImportResult.location`` is the absolute directory the store went to.

    Not so for a store in PostgreSQL (``database_url``): its tables are
    created first, and stay, empty, when the import is refused; so does the
    new cache directory at ``path``, if one is given.

    The new store is built in a directory named
    ``.cross-auth-lite-import.<random>.tmp``, private to its owner (0700,
    its files 0600), in the deepest directory above ``path`` that exists
    (for an empty ``path``, its parent), or, where that is not writable, in
    the temporary directory. A process killed in the middle of an import
    leaves that directory behind, holding the rows imported so far (password
    hashes and tokens among them): it belongs to no store and is safe to
    delete. Built on another filesystem than ``path``'s, each file is
    copied into ``path`` under a temporary dot-name first, which a kill at
    that moment leaves there too.

    ``TypeError`` for a ``document`` that is not an ``ExportDocument``, a
    ``path`` that is not a ``str``, ``os.PathLike`` or ``None``, or a
    ``progress`` that is not callable, before anything is created.
    """
    _check_document(document)
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str, an os.PathLike or None, not {type(path).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None, not {type(progress).__name__}")
    shared = document.shared_connections
    staged = stage_store(path) if path is not None and database_url is None else None
    if staged is None:
        target = open_transfer_target(
            path, database_url=database_url, shared_connections=shared, housekeeping=False
        )
        with target as store:
            imported = import_export(store, document, progress=progress)
            return ImportResult(store.location, store.created, imported)
    try:
        with open_store(staged.directory, shared_connections=shared, housekeeping=False) as store:
            imported = import_export(store, document, progress=progress)
        try:
            staged.publish()
        except StoreExistsError as error:
            raise TransferRefusedError(f"import refused, nothing imported: {error}") from None
        except StoreLocationError as error:
            raise StoreLocationError(f"nothing imported: {error}") from None
    finally:
        staged.discard()
    return ImportResult(str(staged.location), created=True, imported=imported)


def _clear(target: LiteStore) -> None:
    """Delete every row of ``target``'s tables (in the open transaction)."""
    database: Any = target.database
    if isinstance(target.database, peewee.PostgresqlDatabase):
        tables = ", ".join(
            quote_identifier(model._meta.table_name) for model in target.models.all()
        )
        database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY")
    else:
        for model in reversed(target.models.all()):
            model.delete().execute()


def copy_store(
    source: LiteStore,
    target: LiteStore,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy every row of ``source`` into ``target``, ids kept, in one transaction.

    ``source`` is read as one snapshot and may stay in use; what it held when
    the copy began is copied. ``target`` must have the same connection mode
    (``TransferRefusedError`` otherwise). A target that already holds rows
    raises ``TargetNotEmptyError`` unless ``force``, which deletes them in
    the same transaction. A row the target refuses raises
    ``TransferRefusedError``; nothing is written then. The result compares
    the rows copied with those counted on the target after the commit.
    """
    where = describe_database(target.database)
    if source.shared_connections != target.shared_connections:
        raise TransferRefusedError(
            f"copy refused, nothing copied: {where} holds a store with "
            f"{_mode(target.shared_connections)}, and the rows come from one with "
            f"{_mode(source.shared_connections)}; use another database or schema"
        )
    pairs = list(zip(TABLES, source.models.all(), target.models.all(), strict=True))
    copied = dict.fromkeys(TABLES, 0)
    done = 0
    with read_snapshot(source.database):
        total = sum(int(model.select().count()) for _, model, _ in pairs)
        with write_transaction(target.database):
            present = count_rows(target.models)
            if any(present.values()):
                if not force:
                    raise TargetNotEmptyError(
                        f"{where} already holds {describe_counts(present)}; copy with force "
                        "to replace them",
                        present,
                    )
                _clear(target)
            for table, model, destination in pairs:
                fields = columns(model)
                targets: list[Any] = columns(destination)
                statement = _insert_statement(target.database, destination)
                rows = model.select(*fields).order_by(model._meta.primary_key).tuples().iterator()
                for chunk in _chunks(rows):
                    values = [
                        [item.db_value(value) for item, value in zip(targets, row, strict=True)]
                        for row in chunk
                    ]
                    try:
                        execute_many(target.database, statement, values)
                    except peewee.IntegrityError as error:
                        raise TransferRefusedError(
                            f"copy refused by {where}, nothing copied: {_first_line(error)}"
                        ) from None
                    copied[table] += len(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            reset_sequences(target.database, target.models.all())
    return CopyResult(
        copied=copied,
        target_counts=count_rows(target.models),
        source_counts=count_rows(source.models),
    )
