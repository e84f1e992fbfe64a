"""No stored text holds a NUL character, on SQLite as on PostgreSQL.

PostgreSQL cannot store one, and a store moves from SQLite to PostgreSQL
whole. So every write of a text holding ``"\\x00"`` is a ``ValueError``
naming the argument, never the value, and writes nothing; every lookup by
one finds nothing, asking no database; an export holding one is refused
before the import starts.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.factories import identity, signup

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]

NOW = datetime(2030, 1, 1, tzinfo=UTC)
#: Text with a NUL, and a part of it no error message may quote.
WITH_NUL = "secret-7f3e\x00rest"
QUOTED = "secret-7f3e"


def _rows(store: lite.LiteStore) -> tuple[int, int, int]:
    models = store.models
    return tuple(  # type: ignore[return-value]
        model.select().count() for model in (models.User, models.SocialAccount, models.Session)
    )


def _session(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "token_hash": "hash-of-a-new-session",
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + timedelta(days=1),
    }
    return values | overrides


def _user(email: str) -> Any:
    return {"user_info": {"email": email}, "email": email, "email_verified": True}


#: Each write of text, and the argument given a NUL there.
WRITES = [
    ("create_user", "email"),
    *[
        ("create_user_with_identity", name)
        for name in ("email", "provider", "provider_user_id", "provider_email", "access_token")
    ],
    *[("create_social_account", name) for name in ("provider_user_id", "refresh_token", "scope")],
    *[("update_social_account", name) for name in ("access_token", "scope", "provider_email")],
    *[
        ("sessions.create", name)
        for name in ("token_hash", "client_id", "client_name", "user_agent", "ip")
    ],
]


def _write(store: lite.LiteStore, user: Any, method: str, argument: str) -> object:
    """Call ``method`` with ``argument`` holding a NUL, every other value a valid one."""
    accounts = store.accounts
    given = {argument: WITH_NUL}
    if method == "create_user":
        return accounts.create_user(user_info={}, **given)
    if method == "create_user_with_identity":
        email = given.pop("email", "grace@example.com")
        new_identity = {"provider_user_id": "gh-new", **given}
        return accounts.create_user_with_identity(
            user=_user(email),
            identity=lambda created: identity(created.id, **new_identity),  # type: ignore[arg-type,return-value]
        )
    if method == "create_social_account":
        return accounts.create_social_account(
            **identity(user.id, **{"provider_user_id": "gh-new", **given})
        )
    if method == "update_social_account":
        account_id = accounts.list_social_accounts(user_id=user.id)[0].id
        credentials: dict[str, Any] = {
            "access_token": "new",
            "refresh_token": None,
            "access_token_expires_at": None,
            "refresh_token_expires_at": None,
            "scope": None,
        }
        return accounts.update_social_account(account_id, **{**credentials, **given})
    return store.sessions.create(user_id=user.id, **_session(**given))


@pytest.mark.parametrize(("method", "argument"), WRITES)
def test_a_write_of_text_with_nul_is_refused_and_writes_nothing(
    store: lite.LiteStore, method: str, argument: str
) -> None:
    user, account = signup(store.accounts, "ada@example.com", "gh-1", access_token="old")
    before = _rows(store)
    with pytest.raises(ValueError, match=f"^{argument} contains a NUL character") as refused:
        _write(store, user, method, argument)
    assert QUOTED not in str(refused.value)
    assert _rows(store) == before
    kept = store.accounts.find_social_account_by_id(account.id)
    assert kept is not None
    assert kept.access_token == "old"


def test_a_lookup_by_text_with_nul_finds_nothing(store: lite.LiteStore) -> None:
    user, account = signup(store.accounts, "ada@example.com", "gh-1")
    store.sessions.create(user_id=user.id, **_session())
    accounts, sessions = store.accounts, store.sessions
    assert accounts.find_user_by_email("ada@example.com\x00") is None
    for login in (None, True, False):
        assert (
            accounts.find_social_account(
                provider="github\x00", provider_user_id="gh-1", is_login_method=login
            )
            is None
        )
        assert (
            accounts.find_social_account(
                provider="github", provider_user_id="gh-1\x00", is_login_method=login
            )
            is None
        )
    assert accounts.find_social_account(provider="github", provider_user_id="\x00") is None
    assert not accounts.has_social_account(provider="github", provider_user_id="gh-1\x00")
    assert not accounts.has_social_account(provider="\x00", provider_user_id="gh-1")
    assert sessions.get(token_hash="hash-of-a-new-session\x00", now=NOW) is None
    result = accounts.disconnect_social_account(
        user_id=user.id, provider="github\x00", social_account_id=account.id
    )
    assert result == "not_found"
    # Without the NUL, each finds what is there.
    assert accounts.find_user_by_email("ada@example.com") is not None
    assert accounts.has_social_account(provider="github", provider_user_id="gh-1")
    assert sessions.get(token_hash="hash-of-a-new-session", now=NOW) is not None


@pytest.mark.sqlite_only
def test_an_export_holding_nul_is_refused_before_any_import(
    store: lite.LiteStore, tmp_path: Any
) -> None:
    signup(store.accounts, "ada@example.com", "gh-1", access_token="a-token")
    exported = io.StringIO()
    lite.admin.export_store(store, exported)
    document = json.loads(exported.getvalue())
    document["social_accounts"][0]["access_token"] = WITH_NUL
    with pytest.raises(lite.ExportFormatError, match="access_token contains a NUL") as refused:
        lite.admin.read_export(json.dumps(document))
    assert QUOTED not in str(refused.value)
