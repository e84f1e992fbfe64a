"""The demo web app: Cross-Auth's FastAPI integration on a cross-auth-lite store.

Routes:

- ``/``: Sign in button, or the signed-in email;
- ``/profile``: the user, linked accounts (unlink buttons), active sessions
  (revoke buttons);
- ``/link``: remembers which identities the user has, then starts
  Cross-Auth's connect flow (``/auth/dev/connect``), so the profile can say
  afterwards which identity was linked, or that it already was;
- ``POST /accounts/{id}/unlink``: unlink one of the user's identities, with
  Cross-Auth's disconnect (the router's ``DELETE
  /auth/dev/social-accounts/{id}``, which an HTML form cannot send), refused
  for the user's last way to sign in;
- ``POST /sessions/{id}/revoke``: revoke one of the user's sessions;
- ``/sign-out``: confirm, then ``POST`` to revoke this session;
- ``/auth/...``: Cross-Auth's router (``/auth/dev/login``, ``/auth/dev/callback``);
- ``/dev-oauth/...``: the built-in development provider
  (``cross_auth_lite.dev``), its codes and tokens in ``store.secondary``; its
  consent form says "Link an identity" when this browser started a link.

A failed sign-in lands on the home page with the error explained
(``cross_auth_lite.dev.BrowserErrorPages``) rather than on Cross-Auth's JSON
error body; a failed link lands on the profile. What happened travels in a
short-lived cookie (a flash) the page clears when it shows it, never in the
URL, and pages word it themselves from its codes: a forged link cannot put
text on them. An unknown page, or a wrong
method, is an HTML page for a browser and FastAPI's JSON for other clients.

The page handlers are plain ``def``: FastAPI runs them in its threadpool, so
the synchronous SQLite work of the store never blocks the event loop.
State-changing requests are POSTs, and the session cookie is ``SameSite=Lax``,
so another site cannot submit them with the user's session; a cross-origin
``Origin`` header is refused as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlsplit

from cross_auth.fastapi import CrossAuth, SessionCookieMiddleware
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

import cross_auth_lite as lite
from cross_auth_lite.demo import cookies, notices, pages
from cross_auth_lite.dev import (
    BrowserErrorPages,
    DevOAuthServer,
    DevProvider,
    dev_provider_router,
    message_page,
)
from cross_auth_lite.dev.browser_errors import (
    FLASH_COOKIE,
    Flash,
    flash_cookie,
    linking_state,
    read_flash,
)
from cross_auth_lite.dev.server import AuthorizationRequest

__all__ = ["SESSION_COOKIE", "SESSION_UPDATE_AGE", "create_app"]

#: The name of the demo's session cookie.
SESSION_COOKIE = "cross_auth_lite_demo_session"
#: Seconds after which a request updates its session's last activity (and expiry).
SESSION_UPDATE_AGE = 60


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _route_endpoint(auth: CrossAuth, operation_id: str) -> Callable[[Request], Response]:
    """The endpoint of Cross-Auth's route ``operation_id``, to call from a demo route."""
    for route in auth.router.routes:
        if isinstance(route, APIRoute) and route.operation_id == operation_id:
            endpoint: Callable[[Request], Response] = route.endpoint
            return endpoint
    raise LookupError(f"Cross-Auth's router has no route {operation_id!r}")


