"""Cross-Auth's own SQLModel storages on a SQLite file, set up as its storage docs show.

The models follow the documented example (``User``, ``SocialAccount``,
``UserSession`` with a unique ``(provider, provider_user_id)``), with two
deliberate differences so that the comparison is about the library and not
the schema: no ``social_accounts`` relationship (a ``selectin`` relationship
would add a second SELECT to every user lookup, which lite does not do), and
the same ``(user_id, updated_at, id)`` index lite pages sessions with.

The engine applies lite's connection settings on every new connection
(WAL, ``synchronous=NORMAL``, foreign keys, a busy timeout) through a
SQLAlchemy ``connect`` event, and each operation gets ``Session(engine)``.

No ``from __future__ import annotations`` here: SQLModel reads the
annotations of table models at class creation.
"""

from datetime import datetime
from pathlib import Path
from typing import Any

from cross_auth.storage.sqlmodel import (
    SQLModelAccountsStorage,
    SQLModelSession,
    SQLModelSessionStorage,
    SQLModelSocialAccount,
    SQLModelUser,
)
from sqlalchemy import Index, UniqueConstraint, event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, create_engine

from bench.backends import Backend

__all__ = ["SocialAccount", "User", "UserSession", "open_backend"]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


class User(SQLModelUser, table=True):
    """The documented user table."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True)
    email_verified: bool = False


class SocialAccount(SQLModelSocialAccount, table=True):
    """The documented social-account table (exclusive identity ownership)."""

    __table_args__ = (UniqueConstraint("provider", "provider_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scope: str | None = None


class UserSession(SQLModelSession, table=True):
    """The documented session table, plus lite's paging index."""

    __table_args__ = (Index("ix_usersession_user_updated_id", "user_id", "updated_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def make_engine(path: Path) -> Engine:
    """A SQLAlchemy engine on the SQLite file ``path`` with lite's pragmas on connect."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _set_pragmas)
    tables = [User.__table__, SocialAccount.__table__, UserSession.__table__]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=tables)
    return engine


def open_backend(directory: Path) -> Backend:
    """Create the tables in ``directory/sqlmodel.sqlite3`` and the two storages on them."""
    engine = make_engine(directory / "sqlmodel.sqlite3")

    def session_factory() -> Session:
        return Session(engine)

    return Backend(
        key="sqlmodel",
        label="SQLModel",
        accounts=SQLModelAccountsStorage(User, SocialAccount, session_factory=session_factory),
        sessions=SQLModelSessionStorage(UserSession, session_factory=session_factory),
        close=engine.dispose,
    )
