"""The Cross-Auth provider for the demo's development OAuth server.

The self-call problem
---------------------
Cross-Auth's ``OAuth2Provider`` redeems the authorization code, and fetches
the user's identity, with HTTP requests of its own: ``exchange_code`` calls
``send_token_request`` (``httpx.post``) and ``fetch_user_info`` calls
``httpx.get``, both synchronous, from inside the ``/auth/dev/callback``
handler. Here the provider is the demo app itself, so done naively the app
would call itself over the network while it is answering a request:

- under ``TestClient`` there is no socket at all, so the call cannot work;
- under uvicorn it works only by luck of the architecture: Cross-Auth's
  routes are sync, so the callback waits in a threadpool thread while the
  event loop serves the nested request. It needs an address the process can
  reach itself at (``--host 0.0.0.0`` or a proxy's public URL is not one),
  and a sync nested handler would need a second pool thread: enough
  simultaneous sign-ins would exhaust the pool and stall until timeouts;
- and it would be real network traffic, which the demo promises not to make.

ASGI in process is no answer either: ``httpx.ASGITransport`` is async-only
and the provider's code is sync; hopping back onto the event loop from the
worker thread (``anyio.from_thread``) would tie the provider to running
inside an anyio worker thread.

So the provider keeps Cross-Auth's own code paths (``exchange_code``,
response parsing, error handling) and overrides only the two documented
transport points, ``send_token_request`` and ``fetch_user_info``, to send
their requests through an ``httpx.Client`` whose transport is
``httpx.WSGITransport`` over the development server's WSGI app. The request
is still a full HTTP exchange as far as httpx and Cross-Auth can tell (form
encoding, headers, status codes, JSON), but it is a plain function call in
the calling thread: no socket, no event loop, nothing to wait for, so it
cannot deadlock, and it behaves the same under uvicorn and TestClient,
whatever the size of the thread pool. The client has no other transport, so
whatever URL it is given, nothing leaves the process. Each worker process
of an app calls its own server object; they agree because they share the
storage of codes and tokens and the client secret (see ``server.py``).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, cast

import httpx
from cross_auth import (
    Context,
    OAuth2Exception,
    OAuth2Provider,
    TokenExchangeParams,
    TokenResponse,
    UserInfo,
)

from cross_auth_lite.dev.server import (
    AUTHORIZE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    DevOAuthServer,
)

__all__ = ["DevProvider"]

logger = logging.getLogger(__name__)


class DevProvider(OAuth2Provider):
    """Cross-Auth's client of a ``DevOAuthServer``, reaching it in process.

    Its id is ``dev``: mounted at ``/auth``, sign-in starts at
    ``/auth/dev/login`` and the server redirects back to
    ``/auth/dev/callback``.
    """

    id = "dev"
    # Placeholders: __init__ replaces them with the server's absolute URLs.
    authorization_endpoint = AUTHORIZE_PATH
    token_endpoint = TOKEN_PATH
    user_info_endpoint = USERINFO_PATH
    scopes: ClassVar[list[str]] = ["openid", "email", "profile"]
    supports_pkce = True

    def __init__(self, server: DevOAuthServer) -> None:
        # trust_email=False: an email links to an existing account only when
        # the provider says it is verified (the checkbox on the form).
        super().__init__(server.client_id, server.client_secret, trust_email=False)
        # Per-instance endpoints, as upstream's GitHubProvider does; Cross-Auth
        # types them as ClassVar, hence the ignores.
        self.authorization_endpoint = server.authorize_url  # type: ignore[misc]
        self.token_endpoint = server.token_url  # type: ignore[misc]
        self.user_info_endpoint = server.userinfo_url  # type: ignore[misc]
        self.server = server
        # See the module docstring: every request of this client is a function
        # call into the development server's WSGI app, in the calling thread.
        self._http = httpx.Client(
            transport=httpx.WSGITransport(app=server.wsgi_app),
            timeout=self.token_exchange_timeout,
        )

    def send_token_request(self, data: TokenExchangeParams) -> httpx.Response:
        """POST the code to the development server's token endpoint, in process."""
        return self._http.post(
            self.token_endpoint,
            headers={"Accept": "application/json"},
            data=dict(data),
        )

    def fetch_user_info(
        self,
        token_response: TokenResponse,
        context: Context,
        extra: dict[str, Any] | None = None,
        *,
        provider_data: dict[str, str] | None = None,
    ) -> UserInfo:
        """GET the development server's userinfo endpoint, in process."""
        assert self.user_info_endpoint is not None
        try:
            response = self._http.get(
                self.user_info_endpoint,
                headers={"Authorization": f"Bearer {token_response.access_token}"},
            )
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.error("Development provider userinfo failed: %s", error)
            raise OAuth2Exception(
                error="server_error", error_description="Failed to fetch user info"
            ) from error
        if not isinstance(info, dict):
            raise OAuth2Exception(
                error="server_error", error_description="Userinfo is not a JSON object"
            )
        return cast(UserInfo, info)

    def close(self) -> None:
        """Close the in-process HTTP client (it holds no sockets; this is tidiness)."""
        self._http.close()
