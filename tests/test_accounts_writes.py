"""Signup, attachment, promotion and disconnection."""

from __future__ import annotations

from typing import Any

import pytest
from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite
from tests.factories import connect, identity, signup

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]


def _count(store: lite.LiteStore, table: str) -> int:
    return int(store.database.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _user_create(email: str) -> Any:
    return {
        "user_info": {"email": email},
        "email": email,
        "email_verified": True,
        "extra_fields": None,
    }


# create_user_with_identity


def test_signup_calls_identity_once_with_the_inserted_user(store: lite.LiteStore) -> None:
    seen: list[Any] = []

    def make_identity(user: Any) -> Any:
        seen.append(user)
        assert user.id is not None
        return identity(user.id)

    user, account = store.accounts.create_user_with_identity(
        user=_user_create("ada@example.com"), identity=make_identity
    )

    assert len(seen) == 1
    assert seen[0].id == user.id
    assert account.user_id == user.id
    assert user.email_verified is True
    assert (_count(store, "users"), _count(store, "social_accounts")) == (1, 1)


def test_signup_rolls_back_when_identity_callback_raises(store: lite.LiteStore) -> None:
    def refuse(user: Any) -> Any:
        raise RuntimeError("hook refused")

    with pytest.raises(RuntimeError, match="hook refused"):
        store.accounts.create_user_with_identity(
            user=_user_create("ada@example.com"), identity=refuse
        )

    assert store.accounts.find_user_by_email("ada@example.com") is None
    assert _count(store, "users") == 0


def test_signup_refuses_an_identity_for_another_user(store: lite.LiteStore) -> None:
    existing = store.accounts.create_user(user_info={"email": "bob@example.com"})

    with pytest.raises(ValueError, match="must belong to the new user"):
        store.accounts.create_user_with_identity(
            user=_user_create("ada@example.com"), identity=lambda user: identity(existing.id)
        )  # type: ignore[arg-type,return-value]

    assert store.accounts.find_user_by_email("ada@example.com") is None
    assert _count(store, "social_accounts") == 0


def test_signup_with_a_taken_identity_leaves_no_orphan_user(any_store: lite.LiteStore) -> None:
    signup(any_store.accounts, "first@example.com", "gh-1")

    with pytest.raises(CrossAuthException) as raised:
        signup(any_store.accounts, "second@example.com", "gh-1")

    assert raised.value.error == "account_already_linked"
    assert any_store.accounts.find_user_by_email("second@example.com") is None
    assert (_count(any_store, "users"), _count(any_store, "social_accounts")) == (1, 1)


def test_signup_with_a_taken_email_is_a_clear_conflict(store: lite.LiteStore) -> None:
    signup(store.accounts, "ada@example.com", "gh-1")

    with pytest.raises(CrossAuthException) as raised:
        signup(store.accounts, "ada@example.com", "gh-2")

    assert raised.value.error == "email_already_registered"
    assert _count(store, "social_accounts") == 1


# create_social_account


def test_same_owner_retry_returns_the_existing_row_unchanged(any_store: lite.LiteStore) -> None:
    user, account = signup(any_store.accounts, "ada@example.com", "gh-1")

    again = connect(any_store.accounts, user.id, "gh-1", access_token="new-token", scope="admin")

    assert again.id == account.id
    assert again.access_token == "access-1"
    assert any_store.accounts.find_social_account_by_id(account.id).scope == "read:user"
    assert _count(any_store, "social_accounts") == 1


def test_retry_that_would_promote_a_connection_is_refused(any_store: lite.LiteStore) -> None:
    user = any_store.accounts.create_user(user_info={"email": "ada@example.com"})
    integration = connect(any_store.accounts, user.id, "gh-1", is_login_method=False)

    with pytest.raises(CrossAuthException) as raised:
        connect(any_store.accounts, user.id, "gh-1", is_login_method=True)

    assert raised.value.error == "account_already_linked"
    assert any_store.accounts.find_social_account_by_id(integration.id).is_login_method is False


def test_exclusive_identity_belongs_to_one_user(store: lite.LiteStore) -> None:
    signup(store.accounts, "ada@example.com", "gh-1")
    bob = store.accounts.create_user(user_info={"email": "bob@example.com"})

    for is_login_method in (True, False):
        with pytest.raises(CrossAuthException) as raised:
            connect(store.accounts, bob.id, "gh-1", is_login_method=is_login_method)
        assert raised.value.error == "account_already_linked"
    assert store.accounts.list_social_accounts(user_id=bob.id) == []


def test_shared_identity_has_one_login_owner(shared_store: lite.LiteStore) -> None:
    accounts = shared_store.accounts
    signup(accounts, "ada@example.com", "gh-1")
    bob = accounts.create_user(user_info={"email": "bob@example.com"})
    carol = accounts.create_user(user_info={"email": "carol@example.com"})

    assert connect(accounts, bob.id, "gh-1", is_login_method=False).user_id == bob.id
    assert connect(accounts, carol.id, "gh-1", is_login_method=False).user_id == carol.id
    dave = accounts.create_user(user_info={"email": "dave@example.com"})
    with pytest.raises(CrossAuthException) as raised:
        connect(accounts, dave.id, "gh-1", is_login_method=True)
    assert raised.value.error == "account_already_linked"
    assert accounts.list_social_accounts(user_id=dave.id) == []
    login_rows = shared_store.database.execute_sql(
        "SELECT COUNT(*) FROM social_accounts WHERE provider_user_id = 'gh-1' AND is_login_method"
    ).fetchone()[0]
    assert login_rows == 1


def test_attaching_to_a_missing_user_is_a_value_error(store: lite.LiteStore) -> None:
    with pytest.raises(lite.UnknownUserError, match="999"):
        connect(store.accounts, 999, "gh-1")
    with pytest.raises(lite.UnknownUserError):
        connect(store.accounts, "not-an-id", "gh-1")
    assert _count(store, "social_accounts") == 0


def test_seed_shaped_create_social_account_defaults(store: lite.LiteStore) -> None:
    user = store.accounts.create_user(
        user_info={"email": "ada@example.com", "email_verified": True}
    )

    account = store.accounts.create_social_account(
        user_id=user.id,
        provider="github",
        provider_user_id="42",
        access_token="t",
        refresh_token=None,
        access_token_expires_at=None,
        refresh_token_expires_at=None,
        scope=None,
        user_info={"id": 42},
    )

    assert user.email == "ada@example.com"
    assert user.email_verified is True
    assert (account.provider_email, account.provider_email_verified, account.is_login_method) == (
        None,
        None,
        True,
    )
    assert [a.id for a in store.accounts.find_user_by_id(user.id).social_accounts] == [account.id]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider", 1),
        ("provider_user_id", None),
        ("access_token", 12),
        ("is_login_method", "yes"),
    ],
)
def test_wrong_types_are_refused_before_writing(
    store: lite.LiteStore, field: str, value: object
) -> None:
    user = store.accounts.create_user(user_info={"email": "ada@example.com"})
    with pytest.raises(TypeError, match=field):
        store.accounts.create_social_account(**identity(user.id, **{field: value}))
    assert _count(store, "social_accounts") == 0


