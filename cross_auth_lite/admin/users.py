"""Looking after a store's users and sessions: what an administrator does, for apps too.

The ``cross-auth-lite users`` and ``sessions`` commands are these functions
with a parser and a printer in front; an app's own admin page can call them
the same way:

```python
import cross_auth_lite as lite

with lite.open() as store:
    user = lite.admin.create_user(store, "Ada@Example.com", verified=True)
    assert lite.admin.find_user(store, "ada@example.com").id == user.id
    assert [u.email for u in lite.admin.list_users(store)] == ["ada@example.com"]
    assert lite.admin.delete_user(store, user.id) == lite.admin.DeletedUser(
        user_id=user.id, identities=0, sessions=0
    )
```

Listings stream their rows in id order, a page at a time through ``after``
(the last id seen), and never carry password hashes, provider tokens or
session token hashes: only whether they are set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import peewee
from cross_auth import normalize_email, session_status

from cross_auth_lite.accounts.passwords import hash_password
from cross_auth_lite.database.arguments import NUL, text_argument
from cross_auth_lite.database.ids import NO_MATCH, coerce_id
from cross_auth_lite.database.sqlite import write_transaction
from cross_auth_lite.errors import UnknownSessionError, UnknownUserError
from cross_auth_lite.sessions.queries import SESSION_STATUSES, status_condition

if TYPE_CHECKING:
    from cross_auth_lite.store.lite_store import LiteStore

__all__ = [
    "DeletedUser",
    "SessionSummary",
    "RevokedSession",
    "UserSummary",
    "check_email",
    "count_sessions",
    "count_user_rows",
    "count_users",
    "create_user",
    "delete_user",
    "IdentitySummary",
    "find_user",
    "list_identities",
    "list_sessions",
    "list_users",
    "revoke_session",
]


@dataclass(frozen=True)
class UserSummary:
    """One row of ``list_users``: the user, and how many identities and active sessions.

    Its fields: ``id``, ``email``, ``email_verified``, ``has_password``
    (whether the user can sign in with a password), ``identities`` (social
    accounts connected) and ``active_sessions``.
    """

    id: Any
    email: str | None
    email_verified: bool
    has_password: bool
    identities: int
    active_sessions: int


@dataclass(frozen=True)
class IdentitySummary:
    """A social account as ``list_identities`` shows it: whether tokens are set, never them.

    Its fields: ``id``, ``user_id``, ``provider``, ``provider_user_id``,
    ``provider_email``, ``provider_email_verified``, ``is_login_method``,
    ``has_access_token``, ``has_refresh_token``, ``access_token_expires_at``,
    ``refresh_token_expires_at`` and ``scope``.
    """

    id: Any
    user_id: Any
    provider: str
    provider_user_id: str
    provider_email: str | None
    provider_email_verified: bool | None
    is_login_method: bool
    has_access_token: bool
    has_refresh_token: bool
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    scope: str | None


@dataclass(frozen=True)
class SessionSummary:
    """One row of ``list_sessions``: a session (never its token hash), its status at ``now``.

    Its fields: ``id``, ``user_id``, ``user_email``, ``status`` (one of
    ``SESSION_STATUSES``), ``created_at``, ``updated_at``, ``expires_at``,
    ``last_active_at``, ``revoked_at`` (aware UTC datetimes, or ``None``),
    ``client_id``, ``client_name``, ``user_agent`` and ``ip``.
    """

    id: Any
    user_id: Any
    user_email: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    last_active_at: datetime | None
    revoked_at: datetime | None
    client_id: str | None
    client_name: str | None
    user_agent: str | None
    ip: str | None


_IDENTITY_COLUMNS = tuple(f.name for f in fields(IdentitySummary))
#: The fields of a ``SessionSummary`` read from its row as they are.
_SESSION_COLUMNS = tuple(f.name for f in fields(SessionSummary) if f.name != "status")


@dataclass(frozen=True)
class RevokedSession:
    """What ``revoke_session`` did: ``revoked`` is False for a session revoked before.

    Its fields: ``session_id``, ``user_id``, ``revoked`` and ``revoked_at``
    (when it was revoked, now or before).
    """

    session_id: Any
    user_id: Any
    revoked: bool
    revoked_at: datetime


@dataclass(frozen=True)
class DeletedUser:
    """What ``delete_user`` removed: ``user_id``, and how many ``identities`` and ``sessions``."""

    user_id: Any
    identities: int
    sessions: int


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now


def _page(query: Any, key: peewee.Field[Any], *, after: Any, limit: int | None) -> Any:
    """``query`` in ``key`` order, from past ``after`` (an id), at most ``limit`` rows."""
    if limit is not None and (type(limit) is not int or limit < 1):
        raise ValueError(f"limit must be an int >= 1 or None, not {limit!r}")
    query = query.order_by(key)
    if after is not None:
        start = coerce_id(key, after)
        if start is NO_MATCH:
            raise ValueError(f"after must be an id, not {after!r}")
        query = query.where(key > start)
    return query if limit is None else query.limit(limit)


def find_user(store: LiteStore, reference: str) -> Any | None:
    """The user whose id or email is ``reference``, or ``None``.

    An all-digit reference is tried as an id first. Emails are matched
    exactly, then in Cross-Auth's normalised form (trimmed, lower case).
    """
    if type(reference) is not str:
        text_argument("reference", reference)
    if NUL in reference:
        return None  # no stored email holds one
    user = store.accounts.find_user_by_id(reference)
    if user is None and reference:
        user = store.accounts.find_user_by_email(reference)
        if user is None:
            user = store.accounts.find_user_by_email(normalize_email(reference))
    return user


def _users(store: LiteStore, query: Any, email_contains: str | None) -> Any:
    user = store.models.User
    if email_contains:
        if type(email_contains) is not str:
            text_argument("email_contains", email_contains)
        if NUL in email_contains:
            return query.where(peewee.Value(False))  # no stored email holds one
        return query.where(user.email.contains(email_contains))
    return query


def count_users(store: LiteStore, *, email_contains: str | None = None, after: Any = None) -> int:
    """How many users ``list_users`` with the same filters would list, without a limit."""
    user = store.models.User
    query = _users(store, user.select(), email_contains)
    return int(_page(query, user.id, after=after, limit=None).count())


def list_users(
    store: LiteStore,
    *,
    email_contains: str | None = None,
    after: Any = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> Iterator[UserSummary]:
    """The users in id order, as they are read; only ids above ``after`` when given.

    ``email_contains`` keeps users whose email contains the text (ASCII
    letters match either case). ``now`` (default: the current time) decides
    which sessions are active.
    """
    moment = _now(now)
    models: Any = store.models
    user, account, session = models.User, models.SocialAccount, models.Session
    identities = account.select(peewee.fn.COUNT(account.id)).where(account.user == user.id)
    active = session.select(peewee.fn.COUNT(session.id)).where(
        session.user == user.id, status_condition(session, "active", moment)
    )
    selected = user.select(
        user, identities.alias("identity_count"), active.alias("active_sessions")
    )
    query = _users(store, selected, email_contains)
    for record in _page(query, user.id, after=after, limit=limit).iterator():
        yield UserSummary(
            id=record.id,
            email=record.email,
            email_verified=bool(record.email_verified),
            has_password=record.has_usable_password,
            identities=int(record.identity_count),
            active_sessions=int(record.active_sessions),
        )


def list_identities(store: LiteStore, user_id: Any) -> list[IdentitySummary]:
    """The user's social accounts, oldest first, without reading a provider token.

    Works on a store opened ``without_token_key``: tokens are only tested
    for being set, in SQL.
    """
    models: Any = store.models
    account = models.SocialAccount
    owner = coerce_id(account.user, user_id)
    if owner is NO_MATCH:
        return []
    columns = [
        (account.user if name == "user_id" else getattr(account, name)).alias(name)
        for name in _IDENTITY_COLUMNS
        if not name.startswith("has_")
    ]
    query = (
        account.select(
            *columns,
            account.access_token.is_null(False).alias("has_access_token"),
            account.refresh_token.is_null(False).alias("has_refresh_token"),
        )
        .where(account.user == owner)
        .order_by(account.id)
        .dicts()
    )
    return [
        IdentitySummary(
            **{
                **row,
                "has_access_token": bool(row["has_access_token"]),
                "has_refresh_token": bool(row["has_refresh_token"]),
            }
        )
        for row in query
    ]


def _sessions(
    store: LiteStore, query: Any, *, user_id: Any, status: str | None, now: datetime
) -> Any | None:
    """``query`` narrowed to one user and one status; ``None`` when the user id is impossible."""
    session: Any = store.models.Session
    if status is not None:
        if status not in SESSION_STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {list(SESSION_STATUSES)}")
        query = query.where(status_condition(session, status, now))
    if user_id is not None:
        owner = coerce_id(session.user, user_id)
        if owner is NO_MATCH:
            return None
        query = query.where(session.user == owner)
    return query


def count_sessions(
    store: LiteStore,
    *,
    user_id: Any = None,
    status: str | None = None,
    after: Any = None,
    now: datetime | None = None,
) -> int:
    """How many sessions ``list_sessions`` with the same filters would list, without a limit."""
    session = store.models.Session
    query = _sessions(store, session.select(), user_id=user_id, status=status, now=_now(now))
    if query is None:
        return 0
    return int(_page(query, session.id, after=after, limit=None).count())


def list_sessions(
    store: LiteStore,
    *,
    user_id: Any = None,
    status: str | None = None,
    after: Any = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> Iterator[SessionSummary]:
    """Sessions in id order with their owner's email, as they are read.

    Optionally only one user's (``user_id``), only those with ``status``
    (``active``, ``expired``, ``revoked``) at ``now``, only ids above
    ``after``.
    """
    moment = _now(now)
    models: Any = store.models
    session, user = models.Session, models.User
    selected = session.select(session, user.email.alias("user_email")).join(
        user, on=(session.user == user.id)
    )
    query = _sessions(store, selected, user_id=user_id, status=status, now=moment)
    if query is None:
        return
    for record in _page(query, session.id, after=after, limit=limit).objects().iterator():
        columns = {name: getattr(record, name) for name in _SESSION_COLUMNS}
        yield SessionSummary(status=str(session_status(record, now=moment)), **columns)


def revoke_session(
    store: LiteStore, session_id: Any, *, now: datetime | None = None
) -> RevokedSession:
    """Revoke one session by id (an already revoked one keeps its time).

    Raises ``UnknownSessionError`` when no session has ``session_id``.
    """
    record = store.sessions.get_any(session_id)
    if record is None:
        raise UnknownSessionError(f"no session has id {session_id!r}")
    if record.revoked_at is not None:
        return RevokedSession(record.id, record.user_id, False, record.revoked_at)
    moment = _now(now)
    store.sessions.revoke(record.id, revoked_at=moment)
    return RevokedSession(record.id, record.user_id, True, moment)


def check_email(email: str) -> str:
    """``email`` normalised as Cross-Auth does; ``ValueError`` if it is not an address."""
    normalized = normalize_email(text_argument("email", email))
    local, at, domain = normalized.rpartition("@")
    # No whitespace, and nothing unprintable (control characters, ESC, C1,
    # bidi overrides): an address is printed by tools and terminals.
    unusable = any(c.isspace() or not c.isprintable() for c in normalized)
    if not at or not local or "." not in domain.strip(".") or unusable:
        raise ValueError(f"{email!r} does not look like an email address")  # repr: escaped
    return normalized


def create_user(
    store: LiteStore, email: str, *, verified: bool = False, password: str | None = None
) -> Any:
    """Create a user with ``email`` (normalised), optionally verified and with a password.

    The password is hashed the way Cross-Auth checks password sign-ins.
    Raises ``ValueError`` for an address that is not one, and Cross-Auth's
    ``CrossAuthException("email_already_registered")`` when it is taken.
    """
    normalized = check_email(email)
    # Hashed before the write transaction: bcrypt is slow on purpose, and
    # other writers should not wait for it.
    extra = {} if password is None else {"hashed_password": hash_password(password)}
    return store.accounts.create_user(
        user_info={"email": normalized},
        email=normalized,
        email_verified=verified,
        extra_fields=extra,
    )


def count_user_rows(store: LiteStore, user_id: Any) -> tuple[int, int]:
    """How many identities and sessions the user has (what ``delete_user`` would remove)."""
    models: Any = store.models
    account, session = models.SocialAccount, models.Session
    owner = coerce_id(account.user, user_id)
    if owner is NO_MATCH:
        return 0, 0
    identities = int(account.select().where(account.user == owner).count())
    sessions = int(session.select().where(session.user == owner).count())
    return identities, sessions


def delete_user(store: LiteStore, user_id: Any) -> DeletedUser:
    """Delete the user, their identities and their sessions, in one transaction.

    Raises ``UnknownUserError`` when no user has ``user_id``.
    """
    models: Any = store.models
    user, account, session = models.User, models.SocialAccount, models.Session
    owner = coerce_id(user.id, user_id)
    if owner is NO_MATCH:
        raise UnknownUserError(f"no user has id {user_id!r}")
    with write_transaction(store.database):
        sessions = session.delete().where(session.user == owner).execute()
        identities = account.delete().where(account.user == owner).execute()
        if not user.delete().where(user.id == owner).execute():
            raise UnknownUserError(f"no user has id {user_id!r}")
    return DeletedUser(user_id=owner, identities=identities, sessions=sessions)
