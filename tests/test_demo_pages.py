"""The demo's pages: escaping, error display, identity linking, request checks."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.demo import create_app
from cross_auth_lite.demo.notices import SESSION_ENDED
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
        assert b.url == f"{BASE}/"  # the outcome is in a flash cookie, not the URL
        assert b.page.text("problem") == (
            "Sign-in cancelled: you cancelled at the provider, so nothing changed."
        )
        assert "Authorization failed" not in b.text
        assert b.page.text("signed-in-email") is None

        b.sign_in()
        b.go("/profile")
        b.click("Link another identity")
        b.submit(button="Cancel")
        assert b.url == f"{BASE}/profile"  # back where the link started
        assert b.page.text("problem") == (
            "Linking cancelled: you cancelled at the provider, so no identity was linked."
        )
        assert b.text.count('class="account"') == 1


def test_the_consent_form_says_where_the_name_goes(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        assert b.page.text("name-hint") == (
            "Sent to the app as the profile's name; the demo stores no names, "
            "so you will not see it again."
        )
        assert 'aria-describedby="name-hint"' in b.text
        b.submit(action="/dev-oauth/authorize", button="Sign in", name="Nobody Shown")
        assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email
        assert "Nobody Shown" not in b.text
        b.go("/profile")
        assert DEFAULT_IDENTITY.email in b.text
        assert "Nobody Shown" not in b.text  # as the hint says


def test_the_consent_form_says_the_user_id_decides_who_signs_in(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as b:
        b.sign_in()
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        assert b.page.text("sub-hint") == (
            "Decides who signs in, as a real provider's account id does: change it (and the "
            "email) to be someone else. Changing only the email updates that person's "
            "provider email."
        )
        assert 'aria-describedby="sub-hint"' in b.text
        assert "edit the fields to be someone else" not in b.text
        # As the hint says: the same user id with another email is the same person...
        b.submit(action="/dev-oauth/authorize", button="Sign in", email="grace@example.com")
        assert b.page.text("greeting") == "Welcome back"
        assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email
        ada = store.accounts.find_user_by_email(DEFAULT_IDENTITY.email)
        assert ada is not None
        (identity,) = store.accounts.list_social_accounts(user_id=ada.id)
        assert identity.provider_email == "grace@example.com"
        b.go("/profile")
        b.click("Link another identity")
        assert b.page.text("sub-hint") == (
            "Decides which identity is linked. It is filled in with a new one; type the id "
            "of an identity you already have and nothing changes."
        )
    with browser_for(app) as b:  # ...and another user id with another email is someone else
        b.sign_in(email="grace@example.com", sub="dev-grace")
        assert b.page.text("greeting") == "Welcome"
        assert b.page.text("signed-in-email") == "grace@example.com"


def test_an_invalid_identity_is_asked_for_again(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        response = b.submit(action="/dev-oauth/authorize", button="Sign in", email="nobody")
        assert response.status_code == 400
        assert "Enter an email address." in b.text
        b.submit(action="/dev-oauth/authorize", button="Sign in", email="fixed@example.com")
        assert b.page.text("signed-in-email") == "fixed@example.com"


def test_a_field_too_long_is_named(app: FastAPI) -> None:
    long_email = "a" * 190 + "@example.com"
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        response = b.submit(action="/dev-oauth/authorize", button="Sign in", sub="x" * 201)
        assert response.status_code == 400
        assert b.page.text("problem") == (
            "The provider user id is too long: keep it to 200 characters or fewer."
        )
        b.submit(action="/dev-oauth/authorize", button="Sign in", name="n" * 201, sub="x" * 201)
        assert b.page.text("problem") == (
            "The name and provider user id are too long: keep each to 200 characters or fewer."
        )
        b.submit(
            action="/dev-oauth/authorize",
            button="Sign in",
            name="n" * 201,
            email=long_email,
            sub="x" * 200,
        )
        assert b.page.text("problem") == (
            "The name and email are too long: keep each to 200 characters or fewer."
        )
        b.submit(action="/dev-oauth/authorize", button="Sign in", name="Ada", email="a@b.c")
        assert b.page.text("signed-in-email") == "a@b.c"


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
            assert 'id="done"' not in response.text
        assert signed_in_email(b) == DEFAULT_IDENTITY.email
    assert store.sessions.get_any(bobs).revoked_at is None


def test_the_sessions_table_says_once_that_times_are_utc_and_cuts_long_browser_names(
    app: FastAPI,
) -> None:
    agent = "ExampleEmbeddedBrowserWithAVeryLongName/99.1 (" + "x" * 120 + ")"
    with browser_for(app) as elsewhere:
        elsewhere.client.headers["User-Agent"] = agent
        elsewhere.sign_in()
    with browser_for(app) as b:
        b.sign_in()
        b.go("/profile")
        sessions = b.text[b.text.index("Active sessions") :]
        assert "Times are UTC." in sessions
        assert "(UTC)" not in b.text
        heads = re.findall(r"<th>([^<]*)</th>", sessions)
        assert heads == ["Session", "Browser", "Started", "Last active", "Expires", ""]
        cells = re.findall(r'data-label="Browser" title="([^"]*)"><span>([^<]*)', sessions)
        assert (agent, "ExampleEmbeddedBrow\u2026") in cells  # the whole of it in a tooltip
        this_browser = next(row for row in sessions.split("<tr")[2:] if "badge" in row)
        assert ">Sign out</button>" in this_browser


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
        b.submit(button="Link identity", sub="dev-ada-third")
        assert b.url == f"{BASE}/profile"
        assert b.page.text("done") == (
            "Identity linked: the dev identity \u201cdev-ada-third\u201d is now linked to "
            "your account."
        )
        assert b.text.count('class="account"') == 3
        assert "dev-ada-third" in b.text

    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        assert b.page.forms[0].fields["email_verified"] == "on"
        # Unverified, the same email is not enough to join the existing user.
        b.submit(button="Sign in", unset=("email_verified",), sub="dev-ada-4")
        assert b.url == f"{BASE}/"
        problem = b.page.text("problem") or ""
        assert problem.startswith("Not signed in: an account with this email already exists")
        assert "the provider did not say the email is verified" in problem
        # What would help is said: tick verified; linking alone does not let it sign in.
        assert "To sign in with it, sign in again and tick that the provider verified" in (problem)
        assert "only connects it to the account: signing in with it is still refused" in (problem)
        assert "then link this identity from your profile" not in problem
        assert b.page.text("signed-in-email") is None
        b.go("/auth/dev/login")
        b.submit(button="Sign in", sub="dev-ada-4")  # verified ticked, as it says
        assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email


def test_a_forged_link_puts_no_words_on_the_page(app: FastAPI) -> None:
    forged = "error=bogus&error_description=%3Cb%3Ehi%3C%2Fb%3E+you+have+been+hacked"
    with browser_for(app) as b:
        b.go(f"/?{forged}")
        assert b.page.text("problem") is None
        assert "hacked" not in b.text
        b.sign_in()
        b.go(f"/profile?{forged}&flow=link")
        assert b.page.text("problem") is None
        assert "hacked" not in b.text
        # A made-up callback error reaches the page only as the demo's own words.
        b.go("/auth/dev/callback?error=you_have_been_hacked&error_description=hacked")
        assert b.url == f"{BASE}/"
        assert b.page.text("problem") == (
            "That sign-in attempt was not used: it did not complete, for a reason this demo "
            f"has no explanation for. You are still signed in as {DEFAULT_IDENTITY.email}."
        )
        assert "hacked" not in b.text
        # Nor does a flash cookie with text in it, from wherever it came.
        b.client.cookies.set("cross_auth_lite_flash", "sign-in.<b>hi</b>..", "testserver.local")
        b.go("/")
        assert b.page.text("problem") is None
        assert "cross_auth_lite_flash" not in b.client.cookies  # cleared all the same


def test_the_outcome_travels_in_a_short_lived_cookie_shown_once(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        assert b.page.text("consent-heading") == "Sign in to the demo"
        b.submit(action="/dev-oauth/authorize", button="Cancel")
        assert b.response is not None
        (redirect,) = [r for r in b.response.history if "/auth/dev/callback" in str(r.url)]
        flash = next(c for c in redirect.headers.get_list("set-cookie") if "_flash=" in c)
        assert flash.startswith("cross_auth_lite_flash=sign-in.access_denied.provider.;")
        for attribute in ("Max-Age=60", "Path=/", "HttpOnly", "SameSite=Lax"):
            assert attribute in flash
        assert (b.page.text("problem") or "").startswith("Sign-in cancelled")
        b.go("/")
        assert b.page.text("problem") is None
        # An attempt that expired (Cross-Auth redirects it with ?error= itself).
        b.go("/auth/dev/callback?state=0123abcd&code=x")
        assert b.url == f"{BASE}/"
        assert b.page.text("problem") == (
            "Not signed in: that sign-in attempt had expired or was already used. Sign in again."
        )


def test_a_sign_in_attempt_that_fails_while_signed_in_says_you_still_are(app: FastAPI) -> None:
    unused = "That sign-in attempt was not used: "
    still = f" You are still signed in as {DEFAULT_IDENTITY.email}."
    with browser_for(app) as b:
        b.go("/")
        b.click("Sign in")
        consent = b.url
        signed_in = b.submit(action="/dev-oauth/authorize", button="Sign in")
        callback = next(str(r.url) for r in signed_in.history if "/callback" in str(r.url))
        replays = {
            "Back to the provider's form, Sign in again": lambda: (
                b.go(consent),
                b.submit(action="/dev-oauth/authorize", button="Sign in"),
            ),
            "the callback replayed": lambda: b.go(callback),
        }
        for how, replay in replays.items():
            replay()
            assert b.url == f"{BASE}/", how
            assert b.page.text("problem") == (
                "That sign-in form had already been used or had expired, so nothing "
                f"changed: you are still signed in as {DEFAULT_IDENTITY.email}."
            ), how
            assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email
            assert "Not signed in" not in b.text
            assert "Sign in again" not in b.text
        b.go("/auth/dev/callback")  # opened bare
        assert b.page.text("problem") == (
            f"{unused}it did not complete, for a reason this demo has no explanation for.{still}"
        )
        assert "Try again" not in b.text
        b.go(consent)
        b.submit(action="/dev-oauth/authorize", button="Cancel")
        cancelled = "Sign-in cancelled: you cancelled at the provider."
        assert b.page.text("problem") == cancelled + still
        assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email
    with browser_for(app) as signed_out:  # signed out, the words are unchanged
        signed_out.go("/auth/dev/callback")
        assert signed_out.page.text("problem") == (
            "Sign-in did not complete, for a reason this demo has no explanation for. Try again."
        )
        signed_out.go(callback)
        assert signed_out.page.text("problem") == (
            "Not signed in: that sign-in attempt had expired or was already used. Sign in again."
        )


def test_linking_the_identity_you_signed_in_with_says_it_already_is(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.sign_in()
        b.go("/profile")
        b.click("Link another identity")  # prefilled with a new one: type the one you have
        assert b.page.text("consent-heading") == "Link an identity"
        b.submit(button="Link identity", sub=DEFAULT_IDENTITY.sub)
        assert b.url == f"{BASE}/profile"
        assert b.page.text("done") == (
            "Nothing changed: that identity is already linked to your account."
        )
        assert b.text.count('class="account"') == 1
        assert "cross_auth_lite_demo_had" not in b.client.cookies


def test_a_session_revoked_elsewhere_says_the_session_ended(app: FastAPI) -> None:
    with browser_for(app) as b, browser_for(app) as other:
        b.sign_in()
        b.go("/profile")
        (mine,) = re.findall(r'data-session-id="([^"]+)">(?:(?!</tr>).)*class="badge"', b.text)
        other.sign_in()
        other.go("/profile")
        other.submit(action=f"/sessions/{mine}/revoke", button="Revoke")
        b.go("/profile")
        assert b.url == f"{BASE}/"
        assert b.page.text("problem") == SESSION_ENDED
        assert "You are signed out." in b.text
        b.go("/")
        assert b.page.text("problem") is None  # said once
