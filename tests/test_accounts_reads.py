"""Lookups of users and social accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import cross_auth_lite as lite
from tests.factories import connect, signup

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]


def test_find_user_by_email_and_id(store: lite.LiteStore) -> None:
    user, _ = signup(store.accounts, "ada@example.com")

    assert store.accounts.find_user_by_email("ada@example.com").id == user.id
    assert store.accounts.find_user_by_email("other@example.com") is None
    assert store.accounts.find_user_by_id(user.id).email == "ada@example.com"


@pytest.mark.parametrize(
    "garbage",
    [
        "abc",
        "",
        " ",
        "1.5",
        "0x1",
        2**80,
        -(2**80),
        None,
        [1],
        {"id": 1},
        1.0,
        True,
        b"1",
        "1\x00",
    ],
)
def test_ids_that_cannot_match_find_nothing(store: lite.LiteStore, garbage: object) -> None:
    user, account = signup(store.accounts, "ada@example.com")
    assert user.id == 1

    assert store.accounts.find_user_by_id(garbage) is None
    assert store.accounts.find_social_account_by_id(garbage) is None
    assert store.accounts.list_social_accounts(user_id=garbage) == []
    if garbage is not None:  # user_id=None means "any user"
        found = store.accounts.find_social_account(
            provider="github", provider_user_id="gh-1", user_id=garbage
        )
        assert found is None
    assert store.accounts.delete_social_account(garbage) is False
    assert (
        store.accounts.disconnect_social_account(
            user_id=garbage, provider="github", social_account_id=account.id
        )
        == "not_found"
    )


def test_string_ids_from_http_find_rows(store: lite.LiteStore) -> None:
    user, account = signup(store.accounts, "ada@example.com")

    assert store.accounts.find_user_by_id(str(user.id)).id == user.id
    assert store.accounts.find_social_account_by_id(str(account.id)).id == account.id
    assert [a.id for a in store.accounts.list_social_accounts(user_id=str(user.id))] == [
        account.id
    ]


def test_email_must_be_text(store: lite.LiteStore) -> None:
    with pytest.raises(TypeError, match="email must be str"):
        store.accounts.find_user_by_email(None)  # type: ignore[arg-type]


def test_find_social_account_filters(shared_store: lite.LiteStore) -> None:
    accounts = shared_store.accounts
    owner, login = signup(accounts, "owner@example.com", "gh-7")
    other = accounts.create_user(user_info={"email": "other@example.com"})
    integration = connect(accounts, other.id, "gh-7", is_login_method=False)

    found = accounts.find_social_account(
        provider="github", provider_user_id="gh-7", is_login_method=True
    )
    assert found.id == login.id
    found = accounts.find_social_account(
        provider="github", provider_user_id="gh-7", user_id=other.id
    )
    assert found.id == integration.id
    found = accounts.find_social_account(
        provider="github", provider_user_id="gh-7", user_id=str(owner.id), is_login_method=False
    )
    assert found is None
    assert (
        accounts.find_social_account(provider="gitlab", provider_user_id="gh-7", user_id=owner.id)
        is None
    )


def test_unscoped_lookup_of_a_shared_identity_is_ambiguous(shared_store: lite.LiteStore) -> None:
    accounts = shared_store.accounts
    signup(accounts, "owner@example.com", "gh-7")
    other = accounts.create_user(user_info={"email": "other@example.com"})
    connect(accounts, other.id, "gh-7", is_login_method=False)

    with pytest.raises(lite.AmbiguousSocialAccountError, match="user_id or is_login_method"):
        accounts.find_social_account(provider="github", provider_user_id="gh-7")
    assert isinstance(lite.AmbiguousSocialAccountError("x"), ValueError)


def test_list_social_accounts_oldest_first(store: lite.LiteStore) -> None:
    user, first = signup(store.accounts, "ada@example.com", "gh-1")
    second = connect(store.accounts, user.id, "gh-2", is_login_method=False)
    other, _ = signup(store.accounts, "bob@example.com", "gh-3")

    assert [a.id for a in store.accounts.list_social_accounts(user_id=user.id)] == [
        first.id,
        second.id,
    ]
    assert [a.provider_user_id for a in store.accounts.list_social_accounts(user_id=other.id)] == [
        "gh-3"
    ]


def test_datetimes_come_back_as_the_same_instant_in_utc(
    store: lite.LiteStore, backend: str
) -> None:
    paris = timezone(timedelta(hours=2))
    expires = datetime(2031, 5, 4, 12, 30, 15, 250, tzinfo=paris)
    _, account = signup(store.accounts, "ada@example.com", access_token_expires_at=expires)

    for read in (account, store.accounts.find_social_account_by_id(account.id)):
        assert read.access_token_expires_at == expires
        assert read.access_token_expires_at.tzinfo is UTC
        assert read.access_token_expires_at.hour == 10
    raw = store.database.execute_sql(
        "SELECT access_token_expires_at FROM social_accounts"
    ).fetchone()[0]
    if backend == "sqlite":
        assert raw == "2031-05-04 10:30:15.000250"
    else:  # a plain timestamp column holding UTC
        assert raw == datetime(2031, 5, 4, 10, 30, 15, 250)


def test_user_social_accounts_relationship(store: lite.LiteStore) -> None:
    user, _ = signup(store.accounts, "ada@example.com")
    connect(store.accounts, user.id, "gh-2", is_login_method=False)

    reloaded = store.accounts.find_user_by_id(user.id)
    assert sorted(a.provider_user_id for a in reloaded.social_accounts) == ["gh-1", "gh-2"]
    assert reloaded.has_usable_password is False
