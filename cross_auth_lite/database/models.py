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

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import peewee
from cross_auth import SessionStatus, session_status

from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.database.fields import UTCDateTimeField
from cross_auth_lite.database.shapes import SHAPE_ATTRIBUTE, StoreShape
from cross_auth_lite.database.sqlite import ClosableConnectionsMixin
from cross_auth_lite.encryption import TokenCipher, encrypt_token_fields

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
    identity (a partial unique index over login-enabled rows). Raises
    ``TypeError`` when ``model`` lacks one of the fields indexed (``user``,
    ``provider``, ``provider_user_id``).
    """
    # Plain indexes are declared as peewee's ``Meta.indexes`` entries (field
    # names and uniqueness), made into index objects only when the schema is
    # built; a condition needs the index object itself.
    identity = ("provider", "provider_user_id")
    unique = ("user", *identity) if shared_connections else identity
    missing = [name for name in unique if name not in model._meta.fields]
    if missing:
        raise TypeError(f"{model.__name__} has no field {missing[0]!r} to index identities by")
    model._meta.indexes.append((unique, True))
    if shared_connections:
        model.add_index(
            model.index(
                model.provider,
                model.provider_user_id,
                unique=True,
                where=(model.is_login_method == True),  # noqa: E712
            )
        )


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
    copies = peewee_internals.copy_models(_prototypes(), database)
    classes: tuple[Any, ...] = _declare(database) if copies is None else tuple(copies)
    user, social_account, session = classes
    if cipher is not None or tokens_locked:  # the declared token fields hold no cipher
        encrypt_token_fields(social_account, cipher, locked=tokens_locked)
    identity_indexes(social_account, shared_connections=shared_connections)
    models = StoreModels(User=user, SocialAccount=social_account, Session=session)
    if isinstance(database, ClosableConnectionsMixin):
        # A store's own database (not a proxy, whose target may change, nor an
        # application's, which may render operators its own way): every store
        # of this shape renders each statement alike.
        shape = StoreShape(
            type(database),
            shared_connections,
            cipher is not None,
            tokens_locked,
            _models_by_table(models),
        )
        for model in models.all():
            setattr(model, SHAPE_ATTRIBUTE, shape)
    return models


@functools.cache
def _prototypes() -> tuple[type[peewee.Model], ...]:
    """The classes every store's are copied from: declared by peewee once per process."""
    return _declare(None)


def _declare(database: peewee.Database | None) -> tuple[Any, Any, Any]:
    """``User``, ``SocialAccount`` and ``Session`` declared on ``database`` by peewee's metaclass.

    Their token fields are plaintext ``EncryptedTextField``s, their identity
    index not yet declared: both depend on the store.
    """
    user: Any = _model(
        PeeweeUser, database, "users", created_at=UTCDateTimeField(null=True, default=_now)
    )
    social_account: Any = _model(
        PeeweeSocialAccount,
        database,
        "social_accounts",
        user=peewee.ForeignKeyField(user, backref="social_accounts", on_delete="CASCADE"),
    )
    # No index of its own on user_id: the paging indexes below all start with it.
    session: Any = _model(
        PeeweeSession,
        database,
        "sessions",
        user=peewee.ForeignKeyField(user, backref="sessions", on_delete="CASCADE", index=False),
    )
    encrypt_token_fields(social_account, None)
    # Keyset paging of one user's sessions, in every supported order.
    session._meta.indexes.extend(
        (("user", column, "id"), False) for column in ("updated_at", "created_at", "expires_at")
    )
    return user, social_account, session


def _models_by_table(models: StoreModels) -> dict[str, type[peewee.Model]]:
    return {getattr(model, "_meta").table_name: model for model in models.all()}  # noqa: B009


def _copy_field(field: peewee.Field) -> Any:
    """A shallow copy of ``field``: a new field with the same attributes."""
    copied = object.__new__(type(field))
    copied.__dict__.update(field.__dict__)
    return copied


class _AutoId(peewee.AutoField):
    """peewee's automatic ``id``, whose deep copy is a shallow one (see ``_model``)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return _copy_field(self)


def _store_base(base: type[peewee.Model]) -> type[peewee.Model]:
    """``base`` with an ``_AutoId``: what a store's model classes subclass, made once."""
    attrs = {"__module__": __name__, "__qualname__": f"_Store{base.__name__}", "id": _AutoId()}
    metaclass: Any = type(base)
    store_base: type[peewee.Model] = metaclass(f"_Store{base.__name__}", (base,), attrs)
    return store_base


_STORE_BASES: dict[type[peewee.Model], type[peewee.Model]] = {
    base: _store_base(base) for base in (PeeweeUser, PeeweeSocialAccount, PeeweeSession)
}


def _model(
    base: type[peewee.Model],
    database: peewee.Database | None,
    table_name: str,
    **fields: peewee.Field,
) -> type[peewee.Model]:
    """A subclass of ``base`` (``User``...) on the table ``table_name`` of ``database``.

    peewee deep-copies every field a model class inherits, which was most of
    the cost of making a store's classes. The fields of the bases hold only
    plain values and the model they were bound to, which binding a copy
    replaces, so the class is given shallow copies of them instead (peewee
    copies only the fields a class does not declare, and its primary key,
    an ``_AutoId`` that copies itself shallowly).
    """
    store_base = _STORE_BASES[base]
    declared: dict[str, peewee.Field] = getattr(store_base, "_meta").fields  # noqa: B009
    inherited = {
        name: _copy_field(field) for name, field in declared.items() if not field.primary_key
    }
    name = base.__name__.removeprefix("Peewee")
    meta = type("Meta", (), {"database": database, "table_name": table_name})
    attrs = {"__module__": __name__, "__qualname__": name, **inherited, **fields, "Meta": meta}
    metaclass: Any = type(base)
    model: type[peewee.Model] = metaclass(name, (store_base,), attrs)
    return model
