"""The home page (``/``): the Sign in button, or who is signed in; and the favicon.

It says what a sign-in did (the flash ``BrowserErrorPages`` or a route left),
that the session ended, that the browser used another address than the
demo's, or that the user is new.
"""

from __future__ import annotations

from cross_auth.fastapi import CrossAuth
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cross_auth_lite.demo import notices, pages
from cross_auth_lite.demo.dependencies import AuthDep, SettingsDep, UserDep
from cross_auth_lite.demo.responses import forget_flash, html
from cross_auth_lite.demo.settings import SESSION_COOKIE
from cross_auth_lite.dev.browser_errors import read_flash

__all__ = ["router"]

router = APIRouter()


def _first_session(auth: CrossAuth, user_id: str, current_id: str | None) -> bool:
    # The user's earliest session, revoked and expired ones included, is
    # this browser's: the sign-in that created the user.
    first = auth.list_sessions(user_id, order_by="created_at_asc", limit=1).records
    return current_id is not None and bool(first) and str(first[0].id) == current_id


@router.get("/", response_class=HTMLResponse)
def home(request: Request, auth: AuthDep, settings: SettingsDep, user: UserDep) -> Response:
    """The home page."""
    # Behind a proxy, the host the browser used is in X-Forwarded-Host.
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    other_host = None
    if host and host.lower() != settings.host.lower():
        other_host = settings.base_url + "/"
    new_user = False
    if user is not None:
        current = auth.get_current_session(request)
        new_user = _first_session(auth, str(user.id), None if current is None else str(current.id))
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
            data_dir=settings.data_dir,
            notice=notice,
            other_host_url=other_host,
            new_user=new_user,
        )
    )
    forget_flash(request, response)
    if session_ended:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The demo has no icon: an empty ``204`` rather than a ``404``."""
    return Response(status_code=204)