# update_social_account


def _update(store: lite.LiteStore, account_id: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "access_token": "access-2",
        "refresh_token": "refresh-2",
        "access_token_expires_at": None,
        "refresh_token_expires_at": None,
        "scope": "repo",
        "user_info": {},
        "provider_email": "ada@work.example",
        "provider_email_verified": True,
    }
    values.update(overrides)
    return store.accounts.update_social_account(account_id, **values)


def test_update_replaces_credentials(store: lite.LiteStore) -> None:
    _, account = signup(store.accounts, "ada@example.com")

    updated = _update(store, str(account.id))

    reread = store.accounts.find_social_account_by_id(account.id)
    for record in (updated, reread):
        assert (record.access_token, record.scope, record.provider_email) == (
            "access-2",
            "repo",
            "ada@work.example",
        )
        assert record.is_login_method is True


def test_update_promotes_but_never_demotes(shared_store: lite.LiteStore) -> None:
    user = shared_store.accounts.create_user(user_info={"email": "ada@example.com"})
    account = connect(shared_store.accounts, user.id, "gh-1", is_login_method=False)

    assert _update(shared_store, account.id).is_login_method is False
    assert _update(shared_store, account.id, enable_login=True).is_login_method is True
    assert _update(shared_store, account.id, enable_login=False).is_login_method is True
    assert shared_store.accounts.find_social_account_by_id(account.id).is_login_method is True


