"""The floor: stdlib ``sqlite3`` running the statements lite runs, on lite's own files.

Everything is on the files ``lite.open()`` creates (opened without
housekeeping and closed again before timing): the accounts and sessions
file (same tables, same indexes) and the disk cache's ``cache.db`` (the
``Cache`` table diskcache creates, with its indexes and the triggers that
keep its ``Settings`` count and size). Connections get the settings lite's
get: the accounts file lite's ``SQLITE_PRAGMAS`` (WAL, ``synchronous=NORMAL``,
foreign keys, busy timeout, ``journal_size_limit``), ``cache.db`` the
``sqlite_*`` pragmas diskcache recorded in ``Settings`` (as every diskcache
connection applies them). Both are autocommit, as lite's are.

Each method runs the SQL lite sends for that call, in the same transaction
shape: one autocommit statement per read, ``session create``, ``refresh``
and each secondary call; ``BEGIN IMMEDIATE``, two INSERTs (the user row with
its ``created_at``, as lite writes it) and ``COMMIT`` for a signup. Aware
datetimes are formatted to lite's stored text the way lite formats them
(``isoformat``, not the slower ``strftime``). Secondary storage runs the very
statements of ``cross_auth_lite.cache.rows`` (an upsert, a ``SELECT``, a
``DELETE ... RETURNING``, the cull every ``CULL_EVERY`` sets). Rows come back
as the driver returns them (tuples), with no model objects and no datetime
parsing: that is the least any storage on this schema has to do.

Why the earlier floor flattered lite (1.54x where an outside floor on the
same schema gave 2.06x): it was not doing lite's work. It formatted every
datetime with ``astimezone`` and ``strftime``, twice the cost of lite's
``isoformat`` (3.0 against 1.5 µs here), which pads session get, create and
refresh by 1.5 to 6 µs on calls of 6 to 40 µs, so their lite/raw ratios read
low; it inserted users without ``created_at``. Its secondary storage was a
one-table key/value file (no diskcache indexes, no triggers, none of
diskcache's pragmas), which is not what lite writes. And the write
operations are largely I/O: on a disk shared with other work the WAL
checkpoints (their fsyncs) take about half of all write time here, in the
top 1% of calls, alike for lite and the floor, which pulls write ratios
towards 1 on a busy machine. Batch order and size were not a cause:
backends are interleaved per batch, alternating the order, on the same
batches.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diskcache.core import DBNAME

import cross_auth_lite as lite
from bench.backends import Backend
from cross_auth_lite.admin import CACHE_DIRNAME, DATABASE_FILENAME
from cross_auth_lite.cache import rows as cache_rows
from cross_auth_lite.database.fields import SQLITE_WIDTH
from cross_auth_lite.database.sqlite import BUSY_TIMEOUT_SECONDS, SQLITE_PRAGMAS

__all__ = [
    "RawAccounts",
    "RawSecondary",
    "RawSessions",
    "connect",
    "connect_cache",
    "open_backend",
]

#: The pragmas lite sets on every connection to its accounts file.
PRAGMAS = tuple(f"PRAGMA {name} = {value}" for name, value in SQLITE_PRAGMAS.items())

_USER_COLUMNS = "id, email, email_verified, hashed_password"
_ACCOUNT_COLUMNS = (
    "id, provider, provider_user_id, provider_email, provider_email_verified, "
    "is_login_method, access_token, refresh_token, access_token_expires_at, "
    "refresh_token_expires_at, scope, user_id"
)
_SESSION_COLUMNS = (
    "id, token_hash, created_at, updated_at, expires_at, last_active_at, revoked_at, "
    "client_id, client_name, user_agent, ip, user_id"
)

USER_BY_EMAIL = f"SELECT {_USER_COLUMNS} FROM users WHERE email = ? LIMIT 1"
USER_BY_ID = f"SELECT {_USER_COLUMNS} FROM users WHERE id = ? LIMIT 1"
ACCOUNT_BY_LOGIN_IDENTITY = (
    f"SELECT {_ACCOUNT_COLUMNS} FROM social_accounts WHERE provider = ? "
    "AND provider_user_id = ? AND is_login_method = ? ORDER BY id LIMIT 2"
)
INSERT_USER = "INSERT INTO users (email, email_verified, created_at) VALUES (?, ?, ?)"
INSERT_ACCOUNT = (
    "INSERT INTO social_accounts (provider, provider_user_id, provider_email, "
    "provider_email_verified, is_login_method, access_token, refresh_token, "
    "access_token_expires_at, refresh_token_expires_at, scope, user_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_SESSION = (
    "INSERT INTO sessions (token_hash, created_at, updated_at, expires_at, last_active_at, "
    "client_id, client_name, user_agent, ip, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SESSION_BY_TOKEN = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE token_hash = ? "
    "AND revoked_at IS NULL AND expires_at >= ? LIMIT 1"
)
REFRESH = (
    "UPDATE sessions SET updated_at = ?, expires_at = ?, last_active_at = ? "
    f"WHERE id = ? AND revoked_at IS NULL AND expires_at >= ? RETURNING {_SESSION_COLUMNS}"
)
REFRESH_KEEP_ACTIVE = (
    "UPDATE sessions SET updated_at = ?, expires_at = ? "
    f"WHERE id = ? AND revoked_at IS NULL AND expires_at >= ? RETURNING {_SESSION_COLUMNS}"
)
LIST_FIRST = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE user_id = ? "
    "ORDER BY updated_at DESC, id DESC LIMIT ?"
)
LIST_AFTER = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE user_id = ? "
    "AND (updated_at, id) < (?, ?) ORDER BY updated_at DESC, id DESC LIMIT ?"
)


def _text(value: datetime | None) -> str | None:
    """Lite's stored text for an aware datetime, made the way lite makes it."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:SQLITE_WIDTH]


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit ``sqlite3`` connection to ``path`` with lite's settings."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    for pragma in PRAGMAS:
        connection.execute(pragma)
    return connection


