"""Checks on application models and on the values written to them.

A misconfigured model should fail when the storage is built, naming what is
missing, not on the first sign-in. Values produced by Cross-Auth's hooks
(``extra_fields``) are checked against the model before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import peewee

from cross_auth_lite.fields import UTCDateTimeField, to_utc

__all__ = [
    "CREDENTIAL_FIELDS",
    "SOCIAL_ACCOUNT_STANDARD_FIELDS",
    "USER_STANDARD_FIELDS",
    "check_model",
    "check_session_model",
    "flag",
    "optional_text",
    "merge_extra_fields",
    "owner_field",
    "prepare_values",
    "primary_key",
    "text_argument",
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


def text_argument(name: str, value: object) -> str:
    """``value`` if it is a ``str``; otherwise ``TypeError`` naming the argument."""
    if type(value) is not str:
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    return value


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


def merge_extra_fields(
    model: type[peewee.Model],
    values: dict[str, Any],
    extra_fields: Mapping[str, Any] | None,
    *,
    standard: frozenset[str],
    hook: str,
) -> None:
    """Add hook-provided ``extra_fields`` to ``values``, refusing standard or unknown names."""
    if not extra_fields:
        return
    if type(extra_fields) is not dict and not isinstance(extra_fields, Mapping):
        raise TypeError(
            f"{hook} extra_fields must be a mapping, not {type(extra_fields).__name__}"
        )
    primary = model._meta.primary_key
    refused = standard | {primary.name} if isinstance(primary, peewee.Field) else standard
    conflicts = sorted(refused & extra_fields.keys())
    if conflicts:
        raise ValueError(f"{hook} extra_fields cannot replace standard field(s) {conflicts!r}")
    unknown = sorted(str(key) for key in extra_fields if key not in model._meta.fields)
    if unknown:
        raise TypeError(
            f"{model.__name__} has no field(s) {unknown!r}, but a {hook} hook produced them"
        )
    for name, value in extra_fields.items():
        if not _bindable(value):
            raise TypeError(
                f"{hook} extra_fields[{name!r}] cannot be stored: {type(value).__name__} "
                f"{'out of range' if isinstance(value, int) else 'is not a column value'}"
            )
    values.update(extra_fields)


_COLUMN_TYPES = (str, float, bool, datetime, date, time, Decimal, uuid.UUID)


def _bindable(value: object) -> bool:
    """Whether a database driver can store ``value`` as a column value."""
    if value is None or isinstance(value, _COLUMN_TYPES):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, bytes)


def optional_text(name: str, value: object) -> str | None:
    """``value`` if it is ``str`` or ``None``; otherwise ``TypeError`` naming the argument."""
    if value is not None and type(value) is not str:
        raise TypeError(f"{name} must be str or None, not {type(value).__name__}")
    return value


def flag(name: str, value: object, *, optional: bool = False) -> bool | None:
    """``value`` if it is a ``bool`` (or ``None`` when ``optional``); otherwise ``TypeError``.

    No truthiness: a provider's ``"false"`` must not become ``True``.
    """
    if isinstance(value, bool) or (optional and value is None):
        return value
    expected = "a bool or None" if optional else "a bool"
    raise TypeError(f"{name} must be {expected}, not {type(value).__name__}")


def prepare_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` ready to write: datetimes in UTC, so returned rows read like stored ones."""
    return {
        key: to_utc(value) if isinstance(value, datetime) else value
        for key, value in values.items()
    }
