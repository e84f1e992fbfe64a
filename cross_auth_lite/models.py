"""Peewee models: bases to subclass, and the concrete tables of a store.

``PeeweeUser``, ``PeeweeSocialAccount`` and ``PeeweeSession`` carry the fields
Cross-Auth reads. They are bound to no database: subclass them, add a
primary key if you want another than peewee's auto id, and a ``user``
foreign key on the social-account and session models:

```python
import peewee
from cross_auth_lite import LiteSqliteDatabase, PeeweeSocialAccount, PeeweeUser

db = LiteSqliteDatabase(":memory:", pragmas={"foreign_keys": 1})


class User(PeeweeUser):
    display_name = peewee.TextField(null=True)

    class Meta:
        database = db


class SocialAccount(PeeweeSocialAccount):
    user = peewee.ForeignKeyField(User, backref="social_accounts", on_delete="CASCADE")

    class Meta:
        database = db
        indexes = ((("provider", "provider_user_id"), True),)


db.create_tables([User, SocialAccount])
```

``build_models(db)`` makes the tables a store created by ``lite.open()``
uses: fresh classes per call, so two stores never share a binding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import peewee
from cross_auth import SessionStatus, session_status

from cross_auth_lite.encryption import TokenCipher, encrypt_token_fields
from cross_auth_lite.fields import UTCDateTimeField

__all__ = [
    "PeeweeSession",
    "PeeweeSocialAccount",
    "PeeweeUser",
    "StoreModels",
    "build_models",
]


class PeeweeUser(peewee.Model):
    """User fields Cross-Auth reads. Subclass it and bind a database."""

    if TYPE_CHECKING:
        id: Any

    email = peewee.TextField(null=True, unique=True)
    email_verified = peewee.BooleanField(default=False)
    hashed_password = peewee.TextField(null=True)

    @property
    def has_usable_password(self) -> bool:
        """Whether the user can sign in with a password (one is set)."""
        return bool(self.hashed_password)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id!r} email={self.email!r}>"


class PeeweeSocialAccount(peewee.Model):
    """A provider identity connected to a user.

    Subclasses add ``user = ForeignKeyField(UserModel, ...)`` (which gives
    ``user_id``) and the identity uniqueness rules; see ``identity_indexes``.
    """

    if TYPE_CHECKING:
        id: Any
        user_id: Any

    provider = peewee.TextField()
    provider_user_id = peewee.TextField()
    provider_email = peewee.TextField(null=True)
    provider_email_verified = peewee.BooleanField(null=True)
    is_login_method = peewee.BooleanField(default=True)
    access_token = peewee.TextField(null=True)
    refresh_token = peewee.TextField(null=True)
    access_token_expires_at = UTCDateTimeField(null=True)
    refresh_token_expires_at = UTCDateTimeField(null=True)
    scope = peewee.TextField(null=True)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} id={self.id!r} {self.provider}:"
            f"{self.provider_user_id} user_id={self.user_id!r}>"
        )


class PeeweeSession(peewee.Model):
    """A durable, revocable session. Only the token's hash is stored.

    Subclasses add ``user = ForeignKeyField(UserModel, ...)``.
    """

    if TYPE_CHECKING:
        id: Any
        user_id: Any

    token_hash = peewee.TextField(unique=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    last_active_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    client_id = peewee.TextField(null=True)
    client_name = peewee.TextField(null=True)
    user_agent = peewee.TextField(null=True)
    ip = peewee.TextField(null=True)

    @property
    def status(self) -> SessionStatus:
        """``active``, ``expired`` or ``revoked``, as Cross-Auth derives it."""
        return session_status(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id!r} user_id={self.user_id!r}>"


def identity_indexes(model: Any, *, shared_connections: bool) -> None:
    """Declare on ``model`` the unique indexes that enforce identity ownership.

    Exclusive (default): one row per ``(provider, provider_user_id)``.
    Shared: one row per user and identity, and at most one login owner per
    identity (a partial unique index over login-enabled rows).
    """
    if shared_connections:
        model.add_index(model.user, model.provider, model.provider_user_id, unique=True)
        model.add_index(
            model.index(
                model.provider,
                model.provider_user_id,
                unique=True,
                where=(model.is_login_method == True),  # noqa: E712
            )
        )
    else:
        model.add_index(model.provider, model.provider_user_id, unique=True)


@dataclass(frozen=True)
class StoreModels:
    """The concrete model classes of one store."""

    User: type[PeeweeUser]
    SocialAccount: type[PeeweeSocialAccount]
    Session: type[PeeweeSession]

    def all(self) -> list[type[peewee.Model]]:
        """The models in dependency order (referenced tables first)."""
        return [self.User, self.SocialAccount, self.Session]


def _now() -> datetime:
    return datetime.now(UTC)


def build_models(
    database: peewee.Database,
    *,
    shared_connections: bool = False,
    cipher: TokenCipher | None = None,
    tokens_locked: bool = False,
) -> StoreModels:
    """Fresh ``User``, ``SocialAccount`` and ``Session`` classes bound to ``database``.

    The provider tokens of ``SocialAccount`` are encrypted with ``cipher``;
    without one they are written as plaintext, and encrypted ones refuse to
    be read (see ``cross_auth_lite.encryption``). ``tokens_locked`` refuses
    every token read or write (an encrypted store opened without its key).
    """
    meta: dict[str, Any] = {"database": database}

    class User(PeeweeUser):
        created_at = UTCDateTimeField(null=True, default=_now)

        class Meta:
            database = meta["database"]
            table_name = "users"

    class SocialAccount(PeeweeSocialAccount):
        user = peewee.ForeignKeyField(User, backref="social_accounts", on_delete="CASCADE")

        class Meta:
            database = meta["database"]
            table_name = "social_accounts"

    class Session(PeeweeSession):
        # No index of its own: the paging indexes below all start with user_id.
        user = peewee.ForeignKeyField(User, backref="sessions", on_delete="CASCADE", index=False)

        class Meta:
            database = meta["database"]
            table_name = "sessions"

    encrypt_token_fields(SocialAccount, cipher, locked=tokens_locked)
    identity_indexes(SocialAccount, shared_connections=shared_connections)
    session: Any = Session
    for column in ("updated_at", "created_at", "expires_at"):
        # Keyset paging of one user's sessions, in every supported order.
        session.add_index(session.user, getattr(session, column), session.id)
    return StoreModels(User=User, SocialAccount=SocialAccount, Session=Session)
