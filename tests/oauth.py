"""End-to-end OAuth plumbing for the flow tests: providers, a fake identity provider, the app.

The flow tests drive Cross-Auth's real FastAPI router against one real lite
store. Only the provider's side of OAuth is simulated: ``FakeIdP`` answers the
token and user-info endpoints through ``respx`` and behaves like a strict
provider (single-use codes bound to the redirect URI and the PKCE challenge),
so a verifier or state that did not survive the round trip through the store
makes the sign-in fail.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlparse

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

__all__ = [
    "ALICE",
    "AUTH_REQUEST_PREFIX",
    "BASE_URL",
    "BOB",
    "LINK_CODE_PREFIX",
    "SESSION_COOKIE",
    "SPA_CLIENT_ID",
    "SPA_REDIRECT_URI",
    "AuthApp",
    "FakeIdP",
    "FakeProvider",
    "OtherProvider",
    "Profile",
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

#: The SPA registered with Cross-Auth's OAuth server, used by the link flow.
SPA_CLIENT_ID = "spa"
SPA_REDIRECT_URI = "https://spa.example/linked"


class FakeProvider(OAuth2Provider):
    """A PKCE provider."""

    id = "fake"
    authorization_endpoint = "https://fake.example/oauth/authorize"
    token_endpoint = "https://fake.example/oauth/token"
    user_info_endpoint = "https://fake.example/userinfo"
    scopes = ["email"]  # noqa: RUF012 - OAuth2Provider declares a ClassVar list
    supports_pkce = True


class OtherProvider(OAuth2Provider):
    """A second provider, without PKCE."""

    id = "other"
    authorization_endpoint = "https://other.example/authorize"
    token_endpoint = "https://other.example/token"
    user_info_endpoint = "https://other.example/me"
    scopes = ["openid", "email"]  # noqa: RUF012
    supports_pkce = False


@dataclass(frozen=True)
class Profile:
    """An account at a provider."""

    id: str
    email: str | None
    email_verified: bool | None = True

    def user_info(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "email_verified": self.email_verified}


ALICE = Profile("alice-1", "alice@example.com")
BOB = Profile("bob-1", "bob@example.com")


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
class _Grant:
    profile: Profile
    redirect_uri: str
    code_challenge: str | None
    used: bool = False


@dataclass
class FakeIdP:
    """The provider's servers for one ``OAuth2Provider`` class.

    ``consent(authorization_url, profile)`` plays the user approving at the
    provider and returns the callback URL the provider redirects back to.
    The token endpoint accepts each code once, only with the redirect URI and
    PKCE verifier it was issued for; the user-info endpoint serves the
    profile behind an access token.
    """

    provider: type[OAuth2Provider]
    client_id: str
    client_secret: str
    token_requests: int = 0
    userinfo_requests: int = 0
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, Profile] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def instance(self) -> OAuth2Provider:
        return self.provider(client_id=self.client_id, client_secret=self.client_secret)

    def install(self, router: respx.MockRouter) -> None:
        router.post(self.provider.token_endpoint).mock(side_effect=self._token)
        assert self.provider.user_info_endpoint is not None
        router.get(self.provider.user_info_endpoint).mock(side_effect=self._userinfo)

    def consent(self, authorization_url: str, profile: Profile) -> str:
        """The user signs in at the provider as ``profile``; returns the callback URL."""
        assert authorization_url.startswith(self.provider.authorization_endpoint + "?")
        params = query(authorization_url)
        assert params["client_id"] == self.client_id
        assert params["response_type"] == "code"
        challenge = params.get("code_challenge")
        if self.provider.supports_pkce:
            assert params["code_challenge_method"] == "S256"
            assert challenge
        else:
            assert challenge is None
        code = secrets.token_urlsafe(12)
        with self._lock:
            self._grants[code] = _Grant(profile, params["redirect_uri"], challenge)
        return f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"

    def deny(self, authorization_url: str) -> str:
        """The user refuses consent; returns the callback URL carrying the error."""
        params = query(authorization_url)
        return (
            f"{params['redirect_uri']}?"
            f"{urlencode({'error': 'access_denied', 'state': params['state']})}"
        )

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {key: values[-1] for key, values in parse_qs(request.content.decode()).items()}
        with self._lock:
            self.token_requests += 1
            grant = self._grants.get(form.get("code", ""))
            if (
                form.get("grant_type") != "authorization_code"
                or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret
                or grant is None
                or grant.used
                or form.get("redirect_uri") != grant.redirect_uri
                or not self._pkce_ok(grant, form.get("code_verifier"))
            ):
                return httpx.Response(400, json={"error": "invalid_grant"})
            grant.used = True
            access_token = "at-" + secrets.token_urlsafe(12)
            self._tokens[access_token] = grant.profile
        return httpx.Response(
            200,
            json={
                "access_token": access_token,
                "token_type": "Bearer",
                "refresh_token": "rt-" + access_token[3:],
                "expires_in": 3600,
                "scope": " ".join(self.provider.scopes),
            },
        )

    @staticmethod
    def _pkce_ok(grant: _Grant, verifier: str | None) -> bool:
        if grant.code_challenge is None:
            return verifier is None
        return verifier is not None and _s256(verifier) == grant.code_challenge

    def _userinfo(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            self.userinfo_requests += 1
            profile = self._tokens.get(token) if scheme == "Bearer" else None
        if profile is None:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json=profile.user_info())


@dataclass
class Providers:
    """Both fake identity providers, mocked in one ``respx`` router."""

    fake: FakeIdP
    other: FakeIdP
    router: respx.MockRouter

    def __getitem__(self, provider_id: str) -> FakeIdP:
        return {"fake": self.fake, "other": self.other}[provider_id]

    def instances(self, *, trust_email: bool = True) -> list[OAuth2Provider]:
        return [
            idp.provider(
                client_id=idp.client_id, client_secret=idp.client_secret, trust_email=trust_email
            )
            for idp in (self.fake, self.other)
        ]


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
        providers = Providers(
            fake=FakeIdP(FakeProvider, "fake-client", "fake-secret"),
            other=FakeIdP(OtherProvider, "other-client", "other-secret"),
            router=router,
        )
        providers.fake.install(router)
        providers.other.install(router)
        yield providers


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
    profile: Profile,
    *,
    provider: str = "fake",
    next_url: str = "/home",
) -> TestClient:
    """Sign ``profile`` in through the whole browser flow; return the client with its cookie."""
    authorization_url = start_login(client, provider, next_url=next_url)
    response = finish_login(client, providers[provider].consent(authorization_url, profile))
    assert response.status_code == 302, response.text
    assert response.headers["location"] == next_url
    assert response.cookies.get(SESSION_COOKIE), "no session cookie issued"
    return client


def connect_identity(
    client: TestClient,
    providers: Providers,
    profile: Profile,
    *,
    provider: str = "other",
    next_url: str = "/settings",
) -> httpx.Response:
    """Connect ``profile`` to the signed-in user (GET /{provider}/connect); return the callback."""
    started = client.get(f"/{provider}/connect", params={"next": next_url})
    assert started.status_code == 302, started.text
    return finish_login(client, providers[provider].consent(started.headers["location"], profile))


def start_link(
    client: TestClient, providers: Providers, profile: Profile, *, provider: str = "fake"
) -> dict[str, str]:
    """Run the link flow up to the SPA receiving its link code.

    POST /{provider}/link, consent at the provider as ``profile``, then the
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
        client, providers[provider].consent(started.json()["authorization_url"], profile)
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
    profile: Profile,
    *,
    provider: str = "fake",
    allow_login: bool = False,
) -> httpx.Response:
    """Link ``profile`` to the signed-in user through the OAuth server's link flow.

    ``start_link``, then POST /{provider}/finalize-link; returns that response.
    """
    body = start_link(client, providers, profile, provider=provider)
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
