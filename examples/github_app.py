"""A small web app with "Sign in with GitHub", its users and sessions kept by cross-auth-lite.

Create a GitHub OAuth app (GitHub > Settings > Developer settings > OAuth Apps) with the
callback URL ``http://127.0.0.1:8000/auth/github/callback``, then::

    export GITHUB_CLIENT_ID=... GITHUB_CLIENT_SECRET=...
    python examples/github_app.py          # or: uvicorn examples.github_app:app

and open http://127.0.0.1:8000. Settings, all from the environment:

- ``GITHUB_CLIENT_ID``, ``GITHUB_CLIENT_SECRET``: the OAuth app's credentials (required);
- ``BASE_URL``: where browsers reach the app (default ``http://127.0.0.1:8000``);
- ``CROSS_AUTH_LITE_DATA``: the store's directory (default ``var/github-app``).
"""

from __future__ import annotations

import os
import sys
from html import escape
from typing import Any
from urllib.parse import urlsplit

from cross_auth.fastapi import CrossAuth
from cross_auth.social_providers.github import GitHubProvider
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import cross_auth_lite as lite
from cross_auth_lite.demo import access_log

# Cookies are scoped by host, not port: a name of our own keeps this app from reading or
# clearing the session cookie of another app you run on 127.0.0.1.
SESSION_COOKIE = "github_app_session"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def create_app(
    store: lite.LiteStore, *, client_id: str, client_secret: str, base_url: str
) -> FastAPI:
    """The app, with its users and sessions in ``store`` (which the caller closes)."""
    base_url = base_url.rstrip("/")
    # uvicorn's access log prints each request's query string, and the callback's carries
    # the OAuth code and state: this filter replaces every query value with "…".
    access_log.install()
    auth = CrossAuth(
        providers=[GitHubProvider(client_id=client_id, client_secret=client_secret)],
        **store.cross_auth_kwargs(),
        # Redirect URIs are built from base_url, not from the Host header of the request.
        base_url=base_url,
        default_next_url="/",
        config={
            "session": {
                "cookies": {
                    # Sign-in ends in a browser session cookie (this also adds the
                    # GET /auth/github/login route).
                    "auth": True,
                    "name": SESSION_COOKIE,
                    # Cross-Auth's cookies are Secure by default, and clients do not send
                    # a Secure cookie back over plain http (some browsers make an exception
                    # for 127.0.0.1, not all). So: Secure when the app is served over https.
                    "secure": base_url.startswith("https://"),
                    # Lax: the cookie is not sent with cross-site POSTs, so another site
                    # cannot sign you out through the form below.
                    "samesite": "lax",
                }
            }
        },
    )
    app = FastAPI(title="cross-auth-lite GitHub example")
    app.include_router(auth.router, prefix="/auth")  # /auth/github/login, .../callback

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> str:
        user = auth.get_current_user(request)  # None when signed out
        if user is None:
            body = '<a href="/auth/github/login">Sign in with GitHub</a>'
        else:
            body = (
                f"<p>Signed in as {escape(user.email or '')}</p>"
                '<p><a href="/me">/me</a></p>'
                '<form method="post" action="/sign-out"><button>Sign out</button></form>'
            )
        error = request.query_params.get("error_description")  # a failed sign-in
        if error:
            body = f"<p>Sign-in failed: {escape(error)}</p>{body}"
        return f"<!doctype html><title>GitHub sign-in</title>{body}"

    # A dependency that answers 401 itself when the request has no valid session.
    current_user = Depends(auth.require_current_user)

    @app.get("/me")
    def me(user: Any = current_user) -> dict[str, Any]:
        return {"id": str(user.id), "email": user.email}

    @app.post("/sign-out")
    def sign_out(request: Request) -> RedirectResponse:
        response = RedirectResponse("/", status_code=303)
        auth.logout(request, response=response)  # revokes the session, clears the cookie
        return response

    return app


def app_from_env() -> FastAPI:
    """The app configured from the environment; exits with a one-line error if it cannot be."""
    client_id = os.environ.get("GITHUB_CLIENT_ID")
    client_secret = os.environ.get("GITHUB_CLIENT_SECRET")
    if not (client_id and client_secret):
        raise SystemExit("error: GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must be set")
    store = lite.open(os.environ.get("CROSS_AUTH_LITE_DATA", "var/github-app"))
    base_url = os.environ.get("BASE_URL", DEFAULT_BASE_URL)
    return create_app(store, client_id=client_id, client_secret=client_secret, base_url=base_url)


def __getattr__(name: str) -> Any:
    # `uvicorn examples.github_app:app` looks up `app`: it is built then, on first use, so
    # that importing this module (as the tests do) reads no settings and opens no store.
    if name == "app":
        app = globals()["app"] = app_from_env()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    import uvicorn

    app = app_from_env()
    base_url = os.environ.get("BASE_URL", DEFAULT_BASE_URL)
    # Listen on loopback at BASE_URL's port. Behind a proxy, run uvicorn yourself instead.
    port = urlsplit(base_url).port or 8000
    print(f"Open {base_url.rstrip('/')}/", file=sys.stderr)
    uvicorn.run(app, host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
