"""What the demo's routes depend on: the store, Cross-Auth, the settings, the user, the origin.

``create_app`` puts the store, Cross-Auth and the settings on ``app.state``;
the functions here read them back for ``Depends``, so a route declares what
it needs (``auth: AuthDep``) and no route closes over ``create_app``'s
locals. ``same_origin`` guards the state-changing requests. The ones that
only read ``app.state`` or a header are ``async``, so FastAPI calls them
without a trip through its threadpool; ``current_user`` reads the store, so
it is a plain ``def`` and runs in the threadpool, as the routes do.
"""

from __future__ import annotations

from typing import Annotated

from cross_auth import User
from cross_auth.fastapi import CrossAuth
from fastapi import Depends, Request

import cross_auth_lite as lite
from cross_auth_lite.demo.settings import Settings

__all__ = [
    "AuthDep",
    "CrossOriginRequest",
    "SettingsDep",
    "StoreDep",
    "UserDep",
    "current_user",
    "get_auth",
    "get_settings",
    "get_store",
    "same_origin",
]


async def get_store(request: Request) -> lite.LiteStore:
    """The store the app was built on."""
    store: lite.LiteStore = request.app.state.store
    return store


async def get_auth(request: Request) -> CrossAuth:
    """The app's Cross-Auth."""
    auth: CrossAuth = request.app.state.auth
    return auth


async def get_settings(request: Request) -> Settings:
    """The app's settings: its address and data directory."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[lite.LiteStore, Depends(get_store)]
AuthDep = Annotated[CrossAuth, Depends(get_auth)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(request: Request, auth: AuthDep) -> User | None:
    """The signed-in user, or ``None``."""
    return auth.get_current_user(request)


UserDep = Annotated[User | None, Depends(current_user)]


class CrossOriginRequest(Exception):
    """A state-changing request another origin sent; ``error_pages`` refuses it."""


async def same_origin(request: Request, settings: SettingsDep) -> None:
    """Raise ``CrossOriginRequest`` when the request's ``Origin`` is not the demo's own.

    The session cookie is ``SameSite=Lax``, so another site's form cannot
    post with the user's session anyway; this refuses it outright. A request
    without an ``Origin`` header passes.
    """
    sent = request.headers.get("origin")
    if sent is not None and sent.lower() != settings.origin:
        raise CrossOriginRequest
