"""End-to-end OAuth plumbing for the flow tests: providers, their identity servers, the app.

The flow tests drive Cross-Auth's real FastAPI router against one real lite
store. The identity provider behind each test provider is the project's own
development OAuth server (``cross_auth_lite.dev.DevOAuthServer``) on the
provider's host: a strict server (single-use, expiring codes bound to the
redirect URI and the PKCE challenge; client secret; bearer tokens), so a
verifier or state that did not survive the round trip through the store
makes the sign-in fail. Cross-Auth reaches its token and userinfo endpoints
with its own ``httpx`` calls, which ``respx`` routes into the server's WSGI
app; the user's consent at its authorize page is a method call (``IdP``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlparse

import httpx
import httpx._transports.default as httpx_transports
import respx
from cross_auth import OAuthClient, OAuthServer
from cross_auth._config import Config
from cross_auth.fastapi import CrossAuth, SessionCookieMiddleware
from cross_auth.social_providers.oauth import OAuth2Provider
from fastapi import Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.dev import AuthorizationRequest, DevIdentity, DevOAuthServer
from cross_auth_lite.dev.server import AUTHORIZE_PATH, TOKEN_PATH, USERINFO_PATH

__all__ = [
    "ALICE",
    "AUTH_REQUEST_PREFIX",
    "BASE_URL",
    "BOB",
    "FAKE_IDP_URL",
    "LINK_CODE_PREFIX",
    "OTHER_IDP_URL",
    "SESSION_COOKIE",
    "SPA_CLIENT_ID",
    "SPA_REDIRECT_URI",
    "AuthApp",
    "FakeProvider",
    "IdP",
    "OtherProvider",
    "Providers",
    "connect_identity",
    "copy_cookies",
    "counts",
    "error_of",
    "finish_login",
    "link_identity",
    "make_app",
    "make_config",
    "mock_providers",
    "pkce_pair",
    "query",
    "session_row",
    "sign_in",
    "start_link",
    "start_login",
]

#: Where the test browser thinks the app lives. HTTPS, so the default ``Secure`` cookies are sent.
BASE_URL = "https://testserver"
SESSION_COOKIE = "session_id"
#: Secondary-storage key prefixes Cross-Auth 0.41 uses.
AUTH_REQUEST_PREFIX = "oauth:authorization_request:v2:"
LINK_CODE_PREFIX = "oauth:link_request:v2:"

#: Where each provider's development OAuth server lives (another host than the app).
FAKE_IDP_URL = "https://fake.example"
OTHER_IDP_URL = "https://other.example"

#: The SPA registered with Cross-Auth's OAuth server, used by the link flow.
SPA_CLIENT_ID = "spa"
SPA_REDIRECT_URI = "https://spa.example/linked"


class FakeProvider(OAuth2Provider):
    """A PKCE provider, served by a development OAuth server at ``FAKE_IDP_URL``."""

    id = "fake"
    authorization_endpoint = FAKE_IDP_URL + AUTHORIZE_PATH
    token_endpoint = FAKE_IDP_URL + TOKEN_PATH
    user_info_endpoint = FAKE_IDP_URL + USERINFO_PATH
    scopes = ["email"]  # noqa: RUF012 - OAuth2Provider declares a ClassVar list
    supports_pkce = True


class OtherProvider(OAuth2Provider):
    """A second provider, without PKCE, served at ``OTHER_IDP_URL``."""

    id = "other"
    authorization_endpoint = OTHER_IDP_URL + AUTHORIZE_PATH
    token_endpoint = OTHER_IDP_URL + TOKEN_PATH
    user_info_endpoint = OTHER_IDP_URL + USERINFO_PATH
    scopes = ["openid", "email"]  # noqa: RUF012
    supports_pkce = False


ALICE = DevIdentity("Alice", "alice@example.com", "alice-1")
BOB = DevIdentity("Bob", "bob@example.com", "bob-1")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, S256 code_challenge)``."""
    verifier = secrets.token_urlsafe(48)
    return verifier, _s256(verifier)


def query(url: str) -> dict[str, str]:
    """The query parameters of ``url`` (last value wins)."""
    return {key: values[-1] for key, values in parse_qs(urlparse(url).query).items()}


