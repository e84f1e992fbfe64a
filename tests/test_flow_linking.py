"""Connecting, linking and disconnecting identities through the router, on both schemas.

``connect`` (GET /{provider}/connect) attaches an identity for API access only;
the OAuth server's ``link`` + ``finalize-link`` can also make it a login method.
With ``shared_connections`` several users may connect one identity, but it
keeps at most one login owner: Cross-Auth checks its configured policy and the
store's indexes enforce the schema's, whichever is stricter.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import cross_auth_lite as lite
from cross_auth_lite.dev import DevIdentity
from tests.oauth import (
    ALICE,
    AUTH_REQUEST_PREFIX,
    BOB,
    LINK_CODE_PREFIX,
    AuthApp,
    Providers,
    connect_identity,
    copy_cookies,
    counts,
    error_of,
    finish_login,
    link_identity,
    make_app,
    make_config,
    mock_providers,
    pkce_pair,
    query,
    sign_in,
    start_link,
    start_login,
)

# Portable mode is covered by the storages' contract tests and the sign-in flow.
pytestmark = pytest.mark.all_backends

WORK = DevIdentity("Alice", "alice@work.example", "o-9")


@pytest.fixture
def providers() -> Iterator[Providers]:
    with mock_providers() as mocked:
        yield mocked


@pytest.fixture
def app(any_store: lite.LiteStore, providers: Providers) -> AuthApp:
    """Cross-Auth whose sharing policy matches the store's schema."""
    return make_app(any_store, providers)


def _accounts(store: lite.LiteStore, **where: Any) -> list[Any]:
    model = store.models.SocialAccount
    rows = model.select().order_by(model.id)
    for name, value in where.items():
        rows = rows.where(getattr(model, name) == value)
    return list(rows)


def _user_id(browser: Any) -> int:
    return int(browser.get("/me").json()["id"])


def _failed_sign_in(
    app: AuthApp, providers: Providers, identity: DevIdentity, provider: str
) -> str:
    browser = app.browser()
    url = start_login(browser, provider)
    response = finish_login(browser, providers[provider].consent(url, identity))
    assert response.status_code == 400, response.text
    assert "session_id" not in response.cookies
    return error_of(response)


# Connect