def test_failed_promotion_keeps_the_old_credentials(shared_store: lite.LiteStore) -> None:
    accounts = shared_store.accounts
    signup(accounts, "owner@example.com", "gh-1")
    bob = accounts.create_user(user_info={"email": "bob@example.com"})
    connection = connect(accounts, bob.id, "gh-1", is_login_method=False)

    with pytest.raises(CrossAuthException) as raised:
        _update(shared_store, connection.id, enable_login=True)

    assert raised.value.error == "account_already_linked"
    unchanged = accounts.find_social_account_by_id(connection.id)
    assert (unchanged.access_token, unchanged.is_login_method) == ("access-1", False)


def test_update_of_a_missing_account(store: lite.LiteStore) -> None:
    for missing in (12345, "abc", None):
        with pytest.raises(lite.SocialAccountNotFoundError):
            _update(store, missing)


# disconnect_social_account


def test_disconnect_results(store: lite.LiteStore) -> None:
    user, login = signup(store.accounts, "ada@example.com", "gh-1")
    _, other_login = signup(store.accounts, "bob@example.com", "gh-2")
    integration = connect(store.accounts, user.id, "gh-3", is_login_method=False)

    def disconnect(user_id: Any, account_id: Any, provider: str = "github") -> str:
        return store.accounts.disconnect_social_account(
            user_id=user_id, provider=provider, social_account_id=account_id
        )

    assert disconnect(user.id, other_login.id) == "not_found"  # someone else's
    assert disconnect(user.id, login.id, "gitlab") == "not_found"  # wrong provider
    assert disconnect(999, login.id) == "not_found"
    assert disconnect(user.id, login.id) == "last_login_method"
    assert (
        disconnect(str(user.id), str(integration.id)) == "disconnected"
    )  # integrations always go
    assert store.accounts.find_social_account_by_id(integration.id) is None
    assert store.accounts.find_social_account_by_id(login.id) is not None


def test_disconnect_with_an_alternative(store: lite.LiteStore) -> None:
    user, first = signup(store.accounts, "ada@example.com", "gh-1")
    second = connect(store.accounts, user.id, "gh-2")

    result = store.accounts.disconnect_social_account(
        user_id=user.id, provider="github", social_account_id=first.id
    )

    assert result == "disconnected"
    assert (
        store.accounts.disconnect_social_account(
            user_id=user.id, provider="github", social_account_id=second.id
        )
        == "last_login_method"
    )


def test_disconnect_last_identity_of_a_user_with_a_password(store: lite.LiteStore) -> None:
    user, account = signup(store.accounts, "ada@example.com", "gh-1")
    store.models.User.update(hashed_password="$argon2$...").where(
        store.models.User.id == user.id
    ).execute()

    result = store.accounts.disconnect_social_account(
        user_id=user.id, provider="github", social_account_id=account.id
    )

    assert result == "disconnected"


def test_delete_social_account_skips_the_policy(store: lite.LiteStore) -> None:
    _, account = signup(store.accounts, "ada@example.com")

    assert store.accounts.delete_social_account(str(account.id)) is True
    assert store.accounts.delete_social_account(account.id) is False
    assert _count(store, "social_accounts") == 0
