"""Cross-Auth as the demo sets it up: its configuration, and its router at ``/auth/...``.

Signing in with another provider user id but an email the provider verified
links that identity to the existing user (see ``DevProvider``). A failed
sign-in lands on the home page with the error explained
(``cross_auth_lite.dev.BrowserErrorPages``) rather than on Cross-Auth's JSON
error body; a failed link lands on the profile.
"""

from __future__ import annotations

from cross_auth.fastapi import CrossAuth, SessionCookieMiddleware
from fastapi import FastAPI

import cross_auth_lite as lite
from cross_auth_lite.demo.settings import SESSION_COOKIE, SESSION_UPDATE_AGE, Settings
from cross_auth_lite.dev import BrowserErrorPages, DevOAuthServer, DevProvider

__all__ = ["add_middleware", "cross_auth", "mount"]


def cross_auth(store: lite.LiteStore, settings: Settings, server: DevOAuthServer) -> CrossAuth:
    """Cross-Auth on ``store``, signing people in with the development provider ``server``."""
    return CrossAuth(
        providers=[DevProvider(server)],
        base_url=settings.base_url,
        default_next_url="/",
        config={
            "account_linking": {"enabled": True},
            "session": {
                # A request at least this long after the session was last
                # updated rolls it forward, so Last active on the profile
                # moves; more often would write to the store on every page.
                "update_age": SESSION_UPDATE_AGE,
                "cookies": {
                    "auth": True,
                    "name": SESSION_COOKIE,
                    "secure": settings.secure,
                    "samesite": "lax",
                },
            },
        },
        **store.cross_auth_kwargs(),
    )


def mount(app: FastAPI, auth: CrossAuth) -> None:
    """Include Cross-Auth's router at ``/auth`` (``/auth/dev/login``, ``/auth/dev/callback``)."""
    app.include_router(auth.router, prefix="/auth")


def add_middleware(app: FastAPI) -> None:
    """Cross-Auth's middleware, and the browser error pages of its ``/auth/...`` routes."""
    # Delivers the cookie of a session rolled forward on a read (update_age).
    app.add_middleware(SessionCookieMiddleware)
    app.add_middleware(
        BrowserErrorPages, prefix="/auth/", target="/", link_target="/profile", flash=True
    )
