"""Linking and unlinking identities: ``/link`` and ``POST /accounts/{id}/unlink``.

``/link`` remembers which identities the user has (``cookies.HAD_COOKIE``),
then starts Cross-Auth's connect flow (``/auth/dev/connect``), so the
profile can say afterwards which identity was linked, or that it already
was. Unlinking goes through Cross-Auth's disconnect (the router's ``DELETE
/auth/dev/social-accounts/{id}``, which an HTML form cannot send): its
checks (signed in, the user's own account), the ``oauth.disconnect`` hooks,
and the store's refusal to unlink the user's last way to sign in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from cross_auth.fastapi import CrossAuth
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from cross_auth_lite.demo import cookies
from cross_auth_lite.demo.dependencies import StoreDep, UserDep, same_origin
from cross_auth_lite.demo.responses import see_other, with_flash
from cross_auth_lite.demo.settings import SESSION_COOKIE
from cross_auth_lite.dev import DevProvider
from cross_auth_lite.dev.browser_errors import FLASH_COOKIE, Flash

__all__ = ["Disconnect", "disconnect_endpoint", "get_disconnect", "router"]

router = APIRouter()


def disconnect_endpoint(auth: CrossAuth) -> Callable[[Request], Response]:
    """The endpoint of Cross-Auth's disconnect route for the development provider.

    ``create_app`` looks it up once and keeps it on ``app.state.disconnect``;
    ``LookupError`` if Cross-Auth's router has no such route.
    """
    operation_id = f"{DevProvider.id}_disconnect_account"
    for route in auth.router.routes:
        if isinstance(route, APIRoute) and route.operation_id == operation_id:
            endpoint: Callable[[Request], Response] = route.endpoint
            return endpoint
    raise LookupError(f"Cross-Auth's router has no route {operation_id!r}")


async def get_disconnect(request: Request) -> Callable[[Request], Response]:
    """Cross-Auth's disconnect endpoint, from ``app.state``."""
    disconnect: Callable[[Request], Response] = request.app.state.disconnect
    return disconnect


Disconnect = Annotated[Callable[[Request], Response], Depends(get_disconnect)]


def _json_body(response: Response) -> dict[str, object]:
    try:
        payload = json.loads(bytes(response.body))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


@router.get("/link")
def link(request: Request, store: StoreDep, user: UserDep) -> Response:
    """Start linking another identity to the signed-in user."""
    if user is None:
        if FLASH_COOKIE in request.cookies or SESSION_COOKIE in request.cookies:
            return see_other("/")
        return with_flash(see_other("/"), Flash("sign-in", "needed_for_link"))
    ids = [str(a.id) for a in store.accounts.list_social_accounts(user_id=user.id)]
    had = ".".join(ids) or "-"
    response = see_other(f"/auth/{DevProvider.id}/connect?next=/profile")
    if cookies.IDS.fullmatch(had):
        response.set_cookie(
            cookies.HAD_COOKIE, had, max_age=600, path="/", httponly=True, samesite="lax"
        )
    return response


@router.post("/accounts/{social_account_id}/unlink", dependencies=[Depends(same_origin)])
def unlink_account(
    social_account_id: str,
    request: Request,
    store: StoreDep,
    user: UserDep,
    disconnect: Disconnect,
) -> Response:
    """Unlink one of the signed-in user's identities, then show the profile."""
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
