"""The demo's sessions as the profile shows them: Last active, revoking one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

import cross_auth_lite as lite
from cross_auth_lite.demo import create_app
from cross_auth_lite.demo.app import SESSION_UPDATE_AGE
from tests.test_demo import BASE, Browser, browser_for


@pytest.fixture
def app(store: lite.LiteStore) -> FastAPI:
    return create_app(store, base_url=BASE)


def last_active(b: Browser, session_id: str) -> str:
    row = b.text[b.text.index(f'data-session-id="{session_id}"') :]
    found = re.search(r'data-label="Last active">([^<]*)<', row)
    assert found is not None
    return found.group(1)


def test_a_later_request_updates_last_active(app: FastAPI, store: lite.LiteStore) -> None:
    with browser_for(app) as b:
        b.sign_in()
        b.go("/profile")
        (session_id,) = b.session_ids()
        # Move the session back an hour, as if signed in then: Cross-Auth's own
        # refresh path, with earlier times.
        earlier = datetime.now(UTC) - timedelta(hours=1)
        assert SESSION_UPDATE_AGE < 3600
        record = store.sessions.get_any(session_id)
        assert store.sessions.refresh(
            session_id,
            updated_at=earlier,
            expires_at=record.expires_at,
            last_active_at=earlier,
        )
        then = earlier.strftime("%b %d, %H:%M")
        rolled = b.go("/")
        # The cookie rolls with it, so the browser keeps the session as long.
        assert "cross_auth_lite_demo_session=" in rolled.headers.get("set-cookie", "")
        b.go("/profile")
        now = store.sessions.get_any(session_id).last_active_at
        assert now > earlier + timedelta(minutes=59)
        assert last_active(b, session_id) == now.strftime("%b %d, %H:%M") != then


def test_a_request_soon_after_leaves_last_active_alone(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as b:
        b.sign_in()
        b.go("/profile")
        (session_id,) = b.session_ids()
        before = store.sessions.get_any(session_id)
        b.go("/profile")
        after = store.sessions.get_any(session_id)
        assert after.last_active_at == before.last_active_at
        assert after.updated_at == before.updated_at


def test_signing_in_again_in_the_same_browser_starts_another_session_as_it_says(
    app: FastAPI,
) -> None:
    with browser_for(app) as b:
        b.sign_in()
        b.go("/auth/dev/login")
        b.submit(action="/dev-oauth/authorize", button="Sign in")
        b.go("/profile")
        assert len(b.session_ids()) == 2
        assert "Each sign-in starts a session, in this browser too" in b.text
        assert "Each browser that signs in gets its own session" not in b.text


def test_revoking_another_session_says_it_was_revoked_once(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as b, browser_for(app) as laptop:
        b.sign_in()
        laptop.sign_in()
        b.go("/profile")
        (other,) = re.findall(r'data-session-id="([^"]+)">(?:(?!</tr>).)*>Revoke<', b.text)
        b.submit(action=f"/sessions/{other}/revoke", button="Revoke")
        assert b.url == f"{BASE}/profile"
        assert b.page.text("done") == (
            "Session revoked: the browser using it is signed out on its next request."
        )
        assert other not in b.session_ids()
        b.go("/profile")
        assert b.page.text("done") is None
        # Sent again (Back, resubmit), the revoked session claims nothing.
        again = b.client.post(f"/sessions/{other}/revoke", headers={"Accept": "text/html"})
        assert 'id="done"' not in again.text
    assert store.sessions.get_any(other).revoked_at is not None
