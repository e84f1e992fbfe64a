"""The development provider's HTTP endpoints, as FastAPI routes.

``GET /dev-oauth/authorize`` shows the consent form, prefilled with the
server's default identity (or the ``login_hint`` email); its ``POST``
answers with a redirect to the client carrying a code, or
``error=access_denied`` on Cancel. ``POST /dev-oauth/token`` and
``GET /dev-oauth/userinfo`` serve the same protocol steps the provider
reaches in process through ``DevOAuthServer.wsgi_app``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cross_auth_lite.dev import pages
from cross_auth_lite.dev.server import (
    AUTHORIZE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    AuthorizationRequest,
    DevIdentity,
    DevOAuthError,
    DevOAuthServer,
    EndpointReply,
    call_endpoint,
)

__all__ = ["dev_provider_router"]


def _json(reply: EndpointReply) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **dict(reply.headers)}
    return JSONResponse(reply.body, status_code=reply.status, headers=headers)


def _error_page(error: DevOAuthError) -> HTMLResponse:
    page = pages.message_page(
        "Development provider: bad request",
        f"{error.error}: {error.description}",
        theme="provider",
    )
    return HTMLResponse(page, status_code=400)


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def dev_provider_router(
    server: DevOAuthServer,
    *,
    linking: Callable[[Request, AuthorizationRequest], bool] | None = None,
    app_name: str = "the app",
    name_hint: str | None = None,
) -> APIRouter:
    """Routes for ``server``'s three endpoints; include the router at the app's root.

    The consent form calls the app signing people in ``app_name`` (e.g.
    ``"the demo"``, as it reads mid-sentence), and says under the Name field
    what the app does with it when ``name_hint`` is given.

    ``linking(http_request, authorization_request)`` says whether the person
    is linking an identity to their account rather than signing in; the
    consent form is worded for it then.
    """
    router = APIRouter(tags=["development provider"])

    def consent(
        http: Request,
        request: AuthorizationRequest,
        identity: DevIdentity,
        problem: str | None = None,
    ) -> HTMLResponse:
        page = pages.consent_page(
            action=server.authorize_url,
            request=request,
            identity=identity,
            problem=problem,
            linking=linking is not None and linking(http, request),
            app_name=app_name,
            name_hint=name_hint,
        )
        return HTMLResponse(
            page, status_code=400 if problem else 200, headers={"Cache-Control": "no-store"}
        )

    @router.get(AUTHORIZE_PATH, response_class=HTMLResponse)
    def authorize_form(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            auth_request = server.check_authorization_request(params)
        except DevOAuthError as error:
            return _error_page(error)
        identity = server.default_identity
        hint = params.get("login_hint", "").strip()
        if hint:
            identity = DevIdentity(identity.name, hint, identity.sub, identity.email_verified)
        if linking is not None and linking(request, auth_request):
            # Linking the identity already signed in would change nothing: offer a new one.
            identity = DevIdentity(
                identity.name,
                identity.email,
                f"{identity.sub}-{secrets.token_hex(3)}",
                identity.email_verified,
            )
        return consent(request, auth_request, identity)

    @router.post(AUTHORIZE_PATH, response_class=HTMLResponse)
    async def authorize_submit(request: Request) -> Response:
        form = await _form(request)
        try:
            auth_request = server.check_authorization_request(form)
        except DevOAuthError as error:
            return _error_page(error)
        if form.get("decision") == "deny":
            return RedirectResponse(server.denial_url(auth_request), status_code=303)
        identity = DevIdentity(
            name=form.get("name", "").strip(),
            email=form.get("email", "").strip(),
            sub=form.get("sub", "").strip(),
            email_verified=form.get("email_verified") == "on",
        )
        problem = server.identity_problem(identity)
        if problem:
            return consent(request, auth_request, identity, problem)
        return RedirectResponse(server.approve(auth_request, identity), status_code=303)

    @router.post(TOKEN_PATH)
    async def token(request: Request) -> JSONResponse:
        form = await _form(request)
        return _json(call_endpoint(lambda: server.exchange(form)))

    @router.get(USERINFO_PATH)
    def userinfo(request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization")
        return _json(call_endpoint(lambda: server.userinfo(authorization)))

    return router