def test_connect_attaches_an_identity_that_cannot_sign_in(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    alice_id = _user_id(alice)
    started = alice.get("/other/connect", params={"next": "/settings"})
    state = query(started.headers["location"])["state"]
    stored = json.loads(any_store.secondary.get(AUTH_REQUEST_PREFIX + state) or "null")
    assert (stored["flow"], stored["user_id"]) == ("connect", str(alice_id))

    response = finish_login(alice, providers.other.consent(started.headers["location"], WORK))

    assert response.status_code == 302, response.text
    assert response.headers["location"] == "/settings"
    (work,) = _accounts(any_store, provider="other")
    assert (work.user_id, work.provider_user_id, work.is_login_method) == (alice_id, "o-9", False)
    assert work.provider_email == "alice@work.example"
    assert work.access_token == providers.other.issued[-1]["access_token"]
    assert alice.get("/me").json()["id"] == alice_id
    # A connection grants API access, not sign-in, and creates no user.
    assert _failed_sign_in(app, providers, WORK, "other") == "access_denied"
    assert counts(any_store)["users"] == 1


def test_connect_needs_a_signed_in_user(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    response = app.browser().get("/other/connect")

    assert response.status_code == 401
    assert any_store.secondary.keys(AUTH_REQUEST_PREFIX) == []


def test_reconnecting_refreshes_the_same_connection(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    assert connect_identity(alice, providers, WORK).status_code == 302
    (first,) = _accounts(any_store, provider="other")

    assert connect_identity(alice, providers, WORK).status_code == 302

    (again,) = _accounts(any_store, provider="other")
    assert again.id == first.id
    assert again.access_token != first.access_token
    assert again.is_login_method is False


# Link (OAuth server flow)


def test_link_with_allow_login_adds_a_second_way_to_sign_in(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    alice_id = _user_id(alice)
    body = start_link(alice, providers, WORK, provider="other")
    key = LINK_CODE_PREFIX + body["link_code"]
    # The link code waits in the cache for the SPA, with Cross-Auth's 10-minute TTL.
    _, expire_time = any_store.secondary.cache.get(key, expire_time=True)
    assert 590 < expire_time - time.time() <= 600
    assert _accounts(any_store, provider="other") == []

    finalized = alice.post("/other/finalize-link", json={**body, "allow_login": True})

    assert finalized.status_code == 200, finalized.text
    assert any_store.secondary.get(key) is None
    (work,) = _accounts(any_store, provider="other")
    assert (work.user_id, work.is_login_method) == (alice_id, True)
    # Single use: the code is gone.
    replay = alice.post("/other/finalize-link", json={**body, "allow_login": True})
    assert replay.status_code == 400
    assert len(_accounts(any_store)) == 2
    # The linked identity now signs in as Alice.
    assert _user_id(sign_in(app.browser(), providers, WORK, provider="other")) == alice_id
    assert counts(any_store)["users"] == 1


def test_finalize_link_needs_the_spas_verifier(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    body = start_link(alice, providers, WORK, provider="other")

    wrong = alice.post(
        "/other/finalize-link",
        json={**body, "code_verifier": pkce_pair()[0], "allow_login": True},
    )

    assert wrong.status_code == 400
    assert _accounts(any_store, provider="other") == []
    # A wrong verifier does not burn the code: the right one still works.
    assert any_store.secondary.get(LINK_CODE_PREFIX + body["link_code"]) is not None
    assert alice.post("/other/finalize-link", json=body).status_code == 200


# Disconnect


def test_the_only_login_method_cannot_be_disconnected(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)

    response = alice.delete("/fake/social-accounts")

    assert response.status_code == 400
    assert error_of(response) == "no_alternative_login_method"
    assert len(_accounts(any_store, provider="fake")) == 1
    assert sign_in(app.browser(), providers, ALICE).get("/me").status_code == 200


def test_a_connection_can_be_disconnected_but_does_not_count_as_login(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    assert connect_identity(alice, providers, WORK).status_code == 302

    assert error_of(alice.delete("/fake/social-accounts")) == "no_alternative_login_method"
    response = alice.delete("/other/social-accounts")

    assert response.status_code == 200
    assert response.json() == {"message": "other account disconnected"}
    assert _accounts(any_store, provider="other") == []
    assert len(_accounts(any_store, provider="fake")) == 1


def test_a_second_login_method_allows_disconnecting_the_first(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    alice_id = _user_id(alice)
    assert link_identity(alice, providers, WORK, provider="other", allow_login=True).is_success

    assert alice.delete("/fake/social-accounts").status_code == 200

    assert _accounts(any_store, provider="fake") == []
    assert error_of(alice.delete("/other/social-accounts")) == "no_alternative_login_method"
    assert [row.user_id for row in _accounts(any_store)] == [alice_id]
    # Disconnecting signs nobody out.
    assert alice.get("/me").status_code == 200


def test_disconnect_by_id_when_a_provider_has_several_accounts(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    second = DevIdentity("Alice", "alice@example.com", "alice-2")
    assert link_identity(alice, providers, second).is_success
    bob = sign_in(app.browser(), providers, BOB)
    first, extra = _accounts(any_store, user_id=_user_id(alice))

    ambiguous = alice.delete("/fake/social-accounts")
    foreign = bob.delete(f"/fake/social-accounts/{extra.id}")
    wrong_provider = alice.delete(f"/other/social-accounts/{extra.id}")
    anonymous = app.browser().delete(f"/fake/social-accounts/{extra.id}")

    assert error_of(ambiguous) == "multiple_accounts_connected"
    assert error_of(foreign) == "account_not_connected"
    assert error_of(wrong_provider) == "account_not_connected"
    assert anonymous.status_code == 401
    assert len(_accounts(any_store)) == 3

    assert alice.delete(f"/fake/social-accounts/{extra.id}").status_code == 200
    assert [row.id for row in _accounts(any_store, user_id=_user_id(alice))] == [first.id]
    assert alice.delete("/fake/social-accounts/999999").status_code == 400


def test_concurrent_disconnects_keep_one_login_method(
    any_store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    assert link_identity(alice, providers, WORK, provider="other", allow_login=True).is_success
    barrier = threading.Barrier(2, timeout=10)
    responses: dict[str, httpx.Response] = {}

    def disconnect(provider: str) -> None:
        browser = app.browser()
        copy_cookies(alice, browser)
        barrier.wait()
        responses[provider] = browser.delete(f"/{provider}/social-accounts")

    threads = [threading.Thread(target=disconnect, args=(p,)) for p in ("fake", "other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(response.status_code for response in responses.values())
    assert statuses == [200, 400]
    (refused,) = [r for r in responses.values() if r.status_code == 400]
    assert error_of(refused) == "no_alternative_login_method"
    (left,) = _accounts(any_store)
    assert left.is_login_method is True


# Someone else's identity: policy and schema


@pytest.mark.parametrize(
    ("schema_shared", "policy_shared", "allowed"),
    [
        (False, False, False),
        (True, True, True),
        (True, False, False),  # the policy is stricter than the schema
        (False, True, False),  # the schema is stricter than the policy: the index refuses
    ],
)
def test_connecting_an_identity_another_user_signs_in_with(
    tmp_path: Path,
    providers: Providers,
    schema_shared: bool,
    policy_shared: bool,
    allowed: bool,
) -> None:
    with lite.open(tmp_path / "store", shared_connections=schema_shared) as store:
        config = make_config(store, allow_shared_connections=policy_shared)
        app = make_app(store, providers, config=config)
        alice = sign_in(app.browser(), providers, ALICE)
        alice_id = _user_id(alice)
        (alice_row,) = _accounts(store)
        bob = sign_in(app.browser(), providers, BOB)
        bob_id = _user_id(bob)

        response = connect_identity(bob, providers, ALICE, provider="fake")

        if allowed:
            assert response.status_code == 302, response.text
            (shared_row,) = _accounts(store, user_id=bob_id, provider_user_id="alice-1")
            assert shared_row.is_login_method is False
        else:
            assert response.status_code == 400
            assert error_of(response) == "account_already_linked"
            assert _accounts(store, user_id=bob_id, provider_user_id="alice-1") == []
        # Alice keeps her login and her credentials either way.
        owner = store.models.SocialAccount.get_by_id(alice_row.id)
        assert (owner.user_id, owner.is_login_method) == (alice_id, True)
        assert owner.access_token == alice_row.access_token
        assert _user_id(sign_in(app.browser(), providers, ALICE)) == alice_id
        assert counts(store)["users"] == 2


def test_a_shared_identity_keeps_a_single_login_owner(
    shared_store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(shared_store, providers)
    alice = sign_in(app.browser(), providers, ALICE)
    bob = sign_in(app.browser(), providers, BOB)

    # Linking it as a login method is refused outright...
    refused = link_identity(bob, providers, ALICE, allow_login=True)
    assert error_of(refused) == "account_already_linked"
    assert _accounts(shared_store, user_id=_user_id(bob), provider_user_id="alice-1") == []
    # ...and so is promoting Bob's connection of it later.
    assert connect_identity(bob, providers, ALICE, provider="fake").status_code == 302
    promoted = link_identity(bob, providers, ALICE, allow_login=True)
    assert error_of(promoted) == "account_already_linked"
    rows = _accounts(shared_store, provider_user_id="alice-1")
    assert [(row.user_id, row.is_login_method) for row in rows] == [
        (_user_id(alice), True),
        (_user_id(bob), False),
    ]

    # Bob dropping his connection leaves Alice's login alone.
    bob_row = rows[1]
    dropped = bob.delete(f"/fake/social-accounts/{bob_row.id}")
    assert dropped.status_code == 200
    assert [row.user_id for row in _accounts(shared_store, provider_user_id="alice-1")] == [
        _user_id(alice)
    ]


def test_a_shared_identity_without_a_login_owner_cannot_sign_in(
    shared_store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(shared_store, providers)
    alice = sign_in(app.browser(), providers, ALICE)
    bob = sign_in(app.browser(), providers, BOB)
    assert connect_identity(bob, providers, ALICE, provider="fake").status_code == 302
    # Alice moves her login to another identity and drops the shared one.
    assert link_identity(alice, providers, WORK, provider="other", allow_login=True).is_success
    assert alice.delete("/fake/social-accounts").status_code == 200
    before = counts(shared_store)

    assert _failed_sign_in(app, providers, ALICE, "fake") == "access_denied"

    assert counts(shared_store) == before
    (bobs,) = _accounts(shared_store, provider_user_id="alice-1")
    assert (bobs.user_id, bobs.is_login_method) == (_user_id(bob), False)


class HoldAfterOwnerCheck:
    """Passes every call to the real accounts storage; holds login-owner lookups at a barrier.

    Before promoting a shared connection to a login method Cross-Auth looks
    the identity's login owner up. Holding both requests until both have seen
    "no owner" leaves the store's partial unique index to pick the one owner.
    """

    def __init__(self, accounts: Any, barrier: threading.Barrier) -> None:
        self._accounts = accounts
        self._barrier = barrier

    def find_social_account(self, **lookup: Any) -> Any:
        found = self._accounts.find_social_account(**lookup)
        if lookup.get("is_login_method") is True and lookup.get("user_id") is None:
            self._barrier.wait()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._accounts, name)


def test_concurrent_promotions_of_a_shared_identity_make_one_login_owner(
    shared_store: lite.LiteStore, providers: Providers
) -> None:
    team = DevIdentity("Team", "team@example.com", "team-1")
    app = make_app(shared_store, providers)
    users = [
        sign_in(
            app.browser(), providers, DevIdentity(f"User {n}", f"user{n}@example.com", f"u-{n}")
        )
        for n in range(2)
    ]
    for user in users:
        assert connect_identity(user, providers, team).status_code == 302
    bodies = [start_link(user, providers, team, provider="other") for user in users]
    barrier = threading.Barrier(2, timeout=10)
    held = make_app(
        shared_store, providers, accounts=HoldAfterOwnerCheck(shared_store.accounts, barrier)
    )
    responses: list[Any] = [None, None]

    def promote(index: int) -> None:
        browser = held.browser()
        copy_cookies(users[index], browser)
        responses[index] = browser.post(
            "/other/finalize-link", json={**bodies[index], "allow_login": True}
        )

    threads = [threading.Thread(target=promote, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in responses) == [200, 409]
    (loser,) = [r for r in responses if r.status_code != 200]
    assert error_of(loser) == "account_already_linked"
    rows = _accounts(shared_store, provider_user_id="team-1")
    assert len(rows) == 2
    assert sorted(row.is_login_method for row in rows) == [False, True]
    (winner,) = [n for n, r in enumerate(responses) if r.status_code == 200]
    (owner,) = [row for row in rows if row.is_login_method]
    assert owner.user_id == _user_id(users[winner])
    # The winner's identity now signs in as the winner.
    assert _user_id(sign_in(app.browser(), providers, team, provider="other")) == owner.user_id
