"""What no stored text may be, on SQLite as on PostgreSQL: a store moves between them whole.

- A NUL character (``"\\x00"``), which PostgreSQL cannot store: every write of
  one is a ``ValueError`` naming the argument, never the value, and writes
  nothing; every lookup by one finds nothing, asking no database.
- Longer than ``MAX_INDEXED_BYTES`` in UTF-8, for a text a unique index holds
  (an email, an identity, a token hash), which PostgreSQL's index rows could
  not: the same ``ValueError``; a text of exactly that length is stored, and an
  identity of two such texts too.

An export breaking either rule is refused before the import starts.
"""

from __future__ import annotations

import io
import json
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite.database.arguments import MAX_INDEXED_BYTES
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


def _write(
    store: lite.LiteStore, user: Any, method: str, argument: str, value: str = WITH_NUL
) -> object:
    """Call ``method`` with ``argument`` set to ``value``, every other value a valid one."""
    accounts = store.accounts
    given = {argument: value}
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
    assert lite.admin.find_user(store, "ada@example.com\x00") is None
    assert list(lite.admin.list_users(store, email_contains="\x00")) == []
    assert lite.admin.count_users(store, email_contains="ada\x00") == 0
    # Without the NUL, each finds what is there.
    assert accounts.find_user_by_email("ada@example.com") is not None
    assert lite.admin.find_user(store, "ada@example.com") is not None
    assert lite.admin.count_users(store, email_contains="ada") == 1
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


#: The writes of a text a unique index holds.
INDEXED_WRITES = [
    ("create_user", "email"),
    ("create_user_with_identity", "email"),
    ("create_user_with_identity", "provider"),
    ("create_user_with_identity", "provider_user_id"),
    ("create_social_account", "provider_user_id"),
    ("sessions.create", "token_hash"),
]


def _incompressible(size: int, seed: int = 0) -> str:
    """``size`` random ASCII letters: PostgreSQL cannot compress them into a small index row."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters) for _ in range(size))


@pytest.mark.parametrize(("method", "argument"), INDEXED_WRITES)
def test_an_indexed_text_too_long_is_refused_and_writes_nothing(
    store: lite.LiteStore, method: str, argument: str
) -> None:
    user, _ = signup(store.accounts, "ada@example.com", "gh-1")
    before = _rows(store)
    too_long = "é" * (MAX_INDEXED_BYTES // 2 + 1)  # counted in UTF-8 bytes, not characters
    with pytest.raises(ValueError, match=f"^{argument} is 1026 bytes long in UTF-8") as refused:
        _write(store, user, method, argument, too_long)
    assert "é" not in str(refused.value)
    assert _rows(store) == before


@pytest.mark.parametrize(("method", "argument"), INDEXED_WRITES)
def test_an_indexed_text_of_the_longest_length_is_stored(
    store: lite.LiteStore, method: str, argument: str
) -> None:
    user, _ = signup(store.accounts, "ada@example.com", "gh-1")
    longest = _incompressible(MAX_INDEXED_BYTES)
    _write(store, user, method, argument, longest)
    stored = {
        "email": lambda: store.accounts.find_user_by_email(longest),
        "provider": lambda: store.accounts.find_social_account(
            provider=longest, provider_user_id="gh-new", is_login_method=True
        ),
        "provider_user_id": lambda: store.accounts.find_social_account(
            provider="github", provider_user_id=longest, is_login_method=True
        ),
        "token_hash": lambda: store.sessions.get(token_hash=longest, now=NOW),
    }
    assert stored[argument]() is not None


def test_an_identity_of_two_longest_texts_is_stored(any_store: lite.LiteStore) -> None:
    """The shared schema's index holds the user, the provider and its user id together."""
    provider, provider_user_id = (
        _incompressible(MAX_INDEXED_BYTES, 1),
        _incompressible(MAX_INDEXED_BYTES, 2),
    )
    user, account = signup(
        any_store.accounts, "ada@example.com", provider_user_id, provider=provider
    )
    assert any_store.accounts.has_social_account(
        provider=provider, provider_user_id=provider_user_id
    )
    assert account.user_id == user.id


@pytest.mark.sqlite_only
def test_an_export_with_an_indexed_text_too_long_is_refused(store: lite.LiteStore) -> None:
    signup(store.accounts, "ada@example.com", "gh-1")
    exported = io.StringIO()
    lite.admin.export_store(store, exported)
    document = json.loads(exported.getvalue())
    document["users"][0]["email"] = _incompressible(MAX_INDEXED_BYTES + 1)
    with pytest.raises(lite.ExportFormatError, match=r"users\[0\]: email is 1025 bytes long"):
        lite.admin.read_export(json.dumps(document))
    document["users"][0]["email"] = "ada@example.com"
    document["social_accounts"][0]["provider_user_id"] = _incompressible(MAX_INDEXED_BYTES + 1)
    with pytest.raises(lite.ExportFormatError, match="provider_user_id is 1025 bytes long"):
        lite.admin.read_export(json.dumps(document))
