"""The built-in development provider, as the demo mounts it at ``/dev-oauth/...``.

Its codes and tokens live in ``store.secondary``, so worker processes on one
store directory share them; its consent form says "Link an identity" when
this browser started a link (``/link``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

import cross_auth_lite as lite
from cross_auth_lite.demo.settings import Settings
from cross_auth_lite.dev import DevOAuthServer, dev_provider_router
from cross_auth_lite.dev.browser_errors import linking_state
from cross_auth_lite.dev.server import AuthorizationRequest

__all__ = ["dev_server", "router"]


def dev_server(
    store: lite.LiteStore, settings: Settings, *, client_secret: str | None = None
) -> DevOAuthServer:
    """The development provider at ``settings.base_url``, its state in ``store.secondary``."""
    return DevOAuthServer(
        base_url=settings.base_url, storage=store.secondary, client_secret=client_secret
    )


def _linking(http: Request, authorization: AuthorizationRequest) -> bool:
    return linking_state(http.cookies) == authorization.state


def router(server: DevOAuthServer) -> APIRouter:
    """The provider's routes (authorise, token, user info), to include at the app's root."""
    return dev_provider_router(
        server,
        linking=_linking,
        app_name="the demo",
        name_hint="the demo stores no names, so you will not see it again.",
    )
