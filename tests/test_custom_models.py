"""Apps that bring their own models: extra fields, hooks, exclusions, validation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import peewee
import pytest
from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite
from cross_auth_lite.database.models import identity_indexes
from cross_auth_lite.database.sqlite import open_sqlite
from tests.factories import connect, identity, signup


@pytest.fixture
def db(tmp_path: Path) -> Iterator[peewee.Database]:
    database = open_sqlite(tmp_path / "app.sqlite3")
    yield database
    database.close()


def make_models(db: peewee.Database, *, credentials: bool = True) -> Any:
    class User(lite.PeeweeUser):
        display_name = peewee.TextField(null=True)
        deleted = peewee.BooleanField(default=False)
        tenant = peewee.TextField(default="main")

        class Meta:
            database = db

    fields: dict[str, Any] = {
        "user": peewee.ForeignKeyField(User, backref="social_accounts", on_delete="CASCADE"),
        "provider_username": peewee.TextField(null=True),
        "provider_rank": peewee.IntegerField(null=True),
        "Meta": type("Meta", (), {"database": db}),
    }
    base: type[peewee.Model] = lite.PeeweeSocialAccount
    if not credentials:
        # A model that keeps no provider credentials: read-only properties instead.
        base = type("NoCredentials", (lite.PeeweeSocialAccount,), {})
        for name in (
            "access_token",
            "refresh_token",
            "access_token_expires_at",
            "refresh_token_expires_at",
            "scope",
        ):
            fields[name] = property(lambda self: None)
    SocialAccount = type("SocialAccount", (base,), fields)
    if not credentials:
        for name in (
            "access_token",
            "refresh_token",
            "access_token_expires_at",
            "refresh_token_expires_at",
            "scope",
        ):
            SocialAccount._meta.remove_field(name)
    identity_indexes(SocialAccount, shared_connections=False)

    class Team(peewee.Model):
        owner = peewee.ForeignKeyField(User, on_delete="CASCADE")
        name = peewee.TextField()

        class Meta:
            database = db

    db.create_tables([User, SocialAccount, Team])
    return User, SocialAccount, Team


def update(accounts: lite.PeeweeAccountsStorage[Any, Any], account_id: Any, **values: Any) -> Any:
    """``update_social_account`` with no credentials but those in ``values``."""
    credentials: dict[str, Any] = dict.fromkeys(
        (
            "access_token",
            "refresh_token",
            "access_token_expires_at",
            "refresh_token_expires_at",
            "scope",
        )
    )
    return accounts.update_social_account(account_id, **{**credentials, **values})


def test_extra_fields_write_extra_columns(db: peewee.Database) -> None:
    User, SocialAccount, _ = make_models(db)
    accounts = lite.PeeweeAccountsStorage(User, SocialAccount)

    user, account = accounts.create_user_with_identity(
        user={
            "user_info": {},
            "email": "ada@example.com",
            "email_verified": False,
            "extra_fields": {"display_name": "Ada"},
        },
        identity=lambda u: identity(u.id, extra_fields={"provider_username": "ada"}),  # type: ignore[arg-type,return-value]
    )

    assert User.get_by_id(user.id).display_name == "Ada"
    assert SocialAccount.get_by_id(account.id).provider_username == "ada"
    update(
        accounts,
        account.id,
        user_info={},
        provider_email=None,
        provider_email_verified=None,
        extra_fields={"provider_username": "ada-lovelace"},
    )
    assert SocialAccount.get_by_id(account.id).provider_username == "ada-lovelace"


class _BuilderPath(lite.PeeweeAccountsStorage[Any, Any]):
    """A pass-through filter hook: every query built by peewee's query builder."""

    def filter_social_account_query(self, query: Any) -> Any:
        return query


@pytest.mark.parametrize("column", ["provider_username", "provider_rank"])
@pytest.mark.parametrize(
    "value", [True, 7, 1.5, uuid.UUID(int=5), b"bytes", "text"], ids=lambda v: type(v).__name__
)
def test_extra_fields_are_converted_as_peewee_converts_them(
    tmp_path: Path, column: str, value: object
) -> None:
    """The compiled INSERT and UPDATE bind what peewee's builder binds, its ``db_value``.

    The UPDATE is compiled on the plain storage and built by peewee on one
    with a filter hook; the INSERT is compiled on both.
    """
    for path, storage in (("compiled", lite.PeeweeAccountsStorage), ("builder", _BuilderPath)):
        database = open_sqlite(tmp_path / f"{path}.sqlite3")
        User, SocialAccount, _ = make_models(database)
        expected = [(getattr(SocialAccount, column).db_value(value),)]
        accounts = storage(User, SocialAccount)
        _, account = signup(accounts, "ada@example.com", extra_fields={column: value})
        stored = f"SELECT {column} FROM socialaccount"
        assert database.execute_sql(stored).fetchall() == expected, path
        database.execute_sql(f"UPDATE socialaccount SET {column} = NULL")
        update(accounts, account.id, extra_fields={column: value})
        assert database.execute_sql(stored).fetchall() == expected, path
        database.close()


