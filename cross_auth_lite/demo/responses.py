"""The responses the demo's routes send: pages that are never cached, redirects, flashes.

What happened (a sign-in, a link, an unlink, a revoke) travels to the next
page in a short-lived cookie, a flash, never in the URL; the page that shows
it clears it.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cross_auth_lite.dev.browser_errors import FLASH_COOKIE, Flash, flash_cookie

__all__ = ["forget_flash", "html", "see_other", "with_flash"]


def html(page: str, status_code: int = 200) -> HTMLResponse:
    """``page``, with ``Cache-Control: no-store``: it shows who is signed in."""
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})


def see_other(url: str) -> RedirectResponse:
    """A ``303 See Other`` to ``url``: the browser follows it with a GET."""
    return RedirectResponse(url, status_code=303)


def with_flash(response: Response, flash: Flash) -> Response:
    """``response``, setting the flash cookie to ``flash``."""
    response.headers.append("set-cookie", flash_cookie(flash))
    return response


def forget_flash(request: Request, response: Response) -> None:
    """Clear the flash cookie on ``response`` if ``request`` has one."""
    # Shown once: the page that read it clears it (a bad one is cleared too).
    if FLASH_COOKIE in request.cookies:
        response.headers.append("set-cookie", flash_cookie(None))
