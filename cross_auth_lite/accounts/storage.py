"""Users and social accounts for Cross-Auth on any peewee database.

``PeeweeAccountsStorage`` implements Cross-Auth's ``AccountsStorage``
protocol. The database enforces identity ownership through the unique
indexes of the social-account table (see ``identity_indexes``); the
storage turns the conflicts it detects into Cross-Auth's
``account_already_linked``. Every write opens ``database.atomic()``, so it
joins an application's ``with database.atomic():`` block, and ``on_commit``
then waits for that block's commit.

The class reads from the rows up: the models it was given and their checks;
the rows it sees (the filter hooks); the values a call becomes; lookups
(statements compiled once, or built through the hooks when a subclass
overrides them) and inserts; what a refused write met, told from the rows
again (Cross-Auth's ``email_already_registered`` or ``account_already_linked``,
``UnknownUserError``, or the same user's retried connection); then
Cross-Auth's protocol, users first.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import peewee
from cross_auth import DisconnectResult, SocialAccountCreate, UserCreate

from cross_auth_lite.database.arguments import (
    NUL,
    flag,
    indexed_text,
    merge_extra_fields,
    no_nul,
    optional_text,
    prepare_values,
    text_argument,
)
from cross_auth_lite.database.fields import to_utc
from cross_auth_lite.database.ids import NO_MATCH, coerce_id
from cross_auth_lite.database.model_checks import (
    CREDENTIAL_FIELDS,
    SOCIAL_ACCOUNT_STANDARD_FIELDS,
    USER_STANDARD_FIELDS,
    check_model,
    owner_field,
    primary_key,
)
from cross_auth_lite.database.models import PeeweeSocialAccount, PeeweeUser
from cross_auth_lite.database.refusals import quoting_no_values
from cross_auth_lite.database.sqlite import on_commit, write_transaction
from cross_auth_lite.database.statements import Compiled, StatementCache, insert_row, slot
from cross_auth_lite.errors import (
    AmbiguousSocialAccountError,
    SocialAccountNotFoundError,
    UnknownUserError,
    account_already_linked,
    email_already_registered,
)

__all__ = ["PeeweeAccountsStorage"]

UserT = TypeVar("UserT", bound=PeeweeUser)
SocialAccountT = TypeVar("SocialAccountT", bound=PeeweeSocialAccount)

_USER_ATTRIBUTES = ("id", "email", "email_verified", "hashed_password", "has_usable_password")
# Every standard field but the foreign key itself (``user_id`` is its column).
_SOCIAL_ACCOUNT_ATTRIBUTES = ("id", *sorted(SOCIAL_ACCOUNT_STANDARD_FIELDS - {"user"}))

#: The slot of the row an UPDATE writes: not an identifier, so no column's name.
_ROW_ID = "=id"


ModelT = TypeVar("ModelT", bound=peewee.Model)
Lookup = Callable[..., Any]


def _lookup(values: Mapping[str, Any]) -> Lookup:
    def lookup(name: str, field: object = None) -> Any:
        return values[name]

    return lookup


class PeeweeAccountsStorage(Generic[UserT, SocialAccountT]):
    """Cross-Auth ``AccountsStorage`` for peewee user and social-account models.

    Pass the models, ``PeeweeAccountsStorage(User, SocialAccount)``, or
    subclass and declare ``UserModel`` / ``SocialAccountModel``. Models are
    checked here, so a missing field fails at startup.

    Extension points for subclasses:

    - ``build_user(...)``: create the user during signup; call ``super()``
      and add rows that must commit with it.
    - ``filter_user_query(query)`` / ``filter_social_account_query(query)``:
      narrow what the storage sees (soft deletion, tenants). Applied to reads
      and writes; ``has_social_account`` deliberately ignores them.
    - ``excluded_social_account_fields``: credential fields not persisted.
    """

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
        base = PeeweeAccountsStorage
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
            "provider": indexed_text("provider", data["provider"]),
            "provider_user_id": indexed_text("provider_user_id", data["provider_user_id"]),
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
            if isinstance(value, str):
                no_nul(name, value)
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

    # What a refused write met, told from the rows

    @staticmethod
    def _only(
        rows: list[SocialAccountT], provider: str, provider_user_id: str
    ) -> SocialAccountT | None:
        """The one connection of an identity lookup, ``None``, or the ambiguity, raised."""
        if len(rows) > 1:
            raise AmbiguousSocialAccountError(
                f"{provider}:{provider_user_id} is connected to several users; "
                "pass user_id or is_login_method=True"
            )
        return rows[0] if rows else None

    @staticmethod
    def _missing_account(social_account_id: Any) -> SocialAccountNotFoundError:
        return SocialAccountNotFoundError(f"social account {social_account_id!r} does not exist")

    def _user_conflict(self, error: peewee.IntegrityError, email: str | None) -> Exception:
        email_field = self.UserModel._meta.fields.get("email")
        unique_email = email_field is not None and email_field.unique
        if (
            email is not None
            and unique_email
            and self.UserModel.select().where(email_field == email).exists()
        ):
            return email_already_registered()
        return error

    def _retried_connection(
        self, error: peewee.IntegrityError, values: dict[str, Any]
    ) -> SocialAccountT:
        """The row an insert of ``values`` collided with, when it is the same user's retry.

        Otherwise the conflict, raised: another user owns the identity, or the
        retry would turn a connection into a login method.
        """
        owner = values[self._owner.name]
        provider, provider_user_id = values["provider"], values["provider_user_id"]
        model = self.SocialAccountModel
        existing: SocialAccountT | None = (
            self._accounts()
            .where(
                model.provider == provider,
                model.provider_user_id == provider_user_id,
                self._owner == owner,
            )
            .first()
        )
        if existing is None:
            raise self._attach_conflict(error, owner, provider, provider_user_id) from error
        if values["is_login_method"] and not existing.is_login_method:
            raise account_already_linked(provider, provider_user_id) from error
        return existing

    def _attach_conflict(
        self, error: peewee.IntegrityError, owner: Any, provider: str, provider_user_id: str
    ) -> Exception:
        if not self.UserModel.select().where(self._user_pk == owner).exists():
            return UnknownUserError(f"no user has id {owner!r}")
        if self._identity_exists(provider, provider_user_id):
            return account_already_linked(provider, provider_user_id)
        return error

    # Users

    def build_user(
        self,
        *,
        user_info: dict[str, Any],
        email: str | None,
        email_verified: bool,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> UserT:
        """Insert the new user and return it; runs inside the signup transaction.

        Override to add rows that must commit (or roll back) with the user:
        call ``super().build_user(...)``, create the rows, return the user.
        Do not commit, and do no external I/O here.
        """
        values: dict[str, Any] = {
            "email": indexed_text("email", email, optional=True),
            "email_verified": flag("email_verified", email_verified),
        }
        if not extra_fields:  # then nothing for prepare_values to convert
            return self._insert(self.UserModel, values)
        merge_extra_fields(
            self.UserModel, values, extra_fields, standard=USER_STANDARD_FIELDS, hook="user.create"
        )
        return self._insert(self.UserModel, prepare_values(values))

    @quoting_no_values
    def create_user(
        self,
        *,
        user_info: dict[str, Any],
        email: str | None = None,
        email_verified: bool | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> UserT:
        """Create a user on its own. Email and verification default to ``user_info``'s.

        Not filtered by ``filter_user_query``: the new user is always returned.
        """
        if not isinstance(user_info, dict):
            raise TypeError(f"user_info must be a dict, not {type(user_info).__name__}")
        if email is None:
            email = user_info.get("email")
        if email is not None:
            text_argument("email", email)
        if email_verified is None:
            email_verified = user_info.get("email_verified") is True
        try:
            with write_transaction(self.database):
                return self.build_user(
                    user_info=user_info,
                    email=email,
                    email_verified=email_verified,
                    extra_fields=extra_fields,
                )
        except peewee.IntegrityError as error:
            raise self._user_conflict(error, email) from error

    def find_user_by_email(self, email: str) -> UserT | None:
        """The user with exactly this (already normalised) email, if visible."""
        if type(email) is not str:
            text_argument("email", email)
        if NUL in email:
            return None  # no stored email holds one
        statement = self._user_by_email
        if statement is not None:  # compiled on an earlier call
            user: UserT | None = statement.first(email=email)
            return user
        model = self.UserModel
        found = self._select_user("email", lambda v: model.email == v("email"), email=email)
        if self._plain_users:
            self._user_by_email = self._statements.compiled(("user", "email"))
        return found

    def find_user_by_id(self, id: Any) -> UserT | None:
        """The user with this id (``"12"`` finds 12), or ``None``."""
        user_id = coerce_id(self._user_pk, id)
        if user_id is NO_MATCH:
            return None
        pk = self._user_pk
        return self._select_user("id", lambda v: pk == v("id"), id=user_id)

    # Social accounts: reads

    def find_social_account(
        self,
        *,
        provider: str,
        provider_user_id: str,
        user_id: Any | None = None,
        is_login_method: bool | None = None,
    ) -> SocialAccountT | None:
        """The connection matching every filter given, or ``None``.

        Without ``user_id`` or ``is_login_method`` an identity may match
        several connections (shared schema): that raises
        ``AmbiguousSocialAccountError`` rather than picking one.
        """
        if not _findable_identity(provider, provider_user_id):
            return None
        if user_id is None and type(is_login_method) is bool:
            # The sign-in lookup, compiled on an earlier call.
            statement = self._login_identity
            if statement is not None:
                rows: list[SocialAccountT] = statement.rows(
                    provider=provider, provider_user_id=provider_user_id, login=is_login_method
                )
                return self._only(rows, provider, provider_user_id)
        model, owner_column = self.SocialAccountModel, self._owner
        values: dict[str, Any] = {"provider": provider, "provider_user_id": provider_user_id}
        if user_id is not None:
            values["owner"] = coerce_id(owner_column, user_id)
            if values["owner"] is NO_MATCH:
                return None
        if is_login_method is not None:
            if not isinstance(is_login_method, bool):
                raise TypeError("is_login_method must be a bool or None")
            values["login"] = is_login_method

        def where(v: Lookup) -> Any:
            condition = (model.provider == v("provider")) & (
                model.provider_user_id == v("provider_user_id")
            )
            if "owner" in values:
                condition &= owner_column == v("owner", owner_column)
            if "login" in values:
                condition &= model.is_login_method == v("login", model.is_login_method)
            return condition

        shape = ("identity", "owner" in values, "login" in values)  # what `where` tests
        rows = self._select_accounts(shape, where, 2, **values)
        if shape == ("identity", False, True) and self._plain_accounts:
            self._login_identity = self._statements.compiled(("accounts", shape, 2))
        return self._only(rows, provider, provider_user_id)

    def has_social_account(self, *, provider: str, provider_user_id: str) -> bool:
        """Whether anyone has this identity, including rows the query filters hide."""
        if not _findable_identity(provider, provider_user_id):
            return False
        return self._identity_exists(provider, provider_user_id)

    def find_social_account_by_id(self, social_account_id: Any) -> SocialAccountT | None:
        """The connection with this id, or ``None``."""
        pk = self._pk
        account_id = coerce_id(pk, social_account_id)
        if account_id is NO_MATCH:
            return None
        return self._account_by_id(account_id)

    def _account_by_id(self, account_id: Any) -> SocialAccountT | None:
        """The visible connection with this (checked) id, or ``None``."""
        pk = self._pk
        rows = self._select_accounts("id", lambda v: pk == v("id"), 1, id=account_id)
        return rows[0] if rows else None

    def list_social_accounts(self, *, user_id: Any) -> list[SocialAccountT]:
        """The user's connections, oldest first."""
        owner = coerce_id(self._owner, user_id)
        if owner is NO_MATCH:
            return []
        owner_column = self._owner
        where = lambda v: owner_column == v("owner", owner_column)  # noqa: E731
        return self._select_accounts("owner", where, None, owner=owner)

    # Social accounts: writes

    @quoting_no_values
    def create_social_account(
        self,
        *,
        user_id: Any,
        provider: str,
        provider_user_id: str,
        access_token: str | None = None,
        refresh_token: str | None = None,
        access_token_expires_at: datetime | None = None,
        refresh_token_expires_at: datetime | None = None,
        scope: str | None = None,
        user_info: dict[str, Any] | None = None,
        provider_email: str | None = None,
        provider_email_verified: bool | None = None,
        is_login_method: bool = True,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> SocialAccountT:
        """Connect an identity to a user; the database arbitrates ownership.

        A retry by the same user returns the existing row unchanged, unless
        it would turn a connection into a login method: that, and an
        identity owned by someone else, raise
        ``CrossAuthException("account_already_linked")``.
        """
        arguments = dict(locals())  # every argument, by name: the columns to write
        values = self._identity_values(arguments)
        try:
            with self.database.atomic():
                return self._insert_social_account(values)
        except peewee.IntegrityError as error:
            return self._retried_connection(error, values)

    @quoting_no_values
    def create_user_with_identity(
        self,
        *,
        user: UserCreate,
        identity: Callable[[UserT], SocialAccountCreate],
    ) -> tuple[UserT, SocialAccountT]:
        """Create a user and its first identity in one transaction.

        ``identity`` is called once with the inserted user (its id assigned).
        If it raises, returns an identity for another user, or either insert
        fails, neither row remains.
        """
        if type(user) is not dict and not isinstance(user, Mapping):
            raise TypeError(f"user must be a mapping, not {type(user).__name__}")
        missing = [key for key in ("user_info", "email", "email_verified") if key not in user]
        if missing:
            raise TypeError(f"user is missing {', '.join(missing)}")
        if not callable(identity):
            raise TypeError("identity must be callable")
        provider_key: tuple[str, str] | None = None
        try:
            with write_transaction(self.database):
                new_user = self.build_user(
                    user_info=user["user_info"],
                    email=user["email"],
                    email_verified=user["email_verified"],
                    extra_fields=user.get("extra_fields"),
                )
                values = self._identity_values(identity(new_user))
                if values[self._owner.name] != new_user.id:
                    raise ValueError("the initial identity must belong to the new user")
                provider_key = (values["provider"], values["provider_user_id"])
                account = self._insert_social_account(values)
        except peewee.IntegrityError as error:
            if provider_key is None:
                raise self._user_conflict(error, user["email"]) from error
            if self.has_social_account(provider=provider_key[0], provider_user_id=provider_key[1]):
                raise account_already_linked(*provider_key) from error
            raise
        return new_user, account

    @quoting_no_values
    def update_social_account(
        self,
        social_account_id: Any,
        *,
        access_token: str | None,
        refresh_token: str | None,
        access_token_expires_at: datetime | None,
        refresh_token_expires_at: datetime | None,
        scope: str | None,
        user_info: dict[str, Any] | None = None,
        provider_email: str | None = None,
        provider_email_verified: bool | None = None,
        enable_login: bool = False,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> SocialAccountT:
        """Update credentials and, with ``enable_login=True``, make the connection a login method.

        One UPDATE: a promotion that would give the identity a second login
        owner raises ``account_already_linked`` and leaves the credentials as
        they were. ``enable_login=False`` never demotes.
        """
        arguments = dict(locals())  # every argument, by name: the columns to write
        values = self._update_values(arguments)
        account_id = coerce_id(self._pk, social_account_id)
        if account_id is NO_MATCH:
            raise self._missing_account(social_account_id)
        with write_transaction(self.database):
            account = self._account_by_id(account_id)
            if account is None:
                raise self._missing_account(social_account_id)
            try:
                self._update_account(account, values)
            except peewee.IntegrityError as error:
                if enable_login:
                    raise account_already_linked(
                        account.provider, account.provider_user_id
                    ) from error
                raise
        return account

    def _update_account(self, account: SocialAccountT, values: dict[str, Any]) -> None:
        """Write ``values`` to the row of ``account`` (read in this transaction) and to it.

        One UPDATE, compiled once per set of column names: a returning
        sign-in writes the provider's new tokens on every call. Built by
        peewee's query builder, as every query of the storage, when a filter
        hook is overridden. A model keeping a standard value in a writable
        property (not a field) has it set on the instance, as its
        constructor does on a signup, and the columns it changed saved.
        """
        model = self.SocialAccountModel
        fields = model._meta.fields
        pk = self._pk
        account_id = getattr(account, pk.name)
        if not values.keys() <= fields.keys():
            for name, value in values.items():
                setattr(account, name, value)
            if account.dirty_fields:
                account.save(only=account.dirty_fields)
            return
        if not self._plain_accounts:
            model.update(values).where(pk == account_id).execute()
        else:
            names = tuple(values)
            statement = self._statements.get(
                ("update", names),
                lambda: model.update(
                    {fields[name]: slot(name, fields[name]) for name in names}
                ).where(pk == slot(_ROW_ID, pk)),
            )
            statement.execute(**values, **{_ROW_ID: account_id})
        for name, value in values.items():
            setattr(account, name, value)

    @quoting_no_values
    def disconnect_social_account(
        self, *, user_id: Any, provider: str, social_account_id: Any
    ) -> DisconnectResult:
        """Remove a user's connection unless it is their last way to sign in.

        The user and account are re-read inside one write transaction, which
        serialises concurrent disconnects of the same user.
        """
        user_pk = self._user_pk
        pk = self._pk
        uid = coerce_id(user_pk, user_id)
        account_id = coerce_id(pk, social_account_id)
        if type(provider) is not str:
            text_argument("provider", provider)
        if uid is NO_MATCH or account_id is NO_MATCH or NUL in provider:
            return "not_found"
        with write_transaction(self.database):
            user = self._user_for_update(uid)
            if user is None:
                return "not_found"
            account = self._account_of_user(uid, account_id, provider)
            if account is None:
                return "not_found"
            if (
                account.is_login_method
                and not user.has_usable_password
                and not self._has_other_login_method(uid, account_id)
            ):
                return "last_login_method"
            self.SocialAccountModel.delete().where(pk == account_id).execute()
        return "disconnected"

    @quoting_no_values
    def delete_social_account(self, social_account_id: Any) -> bool:
        """Delete a connection without the last-login-method check; True if one went.

        For administrative clean-up; user-facing flows use
        ``disconnect_social_account``. Honours ``filter_social_account_query``.
        """
        pk = self._pk
        account_id = coerce_id(pk, social_account_id)
        if account_id is NO_MATCH:
            return False
        with write_transaction(self.database):
            if not self._accounts().where(pk == account_id).exists():
                return False
            self.SocialAccountModel.delete().where(pk == account_id).execute()
        return True

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` now, or after the application's open transaction commits."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        on_commit(self.database, callback)


def _findable_identity(provider: str, provider_user_id: str) -> bool:
    """Whether a stored identity may be this one: ``TypeError`` for a non-text part.

    False when a part holds a NUL, which no write lets in.
    """
    if type(provider) is not str:
        text_argument("provider", provider)
    if type(provider_user_id) is not str:
        text_argument("provider_user_id", provider_user_id)
    return NUL not in provider and NUL not in provider_user_id
