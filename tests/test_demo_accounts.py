"""The demo's linked identities, greetings and error pages, as a new user meets them.

Unlinking (Cross-Auth's disconnect behind a POST form), what a linked-only
identity is and why it cannot sign in, a link that fails because another
user owns the identity, "Welcome" for a new user, cancelling, HTML 404 pages.
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.demo import create_app
from cross_auth_lite.dev import DEFAULT_IDENTITY
from tests.test_demo import BASE, HTML_ACCEPT, Browser, browser_for


@pytest.fixture
def app(store: lite.LiteStore) -> FastAPI:
    return create_app(store, base_url=BASE)


def account_ids(b: Browser) -> dict[str, str]:
    """Provider user id to social account id, from the profile page."""
    b.go("/profile")
    return dict(
        (sub, account_id)
        for account_id, sub in re.findall(
            r'data-account-id="([^"]+)">.*?<code>([^<]+)</code>', b.text
        )
    )


def link(b: Browser, sub: str) -> None:
    b.go("/profile")
    b.click("Link another identity")
    assert b.page.text("consent-heading") == "Link an identity"
    b.submit(button="Link identity", sub=sub)


def test_a_linked_only_identity_is_explained_and_its_sign_in_refusal_too(
    app: FastAPI,
) -> None:
    with browser_for(app) as b:
        b.sign_in()
        link(b, "dev-ada-linked")
        assert b.url == f"{BASE}/profile"
        rows = re.findall(r'<td data-label="Sign-in" class="sign-in">([^<]+)</td>', b.text)
        assert rows == ["yes", "linked only"]
        help_text = b.page.text("sign-in-help") or ""
        assert help_text == (
            "Sign-in yes: you can sign in with this identity. Linked only: the identity "
            "belongs to your account, and the app can use it to reach the provider for you, "
            "but you cannot sign in with it. An identity you link here is linked only: you "
            "keep signing in the way you do now. The last identity you can sign in with "
            "cannot be unlinked."
        )
        # Signing in with it from here is refused too, and Ada stays signed in.
        b.go("/auth/dev/login")
        b.submit(action="/dev-oauth/authorize", button="Sign in", sub="dev-ada-linked")
        assert b.page.text("problem") == (
            "That sign-in attempt was not used: that identity is linked to an account, but "
            f"not as a way to sign in. You are still signed in as {DEFAULT_IDENTITY.email}."
        )
        assert b.page.text("signed-in-email") == DEFAULT_IDENTITY.email

    with browser_for(app) as other:
        other.sign_in(sub="dev-ada-linked")
        assert other.page.text("signed-in-email") is None
        assert other.page.text("problem") == (
            "Not signed in: that identity is linked to an account, but not as a way to "
            "sign in. Sign in the way you usually do."
        )


def test_unlink_removes_a_linked_identity_but_never_the_last_way_to_sign_in(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as b:
        b.sign_in()
        link(b, "dev-ada-linked")
        ids = account_ids(b)
        assert set(ids) == {DEFAULT_IDENTITY.sub, "dev-ada-linked"}

        # The sign-in identity is the only way to sign in: no Unlink button for it...
        only = ids[DEFAULT_IDENTITY.sub]
        rows = re.findall(r'<tr class="account" data-account-id="([^"]+)">(.*?)</tr>', b.text)
        assert [(i, "Unlink" in row, "Cannot be unlinked" in row) for i, row in rows] == [
            (only, False, True),
            (ids["dev-ada-linked"], True, False),
        ]
        assert not [f for f in b.page.forms if f.action == f"/accounts/{only}/unlink"]
        # ...and the request a page from before would send is refused, and said why.
        b.response = b.client.post(f"/accounts/{only}/unlink", headers={"Accept": HTML_ACCEPT})
        assert b.url == f"{BASE}/profile"
        problem = b.page.text("problem") or ""
        assert problem.startswith(
            f"Not unlinked: the dev identity \u201c{DEFAULT_IDENTITY.sub}\u201d is your only "
            "way to sign in"
        )
        assert "(" not in problem  # no raw text from Cross-Auth
        assert len(account_ids(b)) == 2

        b.submit(action=f"/accounts/{ids['dev-ada-linked']}/unlink", button="Unlink")
        assert b.url == f"{BASE}/profile"
        assert b.page.text("done") == (
            "Identity unlinked: the dev identity \u201cdev-ada-linked\u201d is no longer "
            "linked to your account."
        )
        b.go("/profile")  # shown once
        assert b.page.text("done") is None
        assert "cross_auth_lite_demo_unlinked" not in b.client.cookies
        assert set(account_ids(b)) == {DEFAULT_IDENTITY.sub}

    user = store.accounts.find_user_by_email(DEFAULT_IDENTITY.email)
    assert user is not None
    (left,) = store.accounts.list_social_accounts(user_id=user.id)
    assert left.provider_user_id == DEFAULT_IDENTITY.sub


def test_unlink_takes_only_same_origin_posts_of_the_owner(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as bob:
        bob.sign_in(email="bob@example.com", sub="dev-bob")
        bobs = account_ids(bob)["dev-bob"]
    with browser_for(app) as b:
        b.sign_in()
        link(b, "dev-ada-linked")
        mine = account_ids(b)["dev-ada-linked"]

        evil = {"Origin": "http://evil.example", "Accept": HTML_ACCEPT}
        refused = b.client.post(f"/accounts/{mine}/unlink", headers=evil)
        assert refused.status_code == 403
        assert "Cross-origin request." in refused.text

        as_get = b.client.get(f"/accounts/{mine}/unlink", headers={"Accept": HTML_ACCEPT})
        assert as_get.status_code == 405
        assert "405 Method Not Allowed" in as_get.text

        # Bob's identity is not connected to Ada: Cross-Auth refuses, nothing goes.
        not_mine = b.client.post(f"/accounts/{bobs}/unlink", headers={"Accept": HTML_ACCEPT})
        assert str(not_mine.url) == f"{BASE}/profile"
        assert "Not unlinked: that identity is not linked to your account." in not_mine.text
    with browser_for(app) as anonymous:
        response = anonymous.client.post(f"/accounts/{mine}/unlink")
        assert response.url == f"{BASE}/"
    for sub in ("dev-bob", "dev-ada-linked"):
        assert store.accounts.find_social_account(provider="dev", provider_user_id=sub)


def test_linking_an_identity_another_user_owns_is_reported_as_the_link(
    app: FastAPI,
) -> None:
    with browser_for(app) as bob:
        bob.sign_in(email="bob@example.com", sub="dev-bob")
    with browser_for(app) as b:
        b.sign_in()
        link(b, "dev-bob")
        assert b.url == f"{BASE}/profile"
        assert b.page.text("problem") == (
            "Not linked: that identity is already linked to another user. Sign in as that "
            "user and unlink it there to link it here; an identity that is that user's "
            "only way to sign in cannot be unlinked."
        )
        assert "Sign-in" not in (b.page.text("problem") or "")
        assert b.text.count('class="account"') == 1
        # The link attempt's cookie is gone: a later failed sign-in is a sign-in again.
        assert "cross_auth_lite_linking" not in b.client.cookies


def test_the_first_sign_in_says_welcome_and_later_ones_welcome_back(app: FastAPI) -> None:
    with browser_for(app) as first:
        first.sign_in()
        assert first.page.text("greeting") == "Welcome"
        first.go("/")
        assert first.page.text("greeting") == "Welcome"  # still this browser's first session
        with browser_for(app) as laptop:
            laptop.sign_in()
            assert laptop.page.text("greeting") == "Welcome back"
        first.go("/sign-out")
        first.submit(action="/sign-out", button="Sign out")
        first.sign_in()
        assert first.page.text("greeting") == "Welcome back"


def test_unknown_pages_are_html_for_browsers_and_json_for_api_clients(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE) as client:
        for path in ("/nope", "/auth/nope"):
            page = client.get(path, headers={"Accept": HTML_ACCEPT})
            assert page.status_code == 404
            assert page.headers["content-type"].startswith("text/html")
            assert "404 Not Found" in page.text
            assert "There is no page at this address." in page.text
            api = client.get(path, headers={"Accept": "application/json"})
            assert api.status_code == 404
            assert api.json() == {"detail": "Not Found"}
        # Cross-Auth's own JSON errors stay JSON for API clients.
        anonymous = client.get("/auth/dev/connect", headers={"Accept": "application/json"})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"] == "unauthorized"


def test_the_link_form_as_offered_links_a_new_identity(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.sign_in()
        b.go("/profile")
        b.click("Link another identity")
        offered = b.page.forms[0].fields["sub"]
        assert offered != DEFAULT_IDENTITY.sub
        assert offered.startswith(f"{DEFAULT_IDENTITY.sub}-")
        b.submit(button="Link identity")  # as it is offered, nothing typed
        assert b.url == f"{BASE}/profile"
        assert b.page.text("problem") is None
        assert b.page.text("done") is not None
        assert set(account_ids(b)) == {DEFAULT_IDENTITY.sub, offered}
        b.click("Link another identity")  # each time a new one
        assert b.page.forms[0].fields["sub"] not in {DEFAULT_IDENTITY.sub, offered}


def test_a_link_form_sent_again_lands_on_the_profile_and_says_nothing_changed(
    app: FastAPI,
) -> None:
    with browser_for(app) as b:
        b.sign_in()
        b.go("/profile")
        b.click("Link another identity")
        consent = b.url
        b.submit(button="Link identity", sub="dev-ada-linked")
        assert b.page.text("done") is not None
        b.go(consent)  # Back to the provider's form, and send it again
        assert b.page.text("consent-heading") == "Link an identity"
        b.submit(button="Link identity", sub="dev-ada-linked")
        assert b.url == f"{BASE}/profile"
        assert b.page.text("problem") == (
            "That link form had already been used or had expired, so nothing changed. To "
            "link an identity, use Link another identity below."
        )
        assert b.text.count('class="account"') == 2
        # A sign-in form sent again afterwards is still a sign-in.
        b.go("/auth/dev/login")
        b.submit(action="/dev-oauth/authorize", button="Sign in")
        b.go("/auth/dev/login")
        sign_in = b.url
        b.submit(action="/dev-oauth/authorize", button="Sign in")
        b.go(sign_in)
        b.submit(action="/dev-oauth/authorize", button="Sign in")
        assert b.url == f"{BASE}/"
        assert (b.page.text("problem") or "").startswith("That sign-in form had already")


def test_an_unlinked_identity_with_any_characters_is_named_and_escaped(app: FastAPI) -> None:
    sub = "ada <work> \u00e9.\u201cx\u201d"
    with browser_for(app) as b:
        b.sign_in()
        link(b, sub)
        ids = {html.unescape(shown): i for shown, i in account_ids(b).items()}
        b.submit(action=f"/accounts/{ids[sub]}/unlink", button="Unlink")
        assert b.page.text("done") == (
            f"Identity unlinked: the dev identity \u201c{sub}\u201d is no longer linked "
            "to your account."
        )
        assert "<work>" not in b.text


def test_link_asks_a_browser_that_is_signed_out_to_sign_in(app: FastAPI) -> None:
    with browser_for(app) as b:
        b.go("/link")
        assert b.url == f"{BASE}/"
        assert b.page.text("problem") == "Sign in to link an identity."
        b.go("/")  # shown once
        assert b.page.text("problem") is None
