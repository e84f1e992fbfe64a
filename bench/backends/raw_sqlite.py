"""The floor: stdlib ``sqlite3`` running the statements lite runs, on lite's own schema.

The accounts and sessions file is created by ``lite.open()`` (same tables,
same indexes) and then used through a plain ``sqlite3`` connection with the
same settings (WAL, ``synchronous=NORMAL``, foreign keys, busy timeout,
autocommit). Each method runs the SQL lite sends for that call (traced from
lite, aliases dropped) and returns what the driver returns: a row tuple, a
list of rows, or an id. Aware datetimes in are formatted to lite's stored
text; nothing is converted on the way out. That is the least any storage
on this schema has to do.

Secondary storage is a key/value table with an expiry column in its own
file: ``set`` is one ``INSERT OR REPLACE``, ``get`` one ``SELECT`` with the
expiry check, ``pop`` one ``DELETE ... RETURNING`` (atomic on its own).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cross_auth_lite as lite
from bench.backends import Backend
from cross_auth_lite import DATABASE_FILENAME

__all__ = ["RawAccounts", "RawSecondary", "RawSessions", "connect", "open_backend"]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)
_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # lite's fixed-width UTC text

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
INSERT_USER = "INSERT INTO users (email, email_verified) VALUES (?, ?)"
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

KV_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expire_at REAL)"
)
KV_SET = "INSERT OR REPLACE INTO kv (key, value, expire_at) VALUES (?, ?, ?)"
KV_GET = "SELECT value FROM kv WHERE key = ? AND (expire_at IS NULL OR expire_at > ?)"
KV_POP = "DELETE FROM kv WHERE key = ? AND (expire_at IS NULL OR expire_at > ?) RETURNING value"
KV_DELETE = "DELETE FROM kv WHERE key = ?"


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime(_FORMAT)


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
            cursor = db.execute(INSERT_USER, (user["email"], user["email_verified"]))
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
    """Secondary storage on one key/value table with an expiry column."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        connection.execute(KV_SCHEMA)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            self._db.execute(KV_DELETE, (key,))
            return
        expire_at = None if ttl is None else time.time() + ttl
        self._db.execute(KV_SET, (key, value, expire_at))

    def get(self, key: str) -> str | None:
        row = self._db.execute(KV_GET, (key, time.time())).fetchone()
        return None if row is None else row[0]

    def pop(self, key: str) -> str | None:
        rows = self._db.execute(KV_POP, (key, time.time())).fetchall()
        return rows[0][0] if rows else None


def open_backend(directory: Path) -> Backend:
    """Let lite create its schema in ``directory``, then work on it with bare ``sqlite3``."""
    lite.open(directory).close()
    accounts_db = connect(directory / DATABASE_FILENAME)
    kv_db = connect(directory / "kv.sqlite3")

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