class RawUser:
    """The inserted user handed to the identity callback: just its id and email."""

    __slots__ = ("email", "id")

    def __init__(self, id: int, email: str) -> None:
        self.id = id
        self.email = email


class RawAccounts:
    """The accounts operations the benchmark uses, as bare statements."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def find_user_by_email(self, email: str) -> Any:
        return self._db.execute(USER_BY_EMAIL, (email,)).fetchone()

    def find_user_by_id(self, id: int) -> Any:
        return self._db.execute(USER_BY_ID, (id,)).fetchone()

    def find_social_account(
        self, *, provider: str, provider_user_id: str, is_login_method: bool
    ) -> Any:
        rows = self._db.execute(
            ACCOUNT_BY_LOGIN_IDENTITY, (provider, provider_user_id, is_login_method)
        ).fetchall()
        return rows[0] if rows else None

    def create_user_with_identity(
        self, *, user: Mapping[str, Any], identity: Callable[[RawUser], Mapping[str, Any]]
    ) -> tuple[RawUser, int]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = db.execute(
                INSERT_USER, (user["email"], user["email_verified"], _text(datetime.now(UTC)))
            )
            new_user = RawUser(cursor.lastrowid or 0, user["email"])
            data = identity(new_user)
            cursor = db.execute(
                INSERT_ACCOUNT,
                (
                    data["provider"],
                    data["provider_user_id"],
                    data["provider_email"],
                    data["provider_email_verified"],
                    data["is_login_method"],
                    data["access_token"],
                    data["refresh_token"],
                    _text(data["access_token_expires_at"]),
                    _text(data["refresh_token_expires_at"]),
                    data["scope"],
                    data["user_id"],
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return new_user, cursor.lastrowid or 0


class RawSessions:
    """The session operations the benchmark uses, as bare statements."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def create(
        self,
        *,
        token_hash: str,
        user_id: int,
        created_at: datetime,
        updated_at: datetime,
        expires_at: datetime,
        client_id: str | None = None,
        client_name: str | None = None,
        user_agent: str | None = None,
        ip: str | None = None,
        last_active_at: datetime | None = None,
    ) -> int:
        cursor = self._db.execute(
            INSERT_SESSION,
            (
                token_hash,
                _text(created_at),
                _text(updated_at),
                _text(expires_at),
                _text(last_active_at),
                client_id,
                client_name,
                user_agent,
                ip,
                user_id,
            ),
        )
        return cursor.lastrowid or 0

    def get(self, *, token_hash: str, now: datetime) -> Any:
        return self._db.execute(SESSION_BY_TOKEN, (token_hash, _text(now))).fetchone()

    def refresh(
        self,
        session_id: int,
        *,
        updated_at: datetime,
        expires_at: datetime,
        last_active_at: datetime | None = None,
    ) -> Any:
        updated = _text(updated_at)
        if last_active_at is None:
            params: tuple[Any, ...] = (updated, _text(expires_at), session_id, updated)
            rows = self._db.execute(REFRESH_KEEP_ACTIVE, params).fetchall()
        else:
            params = (updated, _text(expires_at), _text(last_active_at), session_id, updated)
            rows = self._db.execute(REFRESH, params).fetchall()
        return rows[0] if rows else None

    def list_for_user(
        self,
        user_id: int,
        *,
        now: datetime,
        limit: int = 50,
        cursor: tuple[str, int] | None = None,
    ) -> tuple[list[Any], tuple[str, int] | None]:
        """One page, newest update first; the cursor is the last row's ``(updated_at, id)``."""
        if cursor is None:
            rows = self._db.execute(LIST_FIRST, (user_id, limit + 1)).fetchall()
        else:
            rows = self._db.execute(LIST_AFTER, (user_id, *cursor, limit + 1)).fetchall()
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, (rows[-1][3], rows[-1][0])


