"""Is a store intact, current, and private? ``check_store(path)`` says, changing nothing.

Permissions are read before any database is opened (``lite.open`` would
tighten them), and the databases are opened with plain connections that
never create files. The ``cross-auth-lite check`` command prints the report.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee
from diskcache.core import DBNAME

from cross_auth_lite import private_files
from cross_auth_lite.admin.records import TABLES, plural
from cross_auth_lite.backends.postgres import open_postgresql
from cross_auth_lite.database.schema import EXCLUSIVE, SCHEMA_VERSION, SHARED, read_meta
from cross_auth_lite.errors import StoreLocationError, StoreNotFoundError
from cross_auth_lite.private_files import DIRECTORY_MODE, FILE_MODE
from cross_auth_lite.store.location import CACHE_DIRNAME, DATABASE_FILENAME, occupied
from cross_auth_lite.urls import redact_url

__all__ = [
    "ACCOUNT_TABLES",
    "MAX_FINDINGS",
    "CheckReport",
    "check_store",
    "connect_existing",
    "writable",
]

#: The tables ``lite.open`` creates in the accounts database.
ACCOUNT_TABLES = ("lite_meta", *TABLES)
#: At most this many lines are reported per kind of database finding.
MAX_FINDINGS = 10


@dataclass
class CheckReport:
    """What ``check`` found: checks that passed, and problems, one line each."""

    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    #: The database files found damaged (unreadable, or failing SQLite's integrity check).
    damaged: list[Path] = field(default_factory=list)

    def ok(self, text: str) -> None:
        """Record a check that passed."""
        self.passed.append(text)

    def problem(self, text: str) -> None:
        """Record a problem."""
        self.problems.append(text)

    def findings(self, file: Path, what: str, lines: list[str]) -> None:
        """Record database findings as problems, at most ``MAX_FINDINGS`` of them."""
        for line in lines[:MAX_FINDINGS]:
            self.problem(f"{file}: {what}: {line}")
        if len(lines) > MAX_FINDINGS:
            self.problem(f"{file}: {what}: {len(lines) - MAX_FINDINGS} more not shown")


def connect_existing(file: Path, *, read_only: bool = False) -> peewee.SqliteDatabase:
    """A plain connection to the SQLite file at ``file``, which must exist.

    The file is opened read-write but never created, and its permissions are
    left alone (``lite.open`` would tighten them, hiding what ``check``
    reports). With ``read_only`` it is opened read-only, for a file or
    directory that cannot be written (a read-only filesystem): as an
    immutable file when SQLite cannot open it otherwise (a WAL database
    whose ``-shm`` file cannot be created). Raises ``StoreLocationError``
    when SQLite cannot use the file.
    """
    base = "file:" + urllib.parse.quote(str(file.absolute()))
    modes = ["?mode=ro", "?mode=ro&immutable=1"] if read_only else ["?mode=rw"]
    for number, mode in enumerate(modes, 1):
        database = peewee.SqliteDatabase(base + mode, uri=True, timeout=5)
        try:
            database.connect()
            # SQLite reads the header lazily; make a non-database fail here.
            sql(database, "SELECT count(*) FROM sqlite_master")
        except peewee.DatabaseError as error:
            database.close()
            if number < len(modes) and "unable to open" in str(error):
                continue
            raise StoreLocationError(f"{file} is not a usable SQLite database ({error})") from None
        return database
    raise AssertionError("unreachable")  # pragma: no cover


def writable(file: Path) -> bool:
    """Can SQLite write ``file`` and create its ``-wal`` and ``-shm`` files beside it?

    ``os.access`` asks the kernel, so a read-only filesystem and an
    immutable file count as unwritable for root too.
    """
    return os.access(file.parent, os.W_OK | os.X_OK) and os.access(file, os.W_OK)


def sql(database: peewee.Database, statement: str) -> list[tuple[Any, ...]]:
    """The rows ``statement`` returns on ``database``; failures are ``peewee.DatabaseError``."""
    connection: Any = database
    try:
        return list(connection.execute_sql(statement).fetchall())
    except sqlite3.DatabaseError as error:  # raised by fetchall, outside peewee's wrapper
        raise peewee.DatabaseError(str(error)) from error


def check_permissions(data_dir: Path, report: CheckReport) -> None:
    """Every directory in the store must be 0700 and every file 0600.

    Where the platform has no POSIX permissions (Windows), only links and
    file types are checked: access is the ACLs' of the directory holding it.
    """
    modes = private_files.POSIX_PERMISSIONS
    directories = files = 0
    found: list[str] = []
    paths = [data_dir]
    for root, dirs, names in os.walk(data_dir):
        paths += [Path(root, name) for name in sorted(dirs) + sorted(names)]
    for path in paths:
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue  # a -wal or -shm file removed meanwhile
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            found.append(f"{path}: is a symbolic link; the store holds no links")
        elif stat.S_ISDIR(info.st_mode):
            directories += 1
            if modes and mode != DIRECTORY_MODE:
                found.append(f"{path}: permissions {mode:04o}, expected {DIRECTORY_MODE:04o}")
        elif stat.S_ISREG(info.st_mode):
            files += 1
            if modes and mode != FILE_MODE:
                found.append(f"{path}: permissions {mode:04o}, expected {FILE_MODE:04o}")
        else:
            found.append(f"{path}: is not a regular file or directory")
    for line in found:
        report.problem(line)
    if found:
        return
    counted = f"{plural(directories, 'directory', 'directories')} and {plural(files, 'file')}"
    if modes:
        report.ok(f"permissions: {counted} are private")
    else:
        report.ok(
            f"permissions: {counted}, no links; modes "
            "not checked (no POSIX permissions here: the directory's ACLs apply)"
        )


def _open_database(file: Path, report: CheckReport) -> peewee.SqliteDatabase | None:
    if not file.exists():
        report.problem(f"{file}: missing")
        return None
    if not file.is_file():
        report.problem(f"{file}: not a regular file")
        return None
    read_only = not writable(file)
    if read_only:
        where = file if os.access(file.parent, os.W_OK | os.X_OK) else file.parent
        report.problem(
            f"{where}: not writable (a read-only filesystem, or permissions), so the "
            f"store cannot be used until it is; {file.name} was checked read-only"
        )
        if Path(f"{file}-wal").exists():
            report.problem(
                f"{file}-wal: not checked (changes not yet copied into {file.name}; "
                "they are once the store can be opened)"
            )
    try:
        return connect_existing(file, read_only=read_only)
    except StoreLocationError as error:
        report.problem(str(error))
        if "unable to open" not in str(error):
            report.damaged.append(file)
        return None


def _integrity(database: peewee.SqliteDatabase, file: Path, report: CheckReport) -> bool:
    lines = [str(row[0]) for row in sql(database, "PRAGMA integrity_check")]
    if lines == ["ok"]:
        report.ok(f"{file.name}: integrity ok")
        return True
    report.findings(file, "integrity", lines)
    report.damaged.append(file)
    return False


def _schema(database: peewee.SqliteDatabase, file: Path, report: CheckReport) -> None:
    meta = read_meta(database)
    report.meta = meta
    if not meta:
        report.problem(
            f"{file}: no lite_meta table; not a store ('cross-auth-lite init' makes one)"
        )
        return
    missing = sorted(set(ACCOUNT_TABLES) - set(database.get_tables()))
    if missing:
        report.problem(f"{file}: tables missing: {', '.join(missing)}")
    raw = meta.get("schema_version", "")
    try:
        version = int(raw)
    except ValueError:
        report.problem(f"{file}: schema version {raw!r} is not a number")
        return
    if version > SCHEMA_VERSION:
        report.problem(
            f"{file}: schema version {version} is newer than this cross-auth-lite "
            f"understands ({SCHEMA_VERSION}); upgrade cross-auth-lite"
        )
    elif version < SCHEMA_VERSION:
        report.ok(f"schema version {version} (upgraded to {SCHEMA_VERSION} when opened)")
    else:
        report.ok(f"schema version {version}")
    connections = meta.get("connections")
    if connections in (EXCLUSIVE, SHARED):
        report.ok(f"connections: {connections}")
    else:
        report.problem(f"{file}: unknown connection mode {connections!r} in lite_meta")


def _foreign_keys(database: peewee.SqliteDatabase, file: Path, report: CheckReport) -> None:
    rows = sql(database, "PRAGMA foreign_key_check")
    if not rows:
        report.ok(f"{file.name}: foreign keys ok")
        return
    lines = [
        f"{table} row {rowid} refers to a missing {parent} row" for table, rowid, parent, _ in rows
    ]
    report.findings(file, "foreign keys", lines)


def check_store(
    path: str | os.PathLike[str] | None = None, *, database_url: str | None = None
) -> CheckReport:
    """Run every check on the store in directory ``path``; change nothing.

    With ``database_url`` the accounts are checked in that PostgreSQL
    database (its schema version and tables; integrity is the server's
    business) and ``path``, if it exists, for its cache. Raises
    ``StoreNotFoundError`` when there is no store at all to check.
    """
    report = CheckReport()
    data_dir = None if path is None else Path(path)
    if database_url is not None:
        _check_postgres(database_url, report)
        if data_dir is not None and data_dir.is_dir():
            check_permissions(data_dir, report)
            _check_file(data_dir / CACHE_DIRNAME / DBNAME, report, accounts=False)
        return report
    if data_dir is None:
        raise TypeError("check_store needs a path or a database_url")
    if not data_dir.is_dir():
        what = "it is not a directory" if data_dir.exists() else "the directory does not exist"
        raise StoreNotFoundError(
            f"no store at {data_dir} ({what})",
            path=data_dir,
            occupied=occupied(data_dir),
        )
    if not (data_dir / DATABASE_FILENAME).exists() and not (data_dir / CACHE_DIRNAME).exists():
        raise StoreNotFoundError(
            f"no store at {data_dir} (no {DATABASE_FILENAME}, no {CACHE_DIRNAME}/)",
            path=data_dir,
            occupied=occupied(data_dir),
        )
    check_permissions(data_dir, report)
    _check_file(data_dir / DATABASE_FILENAME, report, accounts=True)
    _check_file(data_dir / CACHE_DIRNAME / DBNAME, report, accounts=False)
    return report


def _check_file(file: Path, report: CheckReport, *, accounts: bool) -> None:
    """Check one SQLite file: its integrity; for the accounts file, its schema and keys too."""
    database = _open_database(file, report)
    if database is None:
        return
    try:
        if _integrity(database, file, report) and accounts:
            _schema(database, file, report)
            _foreign_keys(database, file, report)
    except peewee.DatabaseError as error:
        report.problem(f"{file}: unreadable ({error})")
        report.damaged.append(file)
    finally:
        database.close()


def _check_postgres(url: str, report: CheckReport) -> None:
    database = open_postgresql(url)
    try:
        if not read_meta(database):
            raise StoreNotFoundError(
                f"no cross-auth-lite store in {redact_url(url)} (it has no lite_meta table)"
            )
        _schema(database, Path(redact_url(url)), report)
    finally:
        database.close_all()
