"""A development OAuth 2.0 authorization server that lives in the app's own process.

It stands in for GitHub or Google so the demo and tests run offline: its authorize
page is a form prefilled with a demo identity (name, email, provider user
id, all editable), and whoever submits it is vouched for. It still speaks
real OAuth 2.0 to Cross-Auth: registered client and redirect URI, single-use
codes that expire, client secret, PKCE (S256), bearer access tokens.

Three endpoints, all under ``/dev-oauth``:

- ``GET/POST /dev-oauth/authorize``: the browser-facing consent form;
- ``POST /dev-oauth/token``: code for access token (form-encoded, JSON out);
- ``GET /dev-oauth/userinfo``: the identity behind a bearer token.

This module is the protocol, free of any web framework. The token and
userinfo logic is plain synchronous code, exposed twice: as FastAPI routes
(``routes.py``), so the endpoints exist over HTTP like any provider's, and
as a WSGI app (``DevOAuthServer.wsgi_app``), which ``DevProvider`` calls in
process through ``httpx.WSGITransport`` (see ``provider.py`` for why).

Codes and tokens live in a Cross-Auth ``SecondaryStorage`` (``grants.py``):
give every worker process of an app the same one (``store.secondary``) and
the same ``client_secret``, and a code issued by one worker is redeemed by
whichever worker the callback reaches, once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from cross_auth import SecondaryStorage

from cross_auth_lite.dev.grants import Grant, GrantStore

__all__ = [
    "AUTHORIZE_PATH",
    "CODE_TTL",
    "DEFAULT_IDENTITY",
    "TOKEN_TTL",
    "TOKEN_PATH",
    "USERINFO_PATH",
    "AuthorizationRequest",
    "DevIdentity",
    "DevOAuthServer",
    "DevOAuthError",
    "EndpointReply",
    "call_endpoint",
]

AUTHORIZE_PATH = "/dev-oauth/authorize"
TOKEN_PATH = "/dev-oauth/token"
USERINFO_PATH = "/dev-oauth/userinfo"
#: Seconds an authorization code stays redeemable.
CODE_TTL = 300
#: Seconds an access token stays valid: a sign-in reads its userinfo at once, and a
#: token kept longer is only a row in the storage (one per sign-in) until it expires.
TOKEN_TTL = 60
#: The longest name, email or provider user id the consent form accepts.
MAX_FIELD = 200


@dataclass(frozen=True)
class DevIdentity:
    """Who the development provider says the user is."""

    name: str
    email: str
    sub: str
    email_verified: bool = True

    def userinfo(self) -> dict[str, Any]:
        """The userinfo document, in the shape Cross-Auth's ``UserInfo`` expects."""
        return {
            "id": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
        }


#: The identity the authorize form is prefilled with.
DEFAULT_IDENTITY = DevIdentity(name="Ada Lovelace", email="ada@example.com", sub="dev-ada")


class DevOAuthError(Exception):
    """An OAuth error: ``error`` is the RFC 6749 code, the message describes it."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error body of the token and userinfo endpoints."""
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated request to the authorize endpoint."""

    client_id: str
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    code_challenge_method: str

    def hidden_fields(self) -> dict[str, str]:
        """The parameters the consent form carries through to its POST."""
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "scope": self.scope,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
        }


@dataclass
class EndpointReply:
    """What a token or userinfo request gets: status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