@dataclass
class IdP:
    """One ``OAuth2Provider`` class and the development OAuth server behind it.

    The server lives at the provider's host (``https://fake.example``) and has
    the app's ``/{provider}/callback`` registered. ``consent`` and ``deny``
    play the user at its authorize page; Cross-Auth's own ``httpx`` calls to
    its token and userinfo URLs are routed (``respx``) into its WSGI app.

    What the tests need beyond the server is here, around it:
    ``token_requests`` and ``userinfo_requests`` count what reached the
    server, and ``issued`` holds every token response it granted, each with a
    refresh token added (the development server issues none) so that storing
    one is covered too.
    """

    provider: type[OAuth2Provider]
    server: DevOAuthServer
    token_route: respx.Route
    userinfo_route: respx.Route
    issued: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def install(cls, provider: type[OAuth2Provider], router: respx.MockRouter) -> IdP:
        """Start ``provider``'s server and route its token and userinfo URLs to it."""
        server = DevOAuthServer(
            base_url=provider.authorization_endpoint.removesuffix(AUTHORIZE_PATH),
            client_id=f"{provider.id}-client",
            redirect_uri=f"{BASE_URL}/{provider.id}/callback",
        )
        assert provider.user_info_endpoint is not None
        assert (server.authorize_url, server.token_url, server.userinfo_url) == (
            provider.authorization_endpoint,
            provider.token_endpoint,
            provider.user_info_endpoint,
        )
        transport = httpx.WSGITransport(app=server.wsgi_app)
        idp = cls(
            provider=provider,
            server=server,
            token_route=router.post(server.token_url),
            userinfo_route=router.get(server.userinfo_url).mock(
                side_effect=transport.handle_request
            ),
        )
        idp.token_route.mock(side_effect=functools.partial(idp._token, transport))
        return idp

    @property
    def token_requests(self) -> int:
        return self.token_route.call_count

    @property
    def userinfo_requests(self) -> int:
        return self.userinfo_route.call_count

    def instance(self, *, trust_email: bool = True) -> OAuth2Provider:
        """The Cross-Auth provider, registered with this server as its client."""
        return self.provider(
            client_id=self.server.client_id,
            client_secret=self.server.client_secret,
            trust_email=trust_email,
        )

    def consent(self, authorization_url: str, identity: DevIdentity) -> str:
        """The user signs in at the provider as ``identity``; returns the callback URL."""
        return self.server.approve(self._authorization_request(authorization_url), identity)

    def deny(self, authorization_url: str) -> str:
        """The user refuses consent; returns the callback URL carrying the error."""
        return self.server.denial_url(self._authorization_request(authorization_url))

    def _authorization_request(self, authorization_url: str) -> AuthorizationRequest:
        assert authorization_url.startswith(self.server.authorize_url + "?")
        params = query(authorization_url)
        # The server checks client, redirect URI, response type and S256; that
        # the app asks for PKCE exactly when its provider supports it is ours.
        assert ("code_challenge" in params) == self.provider.supports_pkce, params
        assert params.get("state"), params
        return self.server.check_authorization_request(params)

    def _token(self, transport: httpx.WSGITransport, request: httpx.Request) -> httpx.Response:
        response = transport.handle_request(request)
        response.read()
        if response.status_code != 200:
            return response
        granted = {**response.json(), "refresh_token": secrets.token_urlsafe(32)}
        self.issued.append(granted)
        return httpx.Response(200, json=granted)


@dataclass
class Providers:
    """Both providers' development servers, mocked in one ``respx`` router."""

    fake: IdP
    other: IdP

    def __getitem__(self, provider_id: str) -> IdP:
        return {"fake": self.fake, "other": self.other}[provider_id]

    def instances(self, *, trust_email: bool = True) -> list[OAuth2Provider]:
        return [idp.instance(trust_email=trust_email) for idp in (self.fake, self.other)]


_REAL_SSL_CONTEXT = httpx_transports.create_ssl_context


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return _REAL_SSL_CONTEXT()


def _shared_ssl_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
    return _ssl_context()