def test_a_standard_value_kept_in_a_writable_property_is_updated(db: peewee.Database) -> None:
    class User(lite.PeeweeUser):
        class Meta:
            database = db

    class SocialAccount(lite.PeeweeSocialAccount):
        user = peewee.ForeignKeyField(User, backref="social_accounts", on_delete="CASCADE")
        verified_by_provider = peewee.BooleanField(null=True)

        class Meta:
            database = db

        @property
        def provider_email_verified(self) -> bool | None:  # type: ignore[override]
            return self.verified_by_provider

        @provider_email_verified.setter
        def provider_email_verified(self, value: bool | None) -> None:
            self.verified_by_provider = value

    SocialAccount._meta.remove_field("provider_email_verified")
    identity_indexes(SocialAccount, shared_connections=False)
    db.create_tables([User, SocialAccount])
    accounts = lite.PeeweeAccountsStorage(User, SocialAccount)
    _, account = signup(accounts, "ada@example.com", provider_email_verified=False)
    updated = update(
        accounts, account.id, access_token="secret-access-token", provider_email_verified=True
    )
    assert updated.provider_email_verified is True
    assert not updated.dirty_fields  # saved, not set again afterwards
    stored = SocialAccount.get_by_id(account.id)
    assert (stored.verified_by_provider, stored.access_token) == (True, "secret-access-token")


@pytest.mark.parametrize("shared", [False, True], ids=["exclusive", "shared"])
def test_identity_indexes_name_a_missing_field(db: peewee.Database, shared: bool) -> None:
    class Owner(peewee.Model):
        class Meta:
            database = db

    class Identity(peewee.Model):
        owner = peewee.ForeignKeyField(Owner)
        provider = peewee.TextField()
        provider_user_id = peewee.TextField() if shared else peewee.IntegerField()
        is_login_method = peewee.BooleanField(default=True)

        class Meta:
            database = db

    if shared:
        with pytest.raises(TypeError, match="Identity has no field 'user'"):
            identity_indexes(Identity, shared_connections=True)
    else:
        identity_indexes(Identity, shared_connections=False)
        db.create_tables([Owner, Identity])
        indexes = {index.name: index.columns for index in db.get_indexes("identity")}
        assert indexes["identity_provider_provider_user_id"] == ["provider", "provider_user_id"]
    Identity._meta.remove_field("provider_user_id")
    with pytest.raises(TypeError, match="no field 'provider_user_id'"):
        identity_indexes(Identity, shared_connections=False)


def test_unknown_or_standard_extra_fields_are_refused(db: peewee.Database) -> None:
    User, SocialAccount, _ = make_models(db)
    accounts = lite.PeeweeAccountsStorage(User, SocialAccount)

    with pytest.raises(TypeError, match="nickname"):
        accounts.create_user(user_info={}, email="a@example.com", extra_fields={"nickname": "x"})
    with pytest.raises(ValueError, match="email_verified"):
        accounts.create_user(
            user_info={}, email="a@example.com", extra_fields={"email_verified": True}
        )
    user = accounts.create_user(user_info={}, email="a@example.com")
    with pytest.raises(ValueError, match="is_login_method"):
        connect(accounts, user.id, "gh-1", extra_fields={"is_login_method": False})
    with pytest.raises(TypeError, match="favourite_colour"):
        connect(accounts, user.id, "gh-1", extra_fields={"favourite_colour": "red"})
    assert SocialAccount.select().count() == 0
    assert User.select().count() == 1


def test_build_user_rows_share_the_signup_transaction(db: peewee.Database) -> None:
    User, SocialAccount, Team = make_models(db)

    class Accounts(lite.PeeweeAccountsStorage[Any, Any]):
        UserModel = User
        SocialAccountModel = SocialAccount

        def build_user(self, **kwargs: Any) -> Any:
            user = super().build_user(**kwargs)
            Team.create(owner=user, name=f"{user.email}'s team")
            return user

    accounts = Accounts()
    signup(accounts, "ada@example.com", "gh-1")
    assert Team.select().count() == 1

    with pytest.raises(CrossAuthException):
        signup(accounts, "bob@example.com", "gh-1")  # identity taken: everything rolls back
    assert Team.select().count() == 1
    assert User.select().count() == 1


