"""Browser social sign-in, end to end: Cross-Auth's router on one real lite store.

The identity provider is the project's development OAuth server, reached
through ``respx`` (``tests.oauth``); the OAuth state, users, identities and
sessions all live in the store's SQLite file and diskcache directory.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cross_auth import _auth_flow

import cross_auth_lite as lite
from cross_auth_lite.dev import DevIdentity
from cross_auth_lite.dev.server import TOKEN_TTL
from tests.oauth import (
    ALICE,
    AUTH_REQUEST_PREFIX,
    SESSION_COOKIE,
    Providers,
    copy_cookies,
    counts,
    error_of,
    finish_login,
    make_app,
    make_config,
    mock_providers,
    pkce_pair,
    query,
    session_row,
    sign_in,
    start_login,
)

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]

EMPTY = {"users": 0, "social_accounts": 0, "sessions": 0, "unrevoked_sessions": 0}


@pytest.fixture
def providers() -> Iterator[Providers]:
    with mock_providers() as mocked:
        yield mocked


def _binding_cookie_names(client: Any) -> list[str]:
    return [cookie.name for cookie in client.cookies.jar if "cross_auth_oauth_" in cookie.name]


# The whole browser flow


def test_login_redirects_to_the_provider_and_parks_the_state_in_the_cache(
    store: lite.LiteStore, providers: Providers
) -> None:
    browser = make_app(store, providers).browser()

    authorization_url = start_login(browser, next_url="/home")

    state = query(authorization_url)["state"]
    key = AUTH_REQUEST_PREFIX + state
    assert store.secondary.keys(AUTH_REQUEST_PREFIX) == [key]
    stored = json.loads(store.secondary.get(key) or "null")
    assert stored["flow"] == "session"
    assert stored["provider_id"] == "fake"
    assert stored["next_url"] == "/home"
    assert stored["provider_code_verifier"]
    # Cross-Auth hands the cache its 10-minute TTL; diskcache records it.
    _, expire_time = store.secondary.cache.get(key, expire_time=True)
    assert 590 < expire_time - time.time() <= 600
    # The browser is bound to the attempt by a cookie named after the state.
    assert _binding_cookie_names(browser) == [f"__Host-cross_auth_oauth_{state}"]
    assert counts(store) == EMPTY


def test_callback_creates_user_identity_and_session(
    store: lite.LiteStore, providers: Providers
) -> None:
    browser = make_app(store, providers).browser(user_agent="firefox/1")
    authorization_url = start_login(browser, next_url="/home")
    state = query(authorization_url)["state"]
    before = datetime.now(UTC)

    response = finish_login(browser, providers.fake.consent(authorization_url, ALICE))

    assert response.status_code == 302, response.text
    assert response.headers["location"] == "/home"
    token = response.cookies[SESSION_COOKIE]
    assert browser.cookies.get(SESSION_COOKIE) == token
    # The state was consumed and the binding cookie cleared.
    assert store.secondary.get(AUTH_REQUEST_PREFIX + state) is None
    assert store.secondary.keys(AUTH_REQUEST_PREFIX) == []
    assert _binding_cookie_names(browser) == []

    assert counts(store) == {
        "users": 1,
        "social_accounts": 1,
        "sessions": 1,
        "unrevoked_sessions": 1,
    }
    user = store.models.User.get()
    assert (user.email, user.email_verified, user.hashed_password) == (
        "alice@example.com",
        True,
        None,
    )
    account = store.models.SocialAccount.get()
    assert account.user_id == user.id
    assert (account.provider, account.provider_user_id) == ("fake", "alice-1")
    assert (account.provider_email, account.provider_email_verified) == ("alice@example.com", True)
    assert account.is_login_method is True
    (granted,) = providers.fake.issued
    assert account.access_token == granted["access_token"]
    assert account.refresh_token == granted["refresh_token"]
    assert account.scope == "email"
    assert account.access_token_expires_at.tzinfo is not None
    assert (
        timedelta(seconds=TOKEN_TTL - 10)
        < account.access_token_expires_at - before
        < timedelta(seconds=TOKEN_TTL + 10)
    )

    # Only the token's hash is stored; the session lasts Cross-Auth's default day.
    session = session_row(store, token)
    assert session is not None
    assert session.user_id == user.id
    assert session.user_agent == "firefox/1"
    assert session.revoked_at is None
    assert session.status == "active"
    assert session.expires_at - session.created_at == timedelta(days=1)
    assert before - timedelta(seconds=1) <= session.created_at <= datetime.now(UTC)
    assert (providers.fake.token_requests, providers.fake.userinfo_requests) == (1, 1)


def test_session_cookie_authenticates_requests(
    store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(store, providers)
    browser = sign_in(app.browser(), providers, ALICE)

    me = browser.get("/me")

    assert me.status_code == 200
    user = store.models.User.get()
    assert me.json() == {"id": user.id, "email": "alice@example.com"}
    assert app.browser().get("/me").status_code == 401
    stranger = app.browser()
    stranger.cookies.set(SESSION_COOKIE, "not-a-session-token")
    assert stranger.get("/me").status_code == 401


def test_signing_in_again_reuses_the_user_and_refreshes_the_identity(
    store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(store, providers)
    first = sign_in(app.browser(), providers, ALICE)
    first_token = store.models.SocialAccount.get().access_token

    second = sign_in(app.browser(), providers, ALICE)

    assert first.get("/me").json() == second.get("/me").json()
    assert counts(store) == {
        "users": 1,
        "social_accounts": 1,
        "sessions": 2,
        "unrevoked_sessions": 2,
    }
    account = store.models.SocialAccount.get()
    assert account.access_token == providers.fake.issued[-1]["access_token"]
    assert account.access_token != first_token
    assert first.cookies[SESSION_COOKIE] != second.cookies[SESSION_COOKIE]


def test_two_identities_make_two_users(store: lite.LiteStore, providers: Providers) -> None:
    app = make_app(store, providers)
    alice = sign_in(app.browser(), providers, ALICE)
    bob = sign_in(app.browser(), providers, DevIdentity("Bob", "bob@example.com", "bob-1"))

    assert alice.get("/me").json()["id"] != bob.get("/me").json()["id"]
    assert counts(store)["users"] == 2
    owners = {row.provider_user_id: row.user_id for row in store.models.SocialAccount.select()}
    assert owners == {
        "alice-1": alice.get("/me").json()["id"],
        "bob-1": bob.get("/me").json()["id"],
    }


# Sign-up with an email an existing user already has


def _existing_alice(store: lite.LiteStore, providers: Providers) -> int:
    sign_in(make_app(store, providers).browser(), providers, ALICE)
    return int(store.models.User.get().id)


def test_matching_email_without_linking_is_refused(
    store: lite.LiteStore, providers: Providers
) -> None:
    alice_id = _existing_alice(store, providers)
    app = make_app(store, providers, config=make_config(store, linking=False))
    browser = app.browser()
    url = start_login(browser, "other")

    response = finish_login(
        browser, providers.other.consent(url, DevIdentity("Alice", "Alice@Example.com", "o-7"))
    )

    assert response.status_code == 400
    assert error_of(response) == "account_not_linked"
    assert SESSION_COOKIE not in response.cookies
    assert counts(store) == {
        "users": 1,
        "social_accounts": 1,
        "sessions": 1,
        "unrevoked_sessions": 1,
    }
    assert [row.user_id for row in store.models.SocialAccount.select()] == [alice_id]


def test_matching_email_links_to_the_existing_user_when_linking_is_on(
    store: lite.LiteStore, providers: Providers
) -> None:
    alice_id = _existing_alice(store, providers)
    app = make_app(store, providers)

    # Cross-Auth normalizes (trims, lowercases) before looking the email up.
    browser = sign_in(
        app.browser(),
        providers,
        DevIdentity("Alice", " Alice@Example.com", "o-7"),
        provider="other",
    )

    assert browser.get("/me").json() == {"id": alice_id, "email": "alice@example.com"}
    assert counts(store)["users"] == 1
    linked = store.models.SocialAccount.get(store.models.SocialAccount.provider == "other")
    assert linked.user_id == alice_id
    assert linked.is_login_method is True
    # The provider's own spelling is kept on the identity.
    assert linked.provider_email == " Alice@Example.com"


@pytest.mark.parametrize(("verified", "linked"), [(False, False), (True, True)])
def test_untrusted_provider_links_by_email_only_when_verified(
    store: lite.LiteStore, providers: Providers, verified: bool, linked: bool
) -> None:
    alice_id = _existing_alice(store, providers)
    app = make_app(store, providers, trust_email=False)
    browser = app.browser()
    url = start_login(browser, "other")

    response = finish_login(
        browser,
        providers.other.consent(
            url, DevIdentity("Alice", "alice@example.com", "o-7", email_verified=verified)
        ),
    )

    if linked:
        assert response.status_code == 302
        assert browser.get("/me").json()["id"] == alice_id
        assert counts(store)["social_accounts"] == 2
    else:
        assert response.status_code == 400
        assert error_of(response) == "account_not_linked"
        assert counts(store)["social_accounts"] == 1
    assert counts(store)["users"] == 1


def test_unverified_email_cannot_sign_up_when_verification_is_required(
    store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(store, providers, config=make_config(store, require_verified_email=True))
    browser = app.browser()
    url = start_login(browser)

    response = finish_login(
        browser,
        providers.fake.consent(
            url, DevIdentity("New", "new@example.com", "u-1", email_verified=False)
        ),
    )

    assert response.status_code == 400
    assert error_of(response) == "email_not_verified"
    assert counts(store) == EMPTY


# Callbacks that must not complete


def test_a_replayed_callback_is_refused(store: lite.LiteStore, providers: Providers) -> None:
    browser = make_app(store, providers).browser()
    callback_url = providers.fake.consent(start_login(browser), ALICE)
    assert finish_login(browser, callback_url).status_code == 302

    replay = finish_login(browser, callback_url)

    assert replay.status_code == 302
    assert error_of(replay) == "session_expired"
    assert SESSION_COOKIE not in replay.cookies
    assert counts(store)["sessions"] == 1
    assert providers.fake.token_requests == 1


def test_a_callback_in_another_browser_leaves_the_state_for_the_right_one(
    store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(store, providers)
    victim = app.browser()
    authorization_url = start_login(victim)
    state_key = AUTH_REQUEST_PREFIX + query(authorization_url)["state"]
    callback_url = providers.fake.consent(authorization_url, ALICE)

    stolen = finish_login(app.browser(), callback_url)

    assert stolen.status_code == 400
    assert error_of(stolen) == "invalid_request"
    assert counts(store) == EMPTY
    # Checked before consuming: the attempt is still there for its own browser.
    assert store.secondary.get(state_key) is not None
    assert finish_login(victim, callback_url).status_code == 302
    assert counts(store)["sessions"] == 1


def test_denied_consent_creates_nothing(store: lite.LiteStore, providers: Providers) -> None:
    browser = make_app(store, providers).browser()
    authorization_url = start_login(browser)

    response = finish_login(browser, providers.fake.deny(authorization_url))

    assert response.status_code == 400
    assert error_of(response) == "access_denied"
    assert counts(store) == EMPTY
    assert store.secondary.keys(AUTH_REQUEST_PREFIX) == []
    assert providers.fake.token_requests == 0


def test_a_code_the_provider_rejects_creates_nothing(
    store: lite.LiteStore, providers: Providers
) -> None:
    browser = make_app(store, providers).browser()
    callback_url = providers.fake.consent(start_login(browser), ALICE)
    params = query(callback_url)
    forged = callback_url.replace(params["code"], "forged-code")

    response = finish_login(browser, forged)

    assert response.status_code == 400
    assert error_of(response) == "server_error"
    assert counts(store) == EMPTY


def test_a_verifier_lost_on_the_way_through_the_store_fails_at_the_provider(
    store: lite.LiteStore, providers: Providers
) -> None:
    # The control for every successful PKCE sign-in here: the provider really
    # checks the verifier the app fetched back from the cache.
    browser = make_app(store, providers).browser()
    authorization_url = start_login(browser)
    state_key = AUTH_REQUEST_PREFIX + query(authorization_url)["state"]
    stored = json.loads(store.secondary.get(state_key) or "null")
    stored["provider_code_verifier"] = pkce_pair()[0]
    store.secondary.set(state_key, json.dumps(stored), ttl=60)

    response = finish_login(browser, providers.fake.consent(authorization_url, ALICE))

    assert response.status_code == 400
    assert error_of(response) == "server_error"
    assert counts(store) == EMPTY
    assert providers.fake.token_requests == 1
    assert providers.fake.issued == []


# Two callbacks racing for one state


class Rendezvous:
    """Passes every call to the real secondary storage; holds state reads at a barrier.

    Each callback reads the authorization request, then pops it. Holding both
    readers until both have read makes the two callbacks race at the pop,
    which the cache alone must arbitrate.
    """

    def __init__(self, storage: lite.DiskCacheStorage, barrier: threading.Barrier) -> None:
        self._storage = storage
        self._barrier = barrier

    def get(self, key: str) -> str | None:
        value = self._storage.get(key)
        if key.startswith(AUTH_REQUEST_PREFIX):
            self._barrier.wait()
        return value

    def set(self, key: str, value: str, ttl: int | None = None) -> None:
        self._storage.set(key, value, ttl)

    def delete(self, key: str) -> None:
        self._storage.delete(key)

    def pop(self, key: str) -> str | None:
        return self._storage.pop(key)


@pytest.mark.parametrize("interleaving", ["forced", "free"])
def test_concurrent_callbacks_for_one_state_complete_once(
    tmp_path: Path, providers: Providers, interleaving: str
) -> None:
    with lite.open(tmp_path / "store") as store:
        barrier = threading.Barrier(2, timeout=10)
        # Two app instances on the one store, like two workers behind a proxy.
        storage = Rendezvous(store.secondary, barrier) if interleaving == "forced" else None
        workers = [make_app(store, providers, storage=storage) for _ in range(2)]
        first = workers[0].browser()
        # The browser double-submits: both requests carry its binding cookie.
        authorization_url = start_login(first)
        callback_url = providers.fake.consent(authorization_url, ALICE)
        second = workers[1].browser()
        copy_cookies(first, second)
        start = threading.Barrier(2, timeout=10)
        responses: list[httpx.Response | BaseException | None] = [None, None]

        def callback(index: int, client: Any) -> None:
            try:
                if interleaving == "free":
                    start.wait()
                responses[index] = finish_login(client, callback_url)
            except BaseException as error:  # surfaced by the assertions below
                responses[index] = error

        threads = [
            threading.Thread(target=callback, args=(index, client))
            for index, client in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        results = [response for response in responses if isinstance(response, httpx.Response)]
        assert len(results) == 2, responses
        winners = [response for response in results if SESSION_COOKIE in response.cookies]
        losers = [response for response in results if SESSION_COOKIE not in response.cookies]
        assert len(winners) == 1
        assert winners[0].status_code == 302
        assert winners[0].headers["location"] == "/"
        (loser,) = losers
        if interleaving == "forced":
            # Both had read the state; the atomic pop let only one through.
            assert loser.status_code == 400
            assert json.loads(loser.text) == {
                "error": "invalid_request",
                "error_description": "OAuth callback has already been used",
            }
        else:
            assert error_of(loser) in {"invalid_request", "session_expired"}
        assert counts(store) == {
            "users": 1,
            "social_accounts": 1,
            "sessions": 1,
            "unrevoked_sessions": 1,
        }
        assert session_row(store, winners[0].cookies[SESSION_COOKIE]) is not None
        # The loser never reached the provider: the code was exchanged once.
        assert providers.fake.token_requests == 1
        assert store.secondary.keys(AUTH_REQUEST_PREFIX) == []


# The state's lifetime


def test_state_past_cross_auths_ttl_cannot_complete(
    store: lite.LiteStore, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cross-Auth's only knob for this lifetime is its module constant (10 minutes);
    # shortening it shortens the TTL it passes to the cache.
    monkeypatch.setattr(_auth_flow, "_AUTH_REQUEST_TTL", timedelta(seconds=1))
    browser = make_app(store, providers).browser()
    authorization_url = start_login(browser)
    state_key = AUTH_REQUEST_PREFIX + query(authorization_url)["state"]
    _, expire_time = store.secondary.cache.get(state_key, expire_time=True)
    assert 0 < expire_time - time.time() <= 1
    callback_url = providers.fake.consent(authorization_url, ALICE)

    time.sleep(max(0.0, expire_time - time.time()) + 0.05)

    # The cache itself no longer has it, before any clean-up ran.
    assert store.secondary.get(state_key) is None
    assert store.secondary.keys(AUTH_REQUEST_PREFIX) == []
    assert len(store.secondary) == 0
    response = finish_login(browser, callback_url)
    assert response.status_code == 302
    assert error_of(response) == "session_expired"
    assert counts(store) == EMPTY
    assert providers.fake.token_requests == 0


def test_cache_expiry_alone_stops_the_callback(
    store: lite.LiteStore, providers: Providers
) -> None:
    browser = make_app(store, providers).browser()
    authorization_url = start_login(browser)
    state_key = AUTH_REQUEST_PREFIX + query(authorization_url)["state"]
    callback_url = providers.fake.consent(authorization_url, ALICE)
    # Same value, so Cross-Auth's own expires_at is still minutes away: only the
    # cache's TTL can refuse this attempt.
    value = store.secondary.get(state_key)
    assert value is not None
    assert datetime.fromisoformat(json.loads(value)["expires_at"]) > datetime.now(UTC)
    store.secondary.set(state_key, value, ttl=0.1)

    time.sleep(0.15)

    response = finish_login(browser, callback_url)
    assert response.status_code == 302
    assert error_of(response) == "session_expired"
    assert counts(store) == EMPTY


def test_state_within_its_ttl_completes_after_a_wait(
    store: lite.LiteStore, providers: Providers
) -> None:
    # The control for the two tests above: same flow, state still live.
    browser = make_app(store, providers).browser()
    authorization_url = start_login(browser)
    state_key = AUTH_REQUEST_PREFIX + query(authorization_url)["state"]
    value = store.secondary.get(state_key)
    assert value is not None
    store.secondary.set(state_key, value, ttl=5)
    time.sleep(0.15)

    response = finish_login(browser, providers.fake.consent(authorization_url, ALICE))

    assert response.status_code == 302
    assert SESSION_COOKIE in response.cookies
