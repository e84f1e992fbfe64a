"""The demo's pages: escaping, error display, identity linking, request checks."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.demo import create_app
from cross_auth_lite.dev import DEFAULT_IDENTITY
from tests.test_demo import BASE, browser_for, signed_in_email


@pytest.fixture
def app(store: lite.LiteStore) -> FastAPI:
    return create_app(store, base_url=BASE)


def test_provider_supplied_values_are_escaped(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.sign_in(name="<i>x</i>", email="o'<b>x</b>@example.com", sub="<script>1</script>")
        assert b.page.text("signed-in-email") == "o'<b>x</b>@example.com"
        assert "<b>x</b>" not in b.text
        assert "o&#x27;&lt;b&gt;x&lt;/b&gt;@example.com" in b.text
        b.go("/profile")
        assert "<script>1</script>" not in b.text
        assert "&lt;script&gt;1&lt;/script&gt;" in b.text


def test_cancelling_at_the_provider_says_you_cancelled(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        b.submit(action="/dev-oauth/authorize", button="Cancel")
        assert b.url.startswith(f"{BASE}/?error=access_denied")
        assert b.page.text("problem") == (
            "Sign-in cancelled: you cancelled at the provider, so nothing changed."
        )
        assert "Authorization failed" not in b.text
        assert b.page.text("signed-in-email") is None

        b.sign_in()
        b.go("/profile")
        b.click("Link another identity")
        b.submit(button="Cancel")
        assert b.url.startswith(f"{BASE}/profile?")  # back where the link started
        assert b.page.text("problem") == (
            "Linking cancelled: you cancelled at the provider, so no identity was linked."
        )
        assert b.text.count('class="account"') == 1


def test_an_invalid_identity_is_asked_for_again(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        response = b.submit(action="/dev-oauth/authorize", button="Sign in", email="nobody")
        assert response.status_code == 400
        assert "Enter an email address." in b.text
        b.submit(action="/dev-oauth/authorize", button="Sign in", email="fixed@example.com")
        assert b.page.text("signed-in-email") == "fixed@example.com"


def test_cross_origin_posts_are_refused(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.sign_in()
        evil = {"Origin": "http://evil.example"}
        assert b.client.post("/sign-out", headers=evil).status_code == 403
        assert signed_in_email(b) == DEFAULT_IDENTITY.email


def test_revoking_a_session_that_is_not_yours_changes_nothing(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as bob:
        bob.sign_in(email="bob@example.com", sub="dev-bob")
        bob.go("/profile")
        (bobs,) = bob.session_ids()
    with browser_for(app) as b:
        b.sign_in()
        for target in (bobs, "not-a-session"):
            response = b.client.post(f"/sessions/{target}/revoke")
            assert response.url == f"{BASE}/profile"  # quietly back to the profile
        assert signed_in_email(b) == DEFAULT_IDENTITY.email
    assert store.sessions.get_any(bobs).revoked_at is None


def test_home_warns_when_opened_under_another_host_name(app: FastAPI) -> None:
    with TestClient(app, base_url="http://localhost") as client:
        response = client.get("/")
    assert "Sign-in only works at the address the demo was started with" in response.text
    assert f'href="{BASE}/"' in response.text


def test_identities_link_by_verified_email_or_from_the_profile(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.sign_in()
    with browser_for(app) as b:
        b.sign_in(sub="dev-ada-work")  # same email, verified: the same user
        assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email
        b.go("/profile")
        assert b.text.count('class="account"') == 2

        b.click("Link another identity")  # Cross-Auth's connect flow
        b.submit(button="Sign in", sub="dev-ada-third")
        assert b.url == f"{BASE}/profile"
        assert b.text.count('class="account"') == 3
        assert "dev-ada-third" in b.text

    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        assert b.page.forms[0].fields["email_verified"] == "on"
        # Unverified, the same email is not enough to join the existing user.
        b.submit(button="Sign in", unset=("email_verified",), sub="dev-ada-4")
        assert "error=" in b.url
        assert "Sign-in failed" in b.text
        assert b.page.text("signed-in-email") is None
