"""The demo web app: Cross-Auth's FastAPI integration on a cross-auth-lite store.

``create_app`` builds the app: it puts what the routes need on ``app.state``
(the store, Cross-Auth, the development provider, the settings) and includes
one router per concern:

- ``/``: Sign in button, or the signed-in email (``routes.home``);
- ``/profile``: the user, linked accounts (unlink buttons), active sessions
  (revoke buttons) (``routes.profile``);
- ``/link`` and ``POST /accounts/{id}/unlink``: link another identity with
  Cross-Auth's connect flow, unlink one with its disconnect, refused for the
  user's last way to sign in (``routes.accounts``);
- ``POST /sessions/{id}/revoke``: revoke one of the user's sessions;
  ``/sign-out``: confirm, then ``POST`` to revoke this session
  (``routes.sessions``);
- ``/auth/...``: Cross-Auth's router (``/auth/dev/login``,
  ``/auth/dev/callback``), its failures shown on the demo's pages
  (``authentication``);
- ``/dev-oauth/...``: the built-in development provider
  (``cross_auth_lite.dev``), its codes and tokens in ``store.secondary``
  (``dev_provider``).

What happened travels in a short-lived cookie (a flash) the page clears when
it shows it, never in the URL, and pages word it themselves from its codes:
a forged link cannot put text on them (``responses``, ``notices``). An
unknown page, or a wrong method, is an HTML page for a browser and FastAPI's
JSON for other clients (``error_pages``).

State-changing requests are POSTs, and the session cookie is ``SameSite=Lax``,
so another site cannot submit them with the user's session; a cross-origin
``Origin`` header is refused as well (``dependencies.same_origin``).
"""

from __future__ import annotations

from fastapi import FastAPI

import cross_auth_lite as lite
from cross_auth_lite.demo import authentication, dev_provider, error_pages
from cross_auth_lite.demo.routes import accounts, home, profile, sessions
from cross_auth_lite.demo.settings import SESSION_COOKIE, SESSION_UPDATE_AGE, Settings

__all__ = ["SESSION_COOKIE", "SESSION_UPDATE_AGE", "create_app"]


def create_app(
    store: lite.LiteStore, *, base_url: str, client_secret: str | None = None
) -> FastAPI:
    """The demo app over ``store``, served at ``base_url`` (e.g. ``http://127.0.0.1:8000``).

    ``base_url`` is the address browsers use: OAuth redirect URIs are built
    from it, and the session cookie is ``Secure`` when it is ``https``. The
    development provider keeps its codes and tokens in ``store.secondary``;
    apps built by several worker processes on one store directory agree
    when given the same ``client_secret`` (random when not given). The
    caller owns ``store`` and closes it after the app is done.
    """
    settings = Settings.of(base_url, data_dir=store.location)
    dev_server = dev_provider.dev_server(store, settings, client_secret=client_secret)
    auth = authentication.cross_auth(store, settings, dev_server)

    app = FastAPI(
        title="cross-auth-lite demo",
        # The interactive docs load their scripts from a CDN; the demo is offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.auth = auth
    app.state.dev_server = dev_server
    app.state.settings = settings
    app.state.disconnect = accounts.disconnect_endpoint(auth)

    authentication.mount(app, auth)
    app.include_router(dev_provider.router(dev_server))
    for router in (home.router, profile.router, accounts.router, sessions.router):
        app.include_router(router)
    authentication.add_middleware(app)
    error_pages.install(app)
    return app
