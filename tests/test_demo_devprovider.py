"""The development OAuth provider: the protocol rules of its three endpoints."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.demo import create_app
from cross_auth_lite.dev import DEFAULT_IDENTITY, DevIdentity, DevOAuthServer, dev_provider_router
from tests.test_demo import BASE


@pytest.fixture
def app(store: lite.LiteStore) -> FastAPI:
    return create_app(store, base_url=BASE)


def test_the_authorize_page_refuses_an_unregistered_redirect_uri(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        response = client.get(
            "/dev-oauth/authorize",
            params={
                "client_id": "cross-auth-lite-demo",
                "redirect_uri": "http://evil.example/cb",
                "response_type": "code",
                "state": "s",
            },
        )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri is not registered" in response.text


def _code(server: DevOAuthServer, identity: DevIdentity, challenge: str = "") -> str:
    request = server.check_authorization_request(
        {
            "client_id": server.client_id,
            "redirect_uri": server.redirect_uri,
            "response_type": "code",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256" if challenge else "",
        }
    )
    location = server.approve(request, identity)
    assert location.startswith(server.redirect_uri)
    assert parse_qs(urlsplit(location).query)["state"] == ["xyz"]
    return parse_qs(urlsplit(location).query)["code"][0]


def test_the_token_and_userinfo_endpoints_follow_oauth_rules(app: FastAPI) -> None:
    server: DevOAuthServer = app.state.dev_server
    identity = DevIdentity("Kim", "kim@example.com", "dev-kim", email_verified=False)
    # RFC 7636 appendix B: this verifier's S256 challenge.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    form = {
        "grant_type": "authorization_code",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "redirect_uri": server.redirect_uri,
        "code_verifier": verifier,
    }
    with TestClient(app, base_url=BASE) as client:
        code = _code(server, identity, challenge)
        wrong_secret = client.post(
            "/dev-oauth/token", data={**form, "code": code, "client_secret": "x"}
        )
        assert wrong_secret.status_code == 401
        assert wrong_secret.json()["error"] == "invalid_client"

        code = _code(server, identity, challenge)
        odd = client.post(
            "/dev-oauth/token", data={**form, "code": code, "client_secret": "sécret"}
        )
        assert odd.status_code == 401  # non-ASCII input is an error reply, not a crash
        code = _code(server, identity, challenge)
        bad_pkce = client.post(
            "/dev-oauth/token", data={**form, "code": code, "code_verifier": "x" * 43}
        )
        assert bad_pkce.json()["error"] == "invalid_grant"
        again = client.post("/dev-oauth/token", data={**form, "code": code})
        assert again.json()["error"] == "invalid_grant"  # a code is spent by any attempt

        code = _code(server, identity, challenge)
        token = client.post("/dev-oauth/token", data={**form, "code": code})
        assert token.status_code == 200, token.text
        assert token.json()["token_type"] == "Bearer"
        replay = client.post("/dev-oauth/token", data={**form, "code": code})
        assert replay.status_code == 400

        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        info = client.get("/dev-oauth/userinfo", headers=bearer)
        assert info.json() == {
            "id": "dev-kim",
            "email": "kim@example.com",
            "email_verified": False,
            "name": "Kim",
        }
        anonymous = client.get("/dev-oauth/userinfo")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"


def test_the_wsgi_back_channel_matches_the_http_endpoints(app: FastAPI) -> None:
    server: DevOAuthServer = app.state.dev_server
    code = _code(server, DEFAULT_IDENTITY)
    with httpx.Client(transport=httpx.WSGITransport(app=server.wsgi_app)) as client:
        token = client.post(
            server.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "redirect_uri": server.redirect_uri,
            },
        )
        assert token.status_code == 200, token.text
        info = client.get(
            server.userinfo_url,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert info.json()["email"] == DEFAULT_IDENTITY.email
        assert client.get(server.token_url).status_code == 404


def test_the_consent_form_of_another_app_does_not_call_it_the_demo() -> None:
    server = DevOAuthServer(base_url=BASE)
    app = FastAPI()
    app.include_router(dev_provider_router(server))
    query = {
        "client_id": server.client_id,
        "redirect_uri": server.redirect_uri,
        "response_type": "code",
        "state": "abc",
    }
    with TestClient(app, base_url=BASE) as client:
        page = client.get("/dev-oauth/authorize", params=query).text
    assert "demo" not in page.replace("cross-auth-lite-demo", "")
    assert "Sign in to the app" in page
    assert "running inside the app." in page
    assert "Sent to the app as the profile's name.</p>" in page

    named = FastAPI()
    named.include_router(dev_provider_router(server, app_name="Notes <beta>"))
    with TestClient(named, base_url=BASE) as client:
        page = client.get("/dev-oauth/authorize", params=query).text
    assert "Sign in to Notes &lt;beta&gt;" in page