@contextmanager
def mock_providers() -> Iterator[Providers]:
    """Mock the HTTP of both providers; any other outgoing request fails.

    Cross-Auth calls ``httpx.post``/``httpx.get``, which build a client, and so
    an SSL context, per call (~15 ms each). Nothing leaves the process here, so
    one context is shared, which makes each sign-in several times faster.
    """
    with (
        respx.mock(assert_all_called=False, assert_all_mocked=True) as router,
        mock.patch.object(httpx_transports, "create_ssl_context", _shared_ssl_context),
    ):
        yield Providers(
            fake=IdP.install(FakeProvider, router), other=IdP.install(OtherProvider, router)
        )


def make_config(
    store: lite.LiteStore,
    *,
    linking: bool = True,
    allow_different_emails: bool = True,
    allow_shared_connections: bool | None = None,
    require_verified_email: bool = False,
    session: dict[str, Any] | None = None,
) -> Config:
    """Cross-Auth config with cookie sign-in; sharing follows the store's schema by default."""
    shared = allow_shared_connections
    if shared is None:
        shared = store.shared_connections
    session_config: Any = {"cookies": {"auth": True}, **(session or {})}
    return {
        "session": session_config,
        "account_linking": {
            "enabled": linking,
            "allow_different_emails": allow_different_emails,
            "allow_shared_connections": shared,
        },
        "require_verified_email": require_verified_email,
    }


@dataclass
class AuthApp:
    """A FastAPI app serving Cross-Auth's router and a few session endpoints."""

    app: FastAPI
    auth: CrossAuth
    store: lite.LiteStore

    def browser(self, user_agent: str = "browser/1.0") -> TestClient:
        """A new browser (its own cookie jar) pointed at the app."""
        return TestClient(
            self.app,
            base_url=BASE_URL,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
        )


def make_app(
    store: lite.LiteStore,
    providers: Providers,
    *,
    config: Config | None = None,
    storage: Any = None,
    accounts: Any = None,
    trust_email: bool = True,
    sliding: bool = False,
) -> AuthApp:
    """Cross-Auth on ``store``.

    ``storage`` and ``accounts`` stand in for ``store.secondary`` and
    ``store.accounts`` (tests pass thin wrappers that only add a rendezvous).
    ``sliding`` installs ``SessionCookieMiddleware``.
    """
    kwargs = store.cross_auth_kwargs()
    if storage is not None:
        kwargs["storage"] = storage
    if accounts is not None:
        kwargs["accounts_storage"] = accounts
    auth = CrossAuth(
        providers=providers.instances(trust_email=trust_email),
        config=make_config(store) if config is None else config,
        oauth_server=OAuthServer(
            get_client={
                SPA_CLIENT_ID: OAuthClient(
                    client_id=SPA_CLIENT_ID, redirect_uris=(SPA_REDIRECT_URI,)
                )
            }.get
        ),
        **kwargs,
    )
    app = FastAPI()
    if sliding:
        app.add_middleware(SessionCookieMiddleware)
    app.include_router(auth.router)
    # A default rather than Annotated: this module postpones annotations, and
    # FastAPI could not resolve an alias local to this function.
    current_user = Depends(auth.require_current_user)

    @app.get("/me")
    def me(user: Any = current_user) -> dict[str, Any]:
        return {"id": user.id, "email": user.email}

    @app.get("/sessions")
    def sessions(request: Request, user: Any = current_user) -> list[dict[str, Any]]:
        current = auth.get_current_session(request)
        page = auth.list_sessions(user.id)
        return [
            {
                "id": record.id,
                "status": record.status,
                "user_agent": record.user_agent,
                "current": current is not None and record.id == current.id,
            }
            for record in page.records
        ]

    @app.delete("/sessions/{session_id}", status_code=204)
    def revoke(session_id: str, user: Any = current_user) -> Response:
        auth.revoke_session(session_id, user_id=user.id)
        return Response(status_code=204)

    @app.post("/sessions/revoke-others")
    def revoke_others(request: Request, user: Any = current_user) -> dict[str, int]:
        current = auth.get_current_session(request)
        assert current is not None
        return {"revoked": auth.revoke_other_sessions(user_id=user.id, keep_session_id=current.id)}

    return AuthApp(app=app, auth=auth, store=store)


