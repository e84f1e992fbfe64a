"""Ending sessions: ``POST /sessions/{id}/revoke``, and ``/sign-out`` (confirm, then ``POST``).

Both are POSTs from the demo's own pages (``dependencies.same_origin``);
revoking this browser's own session is signing out.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cross_auth_lite.demo import pages
from cross_auth_lite.demo.dependencies import AuthDep, UserDep, same_origin
from cross_auth_lite.demo.responses import html, see_other, with_flash
from cross_auth_lite.dev.browser_errors import Flash

__all__ = ["router"]

router = APIRouter()


@router.post("/sessions/{session_id}/revoke", dependencies=[Depends(same_origin)])
def revoke_session(session_id: str, request: Request, auth: AuthDep, user: UserDep) -> Response:
    """Revoke one of the signed-in user's sessions, then show the profile."""
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


@router.get("/sign-out", response_class=HTMLResponse)
def sign_out_form(user: UserDep) -> Response:
    """Ask to confirm signing out; signed out, a redirect home."""
    if user is None:
        return see_other("/")
    return html(pages.sign_out_page(email=user.email))


@router.post("/sign-out", dependencies=[Depends(same_origin)])
def sign_out(request: Request, auth: AuthDep) -> Response:
    """Revoke this browser's session and clear its cookie."""
    response = see_other("/")
    auth.logout(request, response=response)
    return response