class RawSecondary:
    """Secondary storage on diskcache's ``Cache`` table in lite's own ``cache.db``.

    The statements are the ones ``DiskCacheStorage`` runs (``cache_rows``),
    including the cull every ``CULL_EVERY`` sets; values come back without
    the mode and type checks lite makes.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._sets = 0

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            self._db.execute(cache_rows.DELETE, (key,)).fetchall()
            return
        now = time.time()
        self._db.execute(
            cache_rows.UPSERT, (key, now, None if ttl is None else now + ttl, now, value)
        )
        self._sets += 1
        if self._sets >= cache_rows.CULL_EVERY:
            self._sets = 0
            self._db.execute(cache_rows.EXPIRE, (now, cache_rows.CULL_LIMIT)).fetchall()

    def get(self, key: str) -> str | None:
        row = self._db.execute(cache_rows.SELECT, (key, time.time())).fetchone()
        return None if row is None else row[2]

    def pop(self, key: str) -> str | None:
        rows = self._db.execute(cache_rows.POP, (key, time.time())).fetchall()
        return rows[0][2] if rows else None


def connect_cache(path: Path) -> sqlite3.Connection:
    """An autocommit connection to a diskcache ``cache.db``, with the pragmas diskcache sets.

    diskcache records its per-connection pragmas in its ``Settings`` table
    (``sqlite_*``) and applies them on every connection it opens; so does this.
    """
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    for key, value in connection.execute("SELECT key, value FROM Settings").fetchall():
        if key.startswith("sqlite_"):
            connection.execute(f"PRAGMA {key.removeprefix('sqlite_')} = {value}").fetchall()
    return connection


def open_backend(directory: Path) -> Backend:
    """Let lite create its schema in ``directory``, then work on it with bare ``sqlite3``."""
    lite.open(directory, housekeeping=False).close()
    accounts_db = connect(directory / DATABASE_FILENAME)
    kv_db = connect_cache(directory / CACHE_DIRNAME / DBNAME)

    def close() -> None:
        accounts_db.close()
        kv_db.close()

    return Backend(
        key="raw",
        label="raw sqlite3",
        accounts=RawAccounts(accounts_db),
        sessions=RawSessions(accounts_db),
        secondary=RawSecondary(kv_db),
        close=close,
    )