# Browser steps


def start_login(client: TestClient, provider: str = "fake", *, next_url: str | None = None) -> str:
    """GET /{provider}/login; returns the provider authorization URL it redirects to."""
    response = client.get(f"/{provider}/login", params={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def finish_login(client: TestClient, callback_url: str) -> httpx.Response:
    """Follow the provider's redirect back to the app's callback."""
    assert callback_url.startswith(BASE_URL + "/")
    return client.get(callback_url)


def sign_in(
    client: TestClient,
    providers: Providers,
    identity: DevIdentity,
    *,
    provider: str = "fake",
    next_url: str = "/home",
) -> TestClient:
    """Sign ``identity`` in through the whole browser flow; return the client with its cookie."""
    authorization_url = start_login(client, provider, next_url=next_url)
    response = finish_login(client, providers[provider].consent(authorization_url, identity))
    assert response.status_code == 302, response.text
    assert response.headers["location"] == next_url
    assert response.cookies.get(SESSION_COOKIE), "no session cookie issued"
    return client


def connect_identity(
    client: TestClient,
    providers: Providers,
    identity: DevIdentity,
    *,
    provider: str = "other",
    next_url: str = "/settings",
) -> httpx.Response:
    """GET /{provider}/connect for the signed-in user, consent as ``identity``: the callback."""
    started = client.get(f"/{provider}/connect", params={"next": next_url})
    assert started.status_code == 302, started.text
    return finish_login(client, providers[provider].consent(started.headers["location"], identity))


def start_link(
    client: TestClient, providers: Providers, identity: DevIdentity, *, provider: str = "fake"
) -> dict[str, str]:
    """Run the link flow up to the SPA receiving its link code.

    POST /{provider}/link, consent at the provider as ``identity``, then the
    callback, which redirects to the SPA with a link code. Returns the
    finalize-link body (``link_code`` and the SPA's ``code_verifier``).
    """
    verifier, challenge = pkce_pair()
    started = client.post(
        f"/{provider}/link",
        json={
            "client_id": SPA_CLIENT_ID,
            "redirect_uri": SPA_REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert started.status_code == 200, started.text
    callback = finish_login(
        client, providers[provider].consent(started.json()["authorization_url"], identity)
    )
    assert callback.status_code == 302, callback.text
    assert callback.headers["location"].startswith(SPA_REDIRECT_URI + "?")
    return {
        "link_code": query(callback.headers["location"])["link_code"],
        "code_verifier": verifier,
    }


def link_identity(
    client: TestClient,
    providers: Providers,
    identity: DevIdentity,
    *,
    provider: str = "fake",
    allow_login: bool = False,
) -> httpx.Response:
    """Link ``identity`` to the signed-in user through the OAuth server's link flow.

    ``start_link``, then POST /{provider}/finalize-link; returns that response.
    """
    body = start_link(client, providers, identity, provider=provider)
    return client.post(f"/{provider}/finalize-link", json={**body, "allow_login": allow_login})


def copy_cookies(source: TestClient, target: TestClient) -> None:
    """Give ``target`` the cookies of ``source``, attributes and all (same browser)."""
    for cookie in source.cookies.jar:
        target.cookies.jar.set_cookie(cookie)


# Store inspection


def counts(store: lite.LiteStore) -> dict[str, int]:
    """Rows per table, and how many sessions are still unrevoked."""
    models = store.models
    return {
        "users": models.User.select().count(),
        "social_accounts": models.SocialAccount.select().count(),
        "sessions": models.Session.select().count(),
        "unrevoked_sessions": models.Session.select()
        .where(models.Session.revoked_at.is_null())
        .count(),
    }


def session_row(store: lite.LiteStore, token: str) -> Any:
    """The stored session for a raw session token (Cross-Auth stores its SHA-256)."""
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    return store.models.Session.get_or_none(store.models.Session.token_hash == token_hash)


def error_of(response: httpx.Response) -> str:
    """The OAuth error a response carries, in its JSON body or its redirect."""
    if response.status_code in (302, 303):
        return query(response.headers["location"]).get("error", "")
    return str(json.loads(response.text).get("error", ""))
