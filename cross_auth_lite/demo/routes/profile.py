"""The profile page (``/profile``): the user, linked accounts and active sessions.

Each account has an unlink button (``accounts``), each session a revoke
button (``sessions``). The page says what a link, an unlink or a revoke did,
from the flash and the demo's own cookies (``cookies``), and clears them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cross_auth_lite.demo import cookies, notices, pages
from cross_auth_lite.demo.dependencies import AuthDep, SettingsDep, StoreDep, UserDep
from cross_auth_lite.demo.responses import forget_flash, html, see_other, with_flash
from cross_auth_lite.demo.settings import SESSION_COOKIE
from cross_auth_lite.dev.browser_errors import FLASH_COOKIE, Flash, read_flash

__all__ = ["router"]

router = APIRouter()


@router.get("/profile", response_class=HTMLResponse)
def profile(
    request: Request, auth: AuthDep, store: StoreDep, settings: SettingsDep, user: UserDep
) -> Response:
    """The profile page; signed out, a redirect home."""
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
            data_dir=settings.data_dir,
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
