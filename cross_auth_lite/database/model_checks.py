"""Checks on application models, made when a storage is built.

A misconfigured model should fail when the storage is built, naming what is
missing, not on the first sign-in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import peewee

from cross_auth_lite.database.fields import UTCDateTimeField

__all__ = [
    "CREDENTIAL_FIELDS",
    "SOCIAL_ACCOUNT_STANDARD_FIELDS",
    "USER_STANDARD_FIELDS",
    "check_model",
    "check_session_model",
    "owner_field",
    "primary_key",
]

#: Provider credentials an app may choose not to persist.
CREDENTIAL_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "scope",
    }
)

SOCIAL_ACCOUNT_STANDARD_FIELDS = CREDENTIAL_FIELDS | {
    "user",
    "user_id",
    "provider",
    "provider_user_id",
    "provider_email",
    "provider_email_verified",
    "is_login_method",
}

USER_STANDARD_FIELDS = frozenset({"email", "email_verified"})


def check_model(
    owner: str, role: str, model: object, base: type[peewee.Model], required: Iterable[str]
) -> type[peewee.Model]:
    """``TypeError`` unless ``model`` is a bound peewee model with the ``required`` attributes."""
    if not isinstance(model, type) or not issubclass(model, peewee.Model):
        raise TypeError(
            f"{owner} needs the {role} model: pass a peewee model class "
            f"(a subclass of {base.__name__}) or declare {role} = MyModel on a subclass"
        )
    if not issubclass(model, base):
        raise TypeError(f"{model.__name__} must inherit from {base.__name__}")
    for name in required:
        if not hasattr(model, name):
            raise TypeError(f"{model.__name__} is missing the {name!r} attribute {owner} needs")
    if model._meta.database is None:
        raise TypeError(f"{model.__name__} is not bound to a database (set Meta.database)")
    return model


_SESSION_COLUMNS = ("token_hash", "client_id", "client_name", "user_agent", "ip")
_SESSION_TIMESTAMPS = ("created_at", "updated_at", "expires_at", "last_active_at", "revoked_at")


def check_session_model(owner: str, model: object, base: type[peewee.Model]) -> type[peewee.Model]:
    """``check_model`` for a session model, plus what the session storage relies on.

    A single-column primary key readable as ``id``, every session field a
    column, and timestamps that are ``UTCDateTimeField``.
    """
    required = ("id", "user_id", *_SESSION_COLUMNS, *_SESSION_TIMESTAMPS, "status")
    checked = check_model(owner, "SessionModel", model, base, required)
    name = checked.__name__
    primary = checked._meta.primary_key
    if not isinstance(primary, peewee.Field):
        raise TypeError(f"{name} needs a single-column primary key")
    # A subclass with another primary key still inherits the base's `id`
    # accessor, which would read None on every row.
    id_attribute = getattr(checked, "id", None)
    if isinstance(id_attribute, peewee.Field) and id_attribute is not primary:
        raise TypeError(
            f"{name} has primary key {primary.name!r} but Cross-Auth reads 'id': "
            "name the primary key id, or add an id property returning it"
        )
    fields = checked._meta.fields
    for column in _SESSION_COLUMNS + _SESSION_TIMESTAMPS:
        if column not in fields:
            raise TypeError(f"{name}.{column} must be a database column")
    for column in _SESSION_TIMESTAMPS:
        if not isinstance(fields[column], UTCDateTimeField):
            raise TypeError(f"{name}.{column} must be a UTCDateTimeField")
    return checked


def owner_field(
    model: type[peewee.Model], user_model: type[peewee.Model] | None = None
) -> peewee.Field[Any]:
    """The field of ``model`` holding the owner's id: a ``user`` foreign key or ``user_id``.

    With ``user_model``, a foreign key must reference that model.
    """
    for field in model._meta.sorted_fields:
        if isinstance(field, peewee.ForeignKeyField) and field.object_id_name == "user_id":
            if user_model is not None and field.rel_model is not user_model:
                raise TypeError(
                    f"{model.__name__}.{field.name} must reference {user_model.__name__}, "
                    f"not {field.rel_model.__name__}"
                )
            return field
    user_id: peewee.Field[Any] | None = model._meta.fields.get("user_id")
    if user_id is None:
        raise TypeError(
            f"{model.__name__} needs a user foreign key, e.g. "
            f"user = ForeignKeyField({getattr(user_model, '__name__', 'User')}, "
            "on_delete='CASCADE')"
        )
    return user_id


def primary_key(model: type[peewee.Model]) -> peewee.Field[Any]:
    """The primary-key field of ``model``; ``TypeError`` for a model without one."""
    field: peewee.Field[Any] | bool = model._meta.primary_key
    if isinstance(field, bool):
        raise TypeError(f"{model.__name__} has no primary key")
    return field
