"""How ``PeeweeAccountsStorage`` reads and writes its rows.

``AccountRows`` is the row machinery under the storage: the models it was
given and their checks, the lookups (statements compiled once, or built
through the filter hooks when a subclass overrides them), inserts, and the
values a protocol call becomes. The storage's operations, in ``accounts.py``,
are written in terms of it; what a conflicting write means is told in
``account_conflicts.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import peewee

from cross_auth_lite.database.arguments import (
    flag,
    merge_extra_fields,
    optional_text,
    prepare_values,
    text_argument,
)
from cross_auth_lite.database.fields import to_utc
from cross_auth_lite.database.ids import NO_MATCH, coerce_id
from cross_auth_lite.database.model_checks import (
    CREDENTIAL_FIELDS,
    SOCIAL_ACCOUNT_STANDARD_FIELDS,
    check_model,
    owner_field,
    primary_key,
)
from cross_auth_lite.database.models import PeeweeSocialAccount, PeeweeUser
from cross_auth_lite.database.statements import Compiled, StatementCache, insert_row, slot
from cross_auth_lite.errors import UnknownUserError

__all__ = ["AccountRows", "Lookup", "SocialAccountT", "UserT"]

UserT = TypeVar("UserT", bound=PeeweeUser)
SocialAccountT = TypeVar("SocialAccountT", bound=PeeweeSocialAccount)

_USER_ATTRIBUTES = ("id", "email", "email_verified", "hashed_password", "has_usable_password")
# Every standard field but the foreign key itself (``user_id`` is its column).
_SOCIAL_ACCOUNT_ATTRIBUTES = ("id", *sorted(SOCIAL_ACCOUNT_STANDARD_FIELDS - {"user"}))


ModelT = TypeVar("ModelT", bound=peewee.Model)
Lookup = Callable[..., Any]


def _lookup(values: Mapping[str, Any]) -> Lookup:
    def lookup(name: str, field: object = None) -> Any:
        return values[name]

    return lookup


class AccountRows(Generic[UserT, SocialAccountT]):
    """The models, lookups and inserts under ``PeeweeAccountsStorage``."""

    UserModel: type[UserT]
    SocialAccountModel: type[SocialAccountT]
    #: Provider credential fields this storage does not persist.
    excluded_social_account_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        user_model: type[UserT] | None = None,
        social_account_model: type[SocialAccountT] | None = None,
    ) -> None:
        if user_model is not None:
            self.UserModel = user_model
        if social_account_model is not None:
            self.SocialAccountModel = social_account_model
        owner = type(self).__name__
        check_model(
            owner, "UserModel", getattr(self, "UserModel", None), PeeweeUser, _USER_ATTRIBUTES
        )
        check_model(
            owner,
            "SocialAccountModel",
            getattr(self, "SocialAccountModel", None),
            PeeweeSocialAccount,
            _SOCIAL_ACCOUNT_ATTRIBUTES,
        )
        if self.UserModel._meta.database is not self.SocialAccountModel._meta.database:
            raise TypeError(f"{owner}: UserModel and SocialAccountModel must share one database")
        self._owner = owner_field(self.SocialAccountModel, self.UserModel)
        self._user_pk = primary_key(self.UserModel)
        self._pk = primary_key(self.SocialAccountModel)
        self._check_credential_fields()
        self._kept_credentials = sorted(CREDENTIAL_FIELDS - self.excluded_social_account_fields)
        self._credential_kinds: list[tuple[str, type]] = [
            (name, datetime if name.endswith("_expires_at") else str)
            for name in self._kept_credentials
        ]
        # Hot statements are compiled once, unless a subclass narrows queries
        # with a filter hook: then every query is built through the hook.
        self._statements = StatementCache(self.UserModel)
        base = AccountRows
        self._plain_users = type(self).filter_user_query is base.filter_user_query
        self._plain_accounts = (
            type(self).filter_social_account_query is base.filter_social_account_query
        )
        # The sign-in lookups, kept once compiled (plain storages only).
        self._user_by_email: Compiled[UserT] | None = None
        self._login_identity: Compiled[SocialAccountT] | None = None

    def _check_credential_fields(self) -> None:
        unsupported = sorted(self.excluded_social_account_fields - CREDENTIAL_FIELDS)
        if unsupported:
            raise TypeError(
                "excluded_social_account_fields may only name provider credential "
                f"fields {sorted(CREDENTIAL_FIELDS)!r}; got {unsupported!r}"
            )
        fields = self.SocialAccountModel._meta.fields
        missing = sorted(CREDENTIAL_FIELDS - self.excluded_social_account_fields - fields.keys())
        if missing:
            raise TypeError(
                f"{self.SocialAccountModel.__name__} has no field(s) {missing!r} to store "
                "provider credentials in; add them or list them in "
                "excluded_social_account_fields"
            )

    @property
    def database(self) -> peewee.Database:
        """The peewee database the models are bound to."""
        database: peewee.Database = self.UserModel._meta.database
        return database

    # Which rows the storage sees (extension points, see PeeweeAccountsStorage)

    def filter_user_query(self, query: peewee.ModelSelect[UserT]) -> peewee.ModelSelect[UserT]:
        """Narrow user lookups, e.g. ``query.where(User.deleted_at.is_null())``."""
        return query

    def filter_social_account_query(
        self, query: peewee.ModelSelect[SocialAccountT]
    ) -> peewee.ModelSelect[SocialAccountT]:
        """Narrow social-account reads and writes, e.g. to one tenant."""
        return query

    def _users(self) -> peewee.ModelSelect[UserT]:
        return self.filter_user_query(self.UserModel.select())

    def _accounts(self) -> peewee.ModelSelect[SocialAccountT]:
        return self.filter_social_account_query(self.SocialAccountModel.select())

    def _identity_values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"the identity must be a mapping, not {type(data).__name__}")
        missing = [key for key in ("user_id", "provider", "provider_user_id") if key not in data]
        if missing:
            raise TypeError(f"the identity is missing {', '.join(missing)}")
        owner = coerce_id(self._owner, data["user_id"])
        if owner is NO_MATCH:
            raise UnknownUserError(f"no user has id {data['user_id']!r}")
        values: dict[str, Any] = {
            self._owner.name: owner,
            "provider": text_argument("provider", data["provider"]),
            "provider_user_id": text_argument("provider_user_id", data["provider_user_id"]),
            "provider_email": optional_text("provider_email", data.get("provider_email")),
            "provider_email_verified": flag(
                "provider_email_verified", data.get("provider_email_verified"), optional=True
            ),
            "is_login_method": flag("is_login_method", data.get("is_login_method", True)),
        }
        self._add_credentials(values, data)
        extra_fields = data.get("extra_fields")
        if not extra_fields and type(owner) is int:
            return values  # nothing left for prepare_values to convert
        merge_extra_fields(
            self.SocialAccountModel,
            values,
            extra_fields,
            standard=SOCIAL_ACCOUNT_STANDARD_FIELDS,
            hook="social_account.create",
        )
        return prepare_values(values)

    def _update_values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The columns ``update_social_account`` writes, checked, from its arguments."""
        values = self._credential_values(data)
        values["provider_email"] = optional_text("provider_email", data["provider_email"])
        values["provider_email_verified"] = flag(
            "provider_email_verified", data["provider_email_verified"], optional=True
        )
        if flag("enable_login", data["enable_login"]):
            values["is_login_method"] = True
        merge_extra_fields(
            self.SocialAccountModel,
            values,
            data["extra_fields"],
            standard=SOCIAL_ACCOUNT_STANDARD_FIELDS,
            hook="social_account.update",
        )
        return prepare_values(values)

    def _credential_values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        self._add_credentials(values, data)
        return values

    def _add_credentials(self, values: dict[str, Any], data: Mapping[str, Any]) -> None:
        """Add the kept credential fields of ``data`` to ``values``, checked; expiries in UTC."""
        get = data.get
        for name, kind in self._credential_kinds:
            value: Any = get(name)
            if value is not None and type(value) is not kind and not isinstance(value, kind):
                raise TypeError(
                    f"{name} must be {kind.__name__} or None, not {type(value).__name__}"
                )
            if kind is datetime and isinstance(value, datetime):
                value = to_utc(value)
            values[name] = value

    def _insert_social_account(self, values: dict[str, Any]) -> SocialAccountT:
        return self._insert(self.SocialAccountModel, values)

    def _insert(self, model: type[ModelT], values: dict[str, Any]) -> ModelT:
        if values.keys() <= model._meta.fields.keys():
            return insert_row(self._statements, model, values)
        # A writable property (say, email_verified backed by another column)
        # needs the model's own constructor.
        instance = model(**values)
        instance.save(force_insert=True)
        return instance

    def _select_user(
        self, key: str, where: Callable[[Lookup], peewee.Expression], **values: Any
    ) -> UserT | None:
        """The first user matching ``where``, honouring ``filter_user_query``.

        ``where`` receives ``lookup(name, field)``: slots for a compiled
        statement when no filter is overridden, the values themselves otherwise.
        """
        model = self.UserModel
        if self._plain_users:
            statement = self._statements.get(
                ("user", key), lambda: model.select().where(where(slot)).limit(1)
            )
            user: UserT | None = statement.first(**values)
            return user
        found: UserT | None = self._users().where(where(_lookup(values))).first()
        return found

    def _select_accounts(
        self,
        key: Hashable,
        where: Callable[[Lookup], peewee.Expression],
        limit: int | None,
        **values: Any,
    ) -> list[SocialAccountT]:
        """Social accounts matching ``where`` by id, honouring ``filter_social_account_query``."""
        model = self.SocialAccountModel
        if self._plain_accounts:
            statement = self._statements.get(
                ("accounts", key, limit),
                lambda: model.select().where(where(slot)).order_by(self._pk).limit(limit),
            )
            rows: list[SocialAccountT] = statement.rows(**values)
            return rows
        query = self._accounts().where(where(_lookup(values))).order_by(self._pk).limit(limit)
        return list(query)

    def _identity_exists(self, provider: str, provider_user_id: str) -> bool:
        """One indexed lookup: does any row hold this identity (filters ignored)?"""
        model = self.SocialAccountModel
        statement = self._statements.get(
            "has_identity",
            lambda: (
                model.select(self._pk)
                .where(
                    (model.provider == slot("provider"))
                    & (model.provider_user_id == slot("provider_user_id"))
                )
                .limit(1)
            ),
        )
        cursor = statement.execute(provider=provider, provider_user_id=provider_user_id)
        return cursor.fetchone() is not None

    # What a change to one connection re-reads inside its write transaction

    def _user_for_update(self, user_id: Any) -> UserT | None:
        """The visible user with this id, locked where the database can (``FOR UPDATE``)."""
        query = self._users().where(self._user_pk == user_id)
        if self.database.for_update:
            query = query.for_update()
        user: UserT | None = query.first()
        return user

    def _account_of_user(
        self, user_id: Any, account_id: Any, provider: str
    ) -> SocialAccountT | None:
        """The visible connection with this id, if it is the user's and of ``provider``."""
        model = self.SocialAccountModel
        account: SocialAccountT | None = (
            self._accounts()
            .where(self._pk == account_id, self._owner == user_id, model.provider == provider)
            .first()
        )
        return account

    def _has_other_login_method(self, user_id: Any, account_id: Any) -> bool:
        """Whether the user signs in with a visible connection other than ``account_id``."""
        others = self._accounts().where(
            self._owner == user_id,
            self._pk != account_id,
            self.SocialAccountModel.is_login_method == True,  # noqa: E712
        )
        return bool(others.exists())
