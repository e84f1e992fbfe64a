"""The demo's error pages: an unknown page, a wrong method, a refused cross-origin request.

An unknown page, or a wrong method, is an HTML page for a browser and
FastAPI's JSON for other clients. A cross-origin request to a route guarded
by ``dependencies.same_origin`` gets a ``403`` page, whoever asks.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cross_auth_lite.demo.dependencies import CrossOriginRequest
from cross_auth_lite.demo.responses import html
from cross_auth_lite.dev import message_page

__all__ = ["cross_origin_refused", "http_error", "install"]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    """An HTML page for a browser's HTTP error, FastAPI's JSON for any other client."""
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


async def cross_origin_refused(request: Request, error: CrossOriginRequest) -> Response:
    """The ``403`` page for a ``CrossOriginRequest``."""
    return html(message_page("Refused", "Cross-origin request."), 403)


def install(app: FastAPI) -> None:
    """Make ``app`` answer with these pages."""
    # The decorator, not add_exception_handler: that one's type wants handlers
    # of any Exception, the decorator takes these, each of its own class.
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(CrossOriginRequest)(cross_origin_refused)
