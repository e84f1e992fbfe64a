"""The demo web app: Cross-Auth's FastAPI integration on a cross-auth-lite store.

Routes:

- ``/``: Sign in button, or the signed-in email;
- ``/profile``: the user, linked accounts, active sessions (revoke buttons);
- ``POST /sessions/{id}/revoke``: revoke one of the user's sessions;
- ``/sign-out``: confirm, then ``POST`` to revoke this session;
- ``/auth/...``: Cross-Auth's router (``/auth/dev/login``, ``/auth/dev/callback``);
- ``/dev-oauth/...``: the built-in development provider
  (``cross_auth_lite.dev``), its codes and tokens in ``store.secondary``.

A failed sign-in lands on the home page with the error shown
(``cross_auth_lite.dev.BrowserErrorPages``) rather than on Cross-Auth's JSON
error body.

The page handlers are plain ``def``: FastAPI runs them in its threadpool, so
the synchronous SQLite work of the store never blocks the event loop.
State-changing requests are POSTs, and the session cookie is ``SameSite=Lax``,
so another site cannot submit them with the user's session; a cross-origin
``Origin`` header is refused as well.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cross_auth.fastapi import CrossAuth
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import cross_auth_lite as lite
from cross_auth_lite.demo import pages
from cross_auth_lite.dev import (
    BrowserErrorPages,
    DevOAuthServer,
    DevProvider,
    dev_provider_router,
    message_page,
)

__all__ = ["SESSION_COOKIE", "create_app"]

#: The name of the demo's session cookie.
SESSION_COOKIE = "cross_auth_lite_demo_session"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


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
    base_url = base_url.rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
    origin = _origin(base_url)
    dev_server = DevOAuthServer(
        base_url=base_url, storage=store.secondary, client_secret=client_secret
    )
    auth = CrossAuth(
        providers=[DevProvider(dev_server)],
        base_url=base_url,
        default_next_url="/",
        config={
            # Signing in with another provider user id but an email the provider
            # verified links that identity to the existing user (see DevProvider).
            "account_linking": {"enabled": True},
            "session": {
                "cookies": {
                    "auth": True,
                    "name": SESSION_COOKIE,
                    "secure": parts.scheme == "https",
                    "samesite": "lax",
                }
            },
        },
        **store.cross_auth_kwargs(),
    )
    data_dir = store.location

    app = FastAPI(
        title="cross-auth-lite demo",
        # The interactive docs load their scripts from a CDN; the demo is offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.auth = auth
    app.state.dev_server = dev_server
    app.include_router(auth.router, prefix="/auth")
    app.include_router(dev_provider_router(dev_server))
    app.add_middleware(BrowserErrorPages, prefix="/auth/", target="/")

    def html(page: str, status_code: int = 200) -> HTMLResponse:
        return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})

    def see_other(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def cross_origin(request: Request) -> bool:
        sent = request.headers.get("origin")
        return sent is not None and sent.lower() != origin

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        user = auth.get_current_user(request)
        # Behind a proxy, the host the browser used is in X-Forwarded-Host.
        host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
        other_host = base_url + "/" if host and host.lower() != parts.netloc.lower() else None
        return html(
            pages.home_page(
                email=None if user is None else user.email,
                signed_in=user is not None,
                data_dir=data_dir,
                error=request.query_params.get("error"),
                error_description=request.query_params.get("error_description"),
                other_host_url=other_host,
            )
        )

    @app.get("/profile", response_class=HTMLResponse)
    def profile(request: Request) -> Response:
        user = auth.get_current_user(request)
        if user is None:
            return see_other("/")
        current = auth.get_current_session(request)
        current_id = None if current is None else str(current.id)
        records = auth.list_sessions(str(user.id), status="active").records
        sessions = [
            pages.SessionRow(
                id=str(record.id),
                created_at=record.created_at,
                last_active_at=record.last_active_at,
                expires_at=record.expires_at,
                user_agent=record.user_agent,
                current=str(record.id) == current_id,
            )
            for record in records
        ]
        accounts = [
            pages.AccountRow(
                provider=account.provider,
                provider_user_id=account.provider_user_id,
                provider_email=account.provider_email,
                email_verified=account.provider_email_verified,
                is_login_method=account.is_login_method,
            )
            for account in store.accounts.list_social_accounts(user_id=user.id)
        ]
        return html(
            pages.profile_page(
                user_id=str(user.id),
                email=user.email,
                email_verified=bool(user.email_verified),
                accounts=accounts,
                sessions=sessions,
                data_dir=data_dir,
            )
        )

    @app.post("/sessions/{session_id}/revoke")
    def revoke_session(session_id: str, request: Request) -> Response:
        if cross_origin(request):
            return html(message_page("Refused", "Cross-origin request."), 403)
        user = auth.get_current_user(request)
        if user is None:
            return see_other("/")
        current = auth.get_current_session(request)
        if current is not None and str(current.id) == session_id:
            # Revoking this browser's own session is signing out: clear the cookie too.
            response = see_other("/")
            auth.logout(request, response=response)
            return response
        # Only revokes a session of this user; another user's id is a no-op.
        auth.revoke_session(session_id, user_id=str(user.id))
        return see_other("/profile")

    @app.get("/sign-out", response_class=HTMLResponse)
    def sign_out_form(request: Request) -> Response:
        user = auth.get_current_user(request)
        if user is None:
            return see_other("/")
        return html(pages.sign_out_page(email=user.email))

    @app.post("/sign-out")
    def sign_out(request: Request) -> Response:
        if cross_origin(request):
            return html(message_page("Refused", "Cross-origin request."), 403)
        response = see_other("/")
        auth.logout(request, response=response)
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app