def call_endpoint(produce: Callable[[], dict[str, Any]]) -> EndpointReply:
    """Run a protocol step; its result is a 200, a ``DevOAuthError`` an error reply."""
    try:
        return EndpointReply(200, produce())
    except DevOAuthError as error:
        headers = [("WWW-Authenticate", "Bearer")] if error.status == 401 else []
        return EndpointReply(error.status, error.body(), headers)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _same(given: str, expected: str) -> bool:
    # Bytes, because compare_digest refuses non-ASCII str (a 500 for odd input).
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _with_query(url: str, params: Mapping[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class DevOAuthServer:
    """The development provider: one registered client, codes and tokens in ``storage``.

    ``base_url`` is the public URL of the app; the provider's endpoints and
    the client's redirect URI (``{base_url}{redirect_path}``) hang off it.

    ``storage`` is any Cross-Auth ``SecondaryStorage`` (``store.secondary``):
    codes are kept there for ``code_ttl`` seconds and redeemed once with
    ``pop``, tokens for ``token_ttl`` seconds. Servers configured alike (same
    ``base_url``, ``client_id``, redirect URI and ``client_secret``) on one
    storage are one provider, so an app may run several worker processes.
    Without a storage the server keeps them in a private temporary cache
    only it sees: fine for one process, a failed sign-in for several.

    ``client_secret`` is random when not given; pass the same one to every
    worker's server.
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str = "cross-auth-lite-demo",
        redirect_path: str = "/auth/dev/callback",
        redirect_uri: str | None = None,
        default_identity: DevIdentity = DEFAULT_IDENTITY,
        storage: SecondaryStorage | None = None,
        client_secret: str | None = None,
        code_ttl: int = CODE_TTL,
        token_ttl: int = TOKEN_TTL,
    ) -> None:
        if code_ttl <= 0 or token_ttl <= 0:
            raise ValueError("code_ttl and token_ttl must be positive numbers of seconds")
        if client_secret is not None and not client_secret:
            raise ValueError("client_secret must not be empty")
        base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        #: Seconds a code stays redeemable, and an access token valid.
        self.code_ttl = code_ttl
        self.token_ttl = token_ttl
        #: The one redirect URI registered for the client: ``redirect_uri`` if
        #: given (an app on another host than the provider), else
        #: ``{base_url}{redirect_path}``.
        self.redirect_uri = redirect_uri or base_url + redirect_path
        self.authorize_url = base_url + AUTHORIZE_PATH
        self.token_url = base_url + TOKEN_PATH
        self.userinfo_url = base_url + USERINFO_PATH
        self.default_identity = default_identity
        base_path = urlsplit(base_url).path
        self._wsgi_routes = {
            ("POST", base_path + TOKEN_PATH): self._wsgi_token,
            ("GET", base_path + USERINFO_PATH): self._wsgi_userinfo,
        }
        self._grants = GrantStore(storage)

    # The protocol, independent of any web framework.

    def check_authorization_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """Validate authorize parameters; raise ``DevOAuthError`` if they are unusable.

        Errors are shown to the person, never redirected: the redirect URI of
        a request that fails here is not trusted.
        """
        if params.get("client_id") != self.client_id:
            raise DevOAuthError("invalid_client", "Unknown client_id.")
        if params.get("redirect_uri") != self.redirect_uri:
            raise DevOAuthError("invalid_request", "redirect_uri is not registered.")
        if params.get("response_type") != "code":
            raise DevOAuthError("unsupported_response_type", "Only response_type=code.")
        challenge = params.get("code_challenge", "")
        method = params.get("code_challenge_method", "")
        if challenge and method != "S256":
            raise DevOAuthError("invalid_request", "code_challenge_method must be S256.")
        return AuthorizationRequest(
            client_id=self.client_id,
            redirect_uri=self.redirect_uri,
            state=params.get("state", ""),
            scope=params.get("scope", ""),
            code_challenge=challenge,
            code_challenge_method=method if challenge else "",
        )

    def identity_problem(self, identity: DevIdentity) -> str | None:
        """Why the consent form's ``identity`` cannot be vouched for, or ``None``."""
        if not identity.email or "@" not in identity.email.strip("@"):
            return "Enter an email address."
        if not identity.sub:
            return "Enter a provider user id."
        labels = {"name": identity.name, "email": identity.email, "provider user id": identity.sub}
        too_long = [label for label, value in labels.items() if len(value) > MAX_FIELD]
        if too_long:
            *rest, last = too_long
            names = f"{', '.join(rest)} and {last}" if rest else last
            verb, each = ("are", "each") if rest else ("is", "it")
            return f"The {names} {verb} too long: keep {each} to {MAX_FIELD} characters or fewer."
        return None

    def approve(self, request: AuthorizationRequest, identity: DevIdentity) -> str:
        """Issue a single-use code for ``identity``; return the redirect URL carrying it."""
        code = secrets.token_urlsafe(32)
        grant = Grant(
            client_id=request.client_id,
            identity=identity.userinfo(),
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scope=request.scope,
        )
        self._grants.add_code(code, grant, self.code_ttl)
        params = {"code": code}
        if request.state:
            params["state"] = request.state
        return _with_query(request.redirect_uri, params)

    def denial_url(self, request: AuthorizationRequest) -> str:
        """Where to send the browser when the person cancels."""
        params = {"error": "access_denied", "error_description": "The user cancelled."}
        if request.state:
            params["state"] = request.state
        return _with_query(request.redirect_uri, params)

    def exchange(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Redeem an authorization code (the token endpoint); raise ``DevOAuthError``."""
        if form.get("grant_type") != "authorization_code":
            raise DevOAuthError("unsupported_grant_type", "Only authorization_code.")
        if not (
            _same(form.get("client_id", ""), self.client_id)
            and _same(form.get("client_secret", ""), self.client_secret)
        ):
            raise DevOAuthError("invalid_client", "Client authentication failed.", 401)
        grant = self._grants.redeem_code(form.get("code", ""))  # single use, even if wrong
        if grant is None or grant.client_id != self.client_id:
            raise DevOAuthError("invalid_grant", "The code is unknown, used or expired.")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise DevOAuthError("invalid_grant", "redirect_uri does not match the code.")
        if grant.code_challenge:
            verifier = form.get("code_verifier", "")
            if not verifier or not _same(_s256(verifier), grant.code_challenge):
                raise DevOAuthError("invalid_grant", "PKCE verification failed.")
        token = secrets.token_urlsafe(32)
        self._grants.add_token(token, grant.identity, self.token_ttl)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": grant.scope,
        }

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        """The identity behind ``Authorization: Bearer <token>``; raise ``DevOAuthError``."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        identity = None
        if scheme.lower() == "bearer" and token:
            identity = self._grants.token_identity(token)
        if identity is None:
            raise DevOAuthError("invalid_token", "Missing, unknown or expired token.", 401)
        return identity

    # The back channel as WSGI, for the in-process transport.

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The token and userinfo endpoints as a WSGI application."""
        route = self._wsgi_routes.get((environ.get("REQUEST_METHOD", ""), environ["PATH_INFO"]))
        reply = route(environ) if route else EndpointReply(404, {"error": "not_found"})
        body = json.dumps(reply.body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *reply.headers,
        ]
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        return [body]

    def _wsgi_token(self, environ: WSGIEnvironment) -> EndpointReply:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length).decode("utf-8", "replace")
        return call_endpoint(lambda: self.exchange(dict(parse_qsl(raw, keep_blank_values=True))))

    def _wsgi_userinfo(self, environ: WSGIEnvironment) -> EndpointReply:
        return call_endpoint(lambda: self.userinfo(environ.get("HTTP_AUTHORIZATION")))