def test_query_filters_apply_to_reads_and_writes(db: peewee.Database) -> None:
    User, SocialAccount, _ = make_models(db)

    class Accounts(lite.PeeweeAccountsStorage[Any, Any]):
        UserModel = User
        SocialAccountModel = SocialAccount

        def filter_user_query(self, query: Any) -> Any:
            return query.where(User.deleted == False)  # noqa: E712

        def filter_social_account_query(self, query: Any) -> Any:
            return query.join(User).where(User.tenant == "main")

    accounts = Accounts()
    user, account = signup(accounts, "ada@example.com", "gh-1")
    outsider, hidden = signup(accounts, "bob@example.com", "gh-2")
    User.update(tenant="other").where(User.id == outsider.id).execute()

    assert accounts.find_social_account_by_id(hidden.id) is None
    assert (
        accounts.find_social_account(
            provider="github", provider_user_id="gh-2", is_login_method=True
        )
        is None
    )
    assert (
        accounts.has_social_account(provider="github", provider_user_id="gh-2") is True
    )  # global
    with pytest.raises(lite.SocialAccountNotFoundError):
        accounts.update_social_account(
            hidden.id,
            access_token="stolen",
            refresh_token=None,
            access_token_expires_at=None,
            refresh_token_expires_at=None,
            scope=None,
        )
    assert SocialAccount.get_by_id(hidden.id).access_token == "access-1"
    assert accounts.delete_social_account(hidden.id) is False
    assert (
        accounts.disconnect_social_account(
            user_id=outsider.id, provider="github", social_account_id=hidden.id
        )
        == "not_found"
    )

    User.update(deleted=True).where(User.id == user.id).execute()
    assert accounts.find_user_by_id(user.id) is None
    assert accounts.find_user_by_email("ada@example.com") is None
    assert (
        accounts.disconnect_social_account(
            user_id=user.id, provider="github", social_account_id=account.id
        )
        == "not_found"
    )


def test_models_without_credential_columns(db: peewee.Database) -> None:
    User, SocialAccount, _ = make_models(db, credentials=False)

    with pytest.raises(TypeError, match="access_token"):
        lite.PeeweeAccountsStorage(User, SocialAccount)

    class Accounts(lite.PeeweeAccountsStorage[Any, Any]):
        excluded_social_account_fields: ClassVar[frozenset[str]] = frozenset(
            {
                "access_token",
                "refresh_token",
                "access_token_expires_at",
                "refresh_token_expires_at",
                "scope",
            }
        )

    accounts = Accounts(User, SocialAccount)
    _, account = signup(accounts, "ada@example.com")
    assert account.access_token is None
    assert "access_token" not in [c.name for c in db.get_columns(SocialAccount._meta.table_name)]


def test_only_credentials_can_be_excluded(db: peewee.Database) -> None:
    User, SocialAccount, _ = make_models(db)

    class Accounts(lite.PeeweeAccountsStorage[Any, Any]):
        excluded_social_account_fields: ClassVar[frozenset[str]] = frozenset({"provider"})

    with pytest.raises(TypeError, match="provider"):
        Accounts(User, SocialAccount)


def test_misconfigured_models_fail_at_construction(db: peewee.Database) -> None:
    User, SocialAccount, _ = make_models(db)

    with pytest.raises(TypeError, match="UserModel"):
        lite.PeeweeAccountsStorage(None, SocialAccount)
    with pytest.raises(TypeError, match="must inherit from PeeweeSocialAccount"):
        lite.PeeweeAccountsStorage(User, User)  # type: ignore[arg-type]

    class Unbound(lite.PeeweeUser):
        pass

    with pytest.raises(TypeError, match="not bound to a database"):
        lite.PeeweeAccountsStorage(Unbound, SocialAccount)

    class NoOwner(lite.PeeweeSocialAccount):
        class Meta:
            database = db

    with pytest.raises(TypeError, match="user_id"):
        lite.PeeweeAccountsStorage(User, NoOwner)


class ReversedText(peewee.TextField):
    """A text field that converts on the way in and out, as an encrypted field does."""

    def db_value(self, value: Any) -> Any:
        return None if value is None else value[::-1]

    def python_value(self, value: Any) -> Any:
        return None if value is None else value[::-1]


def test_converting_field_subclasses_convert_on_the_fast_path(db: peewee.Database) -> None:
    class User(lite.PeeweeUser):
        class Meta:
            database = db

    class SocialAccount(lite.PeeweeSocialAccount):
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        access_token = ReversedText(null=True)

        class Meta:
            database = db

    db.create_tables([User, SocialAccount])
    accounts = lite.PeeweeAccountsStorage(User, SocialAccount)
    user, account = signup(accounts, "ada@example.com", "gh-1", access_token="secret")

    raw = db.execute_sql("SELECT access_token FROM socialaccount").fetchone()[0]
    assert raw == "terces"
    assert account.access_token == "secret"
    found = accounts.find_social_account(
        provider="github", provider_user_id="gh-1", is_login_method=True
    )
    assert found.access_token == "secret"
    assert accounts.list_social_accounts(user_id=user.id)[0].access_token == "secret"
