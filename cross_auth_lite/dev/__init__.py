"""A development OAuth2 provider that runs inside the app's own process.

``DevOAuthServer`` plays the identity provider (authorize, token, userinfo),
keeping its codes and tokens in a Cross-Auth secondary storage, so every
worker process of an app given the same storage and client secret sees
them. ``DevProvider`` is Cross-Auth's client for it, reaching it by function
call rather than over the network. ``cross_auth_lite.testing`` uses the pair
to sign users in from tests; the demo mounts the consent form for people to
click through.

The public surface:

- ``DevOAuthServer``, ``DevProvider``, ``DevIdentity``, ``DEFAULT_IDENTITY``,
  ``DevOAuthError``, ``AuthorizationRequest``: the protocol and the client;
  they need nothing beyond Cross-Auth itself (httpx);
- ``esc``, ``layout``, ``message_page``: the HTML layout (inline CSS) of the
  consent form, which apps such as the demo share; standard library only;
- ``dev_provider_router(server)``: FastAPI routes for the consent form and
  the token and userinfo endpoints, and ``BrowserErrorPages``: ASGI
  middleware turning Cross-Auth's JSON sign-in errors into redirects. These
  two need the ``[demo]`` extra (FastAPI) and are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cross_auth_lite.dev.pages import esc, layout, message_page
from cross_auth_lite.dev.provider import DevProvider
from cross_auth_lite.dev.server import (
    DEFAULT_IDENTITY,
    AuthorizationRequest,
    DevIdentity,
    DevOAuthError,
    DevOAuthServer,
)

if TYPE_CHECKING:
    from cross_auth_lite.dev.browser_errors import BrowserErrorPages
    from cross_auth_lite.dev.routes import dev_provider_router

__all__ = [
    "DEFAULT_IDENTITY",
    "AuthorizationRequest",
    "BrowserErrorPages",
    "DevIdentity",
    "DevOAuthError",
    "DevOAuthServer",
    "DevProvider",
    "dev_provider_router",
    "esc",
    "layout",
    "message_page",
]

# Names whose modules need FastAPI or Starlette: imported when first asked for,
# so the rest of the package works without the [demo] extra.
_LAZY = {
    "BrowserErrorPages": "cross_auth_lite.dev.browser_errors",
    "dev_provider_router": "cross_auth_lite.dev.routes",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
