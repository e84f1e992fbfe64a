"""Sessions through the router: listing, revoking, logging out, expiry, and restarts.

Every session here was issued by a real browser sign-in (``tests.oauth.sign_in``)
and is checked both through HTTP and in the store's ``sessions`` table.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.oauth import (
    ALICE,
    AUTH_REQUEST_PREFIX,
    BOB,
    SESSION_COOKIE,
    AuthApp,
    Providers,
    copy_cookies,
    counts,
    finish_login,
    make_app,
    make_config,
    mock_providers,
    session_row,
    sign_in,
    start_login,
)

# Portable mode is covered by the storages' contract tests and the sign-in flow.
pytestmark = pytest.mark.all_backends


@pytest.fixture
def providers() -> Iterator[Providers]:
    with mock_providers() as mocked:
        yield mocked


@pytest.fixture
def app(store: lite.LiteStore, providers: Providers) -> AuthApp:
    return make_app(store, providers)


def _token(browser: Any) -> str:
    token = browser.cookies.get(SESSION_COOKIE)
    assert token, "the browser holds no session cookie"
    return str(token)


def _row(store: lite.LiteStore, browser: Any) -> Any:
    row = session_row(store, _token(browser))
    assert row is not None
    return row


def _with_token(app: AuthApp, token: str) -> Any:
    """A new browser presenting ``token`` (e.g. a cookie kept after logout)."""
    browser = app.browser()
    browser.cookies.set(SESSION_COOKIE, token)
    return browser


# Listing and revoking


def test_listing_shows_the_users_sessions_newest_first(
    store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    laptop = sign_in(app.browser("laptop/1"), providers, ALICE)
    phone = sign_in(app.browser("phone/1"), providers, ALICE)
    sign_in(app.browser("bob/1"), providers, BOB)

    listing = laptop.get("/sessions")

    assert listing.status_code == 200
    assert listing.json() == [
        {
            "id": _row(store, phone).id,
            "status": "active",
            "user_agent": "phone/1",
            "current": False,
        },
        {
            "id": _row(store, laptop).id,
            "status": "active",
            "user_agent": "laptop/1",
            "current": True,
        },
    ]
    assert [entry["current"] for entry in phone.get("/sessions").json()] == [True, False]


def test_revoking_a_session_signs_that_browser_out(
    store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    laptop = sign_in(app.browser("laptop/1"), providers, ALICE)
    phone = sign_in(app.browser("phone/1"), providers, ALICE)
    phone_id = _row(store, phone).id
    before = datetime.now(UTC)

    assert laptop.delete(f"/sessions/{phone_id}").status_code == 204

    assert phone.get("/me").status_code == 401
    assert laptop.get("/me").status_code == 200
    revoked = store.models.Session.get_by_id(phone_id)
    assert revoked.revoked_at is not None
    assert before - timedelta(seconds=1) <= revoked.revoked_at <= datetime.now(UTC)
    assert revoked.status == "revoked"
    assert _row(store, laptop).revoked_at is None
    assert [
        (entry["user_agent"], entry["status"]) for entry in laptop.get("/sessions").json()
    ] == [
        ("phone/1", "revoked"),
        ("laptop/1", "active"),
    ]


def test_a_user_cannot_revoke_someone_elses_session(
    store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = sign_in(app.browser(), providers, ALICE)
    bob = sign_in(app.browser(), providers, BOB)

    assert bob.delete(f"/sessions/{_row(store, alice).id}").status_code == 204

    assert alice.get("/me").status_code == 200
    assert _row(store, alice).revoked_at is None
    assert bob.delete("/sessions/not-an-id").status_code == 204
    assert counts(store)["unrevoked_sessions"] == 2


def test_revoking_the_other_sessions_keeps_this_one(
    store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    browsers = [sign_in(app.browser(f"b/{n}"), providers, ALICE) for n in range(3)]
    bob = sign_in(app.browser(), providers, BOB)

    response = browsers[0].post("/sessions/revoke-others")

    assert response.json() == {"revoked": 2}
    assert [b.get("/me").status_code for b in browsers] == [200, 401, 401]
    assert bob.get("/me").status_code == 200
    assert counts(store) == {
        "users": 2,
        "social_accounts": 2,
        "sessions": 4,
        "unrevoked_sessions": 2,
    }


# Logout


def test_logout_revokes_the_session_and_clears_the_cookie(
    store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    browser = sign_in(app.browser(), providers, ALICE)
    other_device = sign_in(app.browser(), providers, ALICE)
    token = _token(browser)

    response = browser.post("/logout")

    assert response.status_code == 204
    (cleared,) = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("session_id=")
    ]
    assert "Max-Age=0" in cleared
    assert browser.cookies.get(SESSION_COOKIE) is None
    row = session_row(store, token)
    assert row is not None
    assert row.revoked_at is not None
    assert row.status == "revoked"
    assert store.sessions.get(token_hash=row.token_hash, now=datetime.now(UTC)) is None
    # A copy of the old cookie no longer works; the other device is untouched.
    assert _with_token(app, token).get("/me").status_code == 401
    assert other_device.get("/me").status_code == 200

    revoked_at = row.revoked_at
    assert browser.post("/logout").status_code == 204
    assert _with_token(app, token).post("/logout").status_code == 204
    assert session_row(store, token).revoked_at == revoked_at
    assert counts(store)["unrevoked_sessions"] == 1


def test_logout_everywhere_revokes_every_session_of_the_user(
    store: lite.LiteStore, providers: Providers, app: AuthApp
) -> None:
    alice = [sign_in(app.browser(), providers, ALICE) for _ in range(3)]
    bob = sign_in(app.browser(), providers, BOB)

    assert alice[0].post("/logout", json={"scope": "all"}).status_code == 204

    assert [browser.get("/me").status_code for browser in alice] == [401, 401, 401]
    assert bob.get("/me").status_code == 200
    alice_id = store.models.User.get(store.models.User.email == ALICE.email).id
    now = datetime.now(UTC)
    assert len(store.sessions.list_for_user(alice_id, now=now, status="revoked").records) == 3
    assert store.sessions.list_for_user(alice_id, now=now, status="active").records == []
    assert counts(store)["unrevoked_sessions"] == 1


# Lifetime


def test_a_session_past_its_max_age_no_longer_authenticates(
    store: lite.LiteStore, providers: Providers
) -> None:
    config = make_config(store, session={"max_age": 1})
    app = make_app(store, providers, config=config)
    browser = sign_in(app.browser(), providers, ALICE)
    row = _row(store, browser)
    assert row.expires_at - row.created_at == timedelta(seconds=1)
    token = _token(browser)

    time.sleep(max(0.0, (row.expires_at - datetime.now(UTC)).total_seconds()) + 0.05)

    # A browser that ignores Max-Age still presents the cookie: the store refuses it.
    assert _with_token(app, token).get("/me").status_code == 401
    page = store.sessions.list_for_user(row.user_id, now=datetime.now(UTC), status="expired")
    assert [record.id for record in page.records] == [row.id]


def test_a_sliding_session_rolls_forward_on_use(
    store: lite.LiteStore, providers: Providers
) -> None:
    config = make_config(store, session={"max_age": 3600, "update_age": 0})
    app = make_app(store, providers, config=config, sliding=True)
    browser = sign_in(app.browser(), providers, ALICE)
    issued = _row(store, browser)
    time.sleep(0.01)

    response = browser.get("/me")

    assert response.status_code == 200
    rolled = [h for h in response.headers.get_list("set-cookie") if h.startswith("session_id=")]
    assert len(rolled) == 1
    assert "Max-Age=3600" in rolled[0]
    refreshed = _row(store, browser)
    assert refreshed.id == issued.id
    assert refreshed.expires_at > issued.expires_at
    assert refreshed.updated_at > issued.updated_at
    assert refreshed.last_active_at > issued.last_active_at
    assert refreshed.created_at == issued.created_at

    # A revoked session is not rolled forward.
    store.sessions.revoke(issued.id, revoked_at=datetime.now(UTC))
    response = browser.get("/me")
    assert response.status_code == 401
    assert _row(store, browser).expires_at == refreshed.expires_at


# Restarts


@pytest.mark.parametrize("shared", [False, True])
def test_a_session_survives_closing_and_reopening_the_store(
    tmp_path: Path, providers: Providers, shared: bool
) -> None:
    path = tmp_path / "auth"
    with lite.open(path, shared_connections=shared) as store:
        old_browser = sign_in(make_app(store, providers).browser(), providers, ALICE)
        me = old_browser.get("/me").json()
        token = _token(old_browser)

    with lite.open(path, shared_connections=shared) as reopened:
        app = make_app(reopened, providers)
        browser = app.browser()
        copy_cookies(old_browser, browser)

        assert browser.get("/me").json() == me
        (entry,) = browser.get("/sessions").json()
        assert entry["current"] is True
        assert browser.post("/logout").status_code == 204
        assert browser.get("/me").status_code == 401

    with lite.open(path, shared_connections=shared) as third:
        row = session_row(third, token)
        assert row is not None
        assert row.revoked_at is not None
        assert counts(third) == {
            "users": 1,
            "social_accounts": 1,
            "sessions": 1,
            "unrevoked_sessions": 0,
        }


def test_a_sign_in_started_before_a_restart_completes_after_it(
    tmp_path: Path, providers: Providers
) -> None:
    path = tmp_path / "auth"
    with lite.open(path) as store:
        browser = make_app(store, providers).browser()
        callback_url = providers.fake.consent(start_login(browser, next_url="/after"), ALICE)

    with lite.open(path) as reopened:
        resumed = make_app(reopened, providers).browser()
        copy_cookies(browser, resumed)

        response = finish_login(resumed, callback_url)

        assert response.status_code == 302, response.text
        assert response.headers["location"] == "/after"
        assert resumed.get("/me").json()["email"] == ALICE.email
        assert reopened.secondary.keys(AUTH_REQUEST_PREFIX) == []
        assert counts(reopened)["sessions"] == 1