def _json_body(response: Response) -> dict[str, object]:
    try:
        payload = json.loads(bytes(response.body))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


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
                # A request at least this long after the session was last
                # updated rolls it forward, so Last active on the profile
                # moves; more often would write to the store on every page.
                "update_age": SESSION_UPDATE_AGE,
                "cookies": {
                    "auth": True,
                    "name": SESSION_COOKIE,
                    "secure": parts.scheme == "https",
                    "samesite": "lax",
                },
            },
        },
        **store.cross_auth_kwargs(),
    )
    data_dir = store.location
    provider_id = DevProvider.id
    # Cross-Auth's disconnect: its checks (signed in, the user's own account),
    # the oauth.disconnect hooks, and the store's last-login-method refusal.
    disconnect = _route_endpoint(auth, f"{provider_id}_disconnect_account")

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

    def linking(http: Request, authorization: AuthorizationRequest) -> bool:
        return linking_state(http.cookies) == authorization.state

    app.include_router(
        dev_provider_router(
            dev_server,
            linking=linking,
            app_name="the demo",
            name_hint="the demo stores no names, so you will not see it again.",
        )
    )
    # Delivers the cookie of a session rolled forward on a read (update_age).
    app.add_middleware(SessionCookieMiddleware)
    app.add_middleware(
        BrowserErrorPages, prefix="/auth/", target="/", link_target="/profile", flash=True
    )

    def html(page: str, status_code: int = 200) -> HTMLResponse:
        return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})

    def see_other(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def cross_origin(request: Request) -> bool:
        sent = request.headers.get("origin")
        return sent is not None and sent.lower() != origin

    def refused(request: Request) -> Response | None:
        if cross_origin(request):
            return html(message_page("Refused", "Cross-origin request."), 403)
        return None

    def with_flash(response: Response, flash: Flash) -> Response:
        response.headers.append("set-cookie", flash_cookie(flash))
        return response

    def forget_flash(request: Request, response: Response) -> None:
        # Shown once: the page that read it clears it (a bad one is cleared too).
        if FLASH_COOKIE in request.cookies:
            response.headers.append("set-cookie", flash_cookie(None))

    def first_session(user_id: str, current_id: str | None) -> bool:
        # The user's earliest session, revoked and expired ones included, is
        # this browser's: the sign-in that created the user.
        first = auth.list_sessions(user_id, order_by="created_at_asc", limit=1).records
        return current_id is not None and bool(first) and str(first[0].id) == current_id

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not _wants_html(request) or error.status_code < 400:
            return await http_exception_handler(request, error)
        status = HTTPStatus(error.status_code)
        text = {
            404: "There is no page at this address.",
            405: "This address does not take that kind of request.",
        }.get(error.status_code, str(error.detail))
        page = message_page(f"{status.value} {status.phrase}", text)
        headers = {"Cache-Control": "no-store", **(error.headers or {})}
        return HTMLResponse(page, status_code=error.status_code, headers=headers)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        user = auth.get_current_user(request)
        # Behind a proxy, the host the browser used is in X-Forwarded-Host.
        host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
        other_host = base_url + "/" if host and host.lower() != parts.netloc.lower() else None
        new_user = False
        if user is not None:
            current = auth.get_current_session(request)
            new_user = first_session(str(user.id), None if current is None else str(current.id))
        flash = read_flash(request.cookies)
        # A session cookie that signs no one in: the session was revoked or expired.
        session_ended = user is None and SESSION_COOKIE in request.cookies
        email = None if user is None else user.email
        notice = None
        if flash is not None:
            notice = notices.outcome_notice(flash, signed_in=user is not None, email=email)
        elif session_ended:
            notice = notices.Notice(notices.SESSION_ENDED)
        response = html(
            pages.home_page(
                email=email,
                signed_in=user is not None,
                data_dir=data_dir,
                notice=notice,
                other_host_url=other_host,
                new_user=new_user,
            )
        )
        forget_flash(request, response)
        if session_ended:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/profile", response_class=HTMLResponse)
    def profile(request: Request) -> Response:
        user = auth.get_current_user(request)
        if user is None:
            # Signed out (e.g. a link that failed because the session ended):
            # the home page shows the flash, if there is one, or says why.
            if FLASH_COOKIE in request.cookies or SESSION_COOKIE in request.cookies:
                return see_other("/")
            return with_flash(see_other("/"), Flash("sign-in", "needed_for_profile"))
        current = auth.get_current_session(request)
        current_id = None if current is None else str(current.id)
        records = auth.list_sessions(str(user.id), status="active").records
        sessions = [pages.SessionRow.of(record, current_id=current_id) for record in records]
        accounts = [
            pages.AccountRow.of(account)
            for account in store.accounts.list_social_accounts(user_id=user.id)
        ]
        flash = read_flash(request.cookies)
        notice = None
        if flash is not None:
            notice = notices.outcome_notice(
                flash,
                accounts=accounts,
                had=cookies.had(request.cookies),
                signed_in=True,
                email=user.email,
                unlinked=cookies.unlinked(request.cookies) if flash.flow == "unlink" else None,
            )
        response = html(
            pages.profile_page(
                user_id=str(user.id),
                email=user.email,
                email_verified=bool(user.email_verified),
                accounts=accounts,
                sessions=sessions,
                data_dir=data_dir,
                notice=notice,
                has_password=bool(user.has_usable_password),
            )
        )
        forget_flash(request, response)
        if flash is not None and flash.flow == "link":
            response.delete_cookie(cookies.HAD_COOKIE, path="/")
        if cookies.UNLINKED_COOKIE in request.cookies:
            response.delete_cookie(cookies.UNLINKED_COOKIE, path="/")
        return response

    @app.get("/link")
    def link(request: Request) -> Response:
        user = auth.get_current_user(request)
        if user is None:
            if FLASH_COOKIE in request.cookies or SESSION_COOKIE in request.cookies:
                return see_other("/")
            return with_flash(see_other("/"), Flash("sign-in", "needed_for_link"))
        ids = [str(a.id) for a in store.accounts.list_social_accounts(user_id=user.id)]
        had = ".".join(ids) or "-"
        response = see_other(f"/auth/{provider_id}/connect?next=/profile")
        if cookies.IDS.fullmatch(had):
            response.set_cookie(
                cookies.HAD_COOKIE, had, max_age=600, path="/", httponly=True, samesite="lax"
            )
        return response

    @app.post("/accounts/{social_account_id}/unlink")
    def unlink_account(social_account_id: str, request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        user = auth.get_current_user(request)
        if user is None:
            return see_other("/")
        owned = [
            a
            for a in store.accounts.list_social_accounts(user_id=user.id)
            if str(a.id) == social_account_id
        ]
        # Cross-Auth reads social_account_id from this request's path parameters.
        answer = disconnect(request)
        if answer.status_code < 400:
            response = with_flash(see_other("/profile"), Flash("unlink", "unlinked"))
            if owned:
                name = cookies.unlinked_value(owned[0].provider, owned[0].provider_user_id)
                response.set_cookie(
                    cookies.UNLINKED_COOKIE,
                    name,
                    max_age=60,
                    path="/",
                    httponly=True,
                    samesite="lax",
                )
            return response
        error = str(_json_body(answer).get("error") or f"http_{answer.status_code}")
        flash = Flash("unlink", error, account=social_account_id)
        return with_flash(see_other("/profile"), flash)

    @app.post("/sessions/{session_id}/revoke")
    def revoke_session(session_id: str, request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
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
        session = auth.get_session(session_id, user_id=str(user.id))
        if session is None or session.revoked_at is not None:
            return see_other("/profile")
        auth.revoke_session(session_id, user_id=str(user.id))
        return with_flash(see_other("/profile"), Flash("revoke", "revoked"))

    @app.get("/sign-out", response_class=HTMLResponse)
    def sign_out_form(request: Request) -> Response:
        user = auth.get_current_user(request)
        if user is None:
            return see_other("/")
        return html(pages.sign_out_page(email=user.email))

    @app.post("/sign-out")
    def sign_out(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        response = see_other("/")
        auth.logout(request, response=response)
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app
