"""Show Cross-Auth's sign-in errors to a person as a page, not as JSON.

Cross-Auth answers a failed browser sign-in (the person cancelled at the
provider, a stale or replayed callback, a token exchange that failed) with a
JSON error body: right for an API, a dead end in a browser. This middleware
watches browser navigations (``GET`` that accepts ``text/html``) under the
auth prefix, and turns such a JSON error into a redirect to the home page
with ``?error=...&error_description=...``, which the home page displays.
Cookies the error response sets (clearing the sign-in attempt's binding
cookie) are kept. Everything else passes through untouched.

Two more parameters say what failed, for a page to word its message:

- ``flow=link`` when the failed callback ends a connect flow (linking an
  identity to the signed-in user, ``/auth/{provider}/connect``), and
  ``flow=sign-in`` otherwise. Such failures go to ``link_target`` (by
  default ``target``). The middleware knows a connect flow by its OAuth
  ``state``: when a connect starts, it remembers the state in a short-lived
  cookie of its own (``LINK_COOKIE``), and a callback carrying that state is
  the end of the link. Stateless on the server, so it works across workers.
- ``source=provider`` when the callback itself carried the provider's
  ``error`` (``access_denied``: the person pressed Cancel at the provider)
  rather than a code Cross-Auth then failed to use.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LINK_COOKIE", "BrowserErrorPages"]

_MAX_BODY = 64 * 1024
#: The cookie holding the OAuth state of the connect flow in progress.
LINK_COOKIE = "cross_auth_lite_linking"
#: Cross-Auth keeps a started flow for ten minutes; so does the cookie.
_LINK_COOKIE_AGE = 600


def _query(scope: Scope) -> dict[str, list[str]]:
    raw: bytes = scope.get("query_string", b"")
    return parse_qs(raw.decode("latin-1"))


class BrowserErrorPages:
    """ASGI middleware: JSON errors on browser GETs under ``prefix`` redirect to ``target``.

    ``link_target`` is where a failed link (connect flow) goes instead.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str = "/auth/",
        target: str = "/",
        link_target: str | None = None,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.target = target
        self.link_target = target if link_target is None else link_target
        self._cookie_path = prefix.rstrip("/") or "/"
        self._forget_link = _link_cookie("", path=self._cookie_path, max_age=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(self.prefix)
            or "text/html" not in Headers(scope=scope).get("accept", "")
        ):
            await self.app(scope, receive, send)
            return

        path: str = scope["path"]
        query = _query(scope)
        starts_link = path.endswith("/connect")
        is_callback = path.endswith("/callback")
        linking = False
        if is_callback:
            cookies = SimpleCookie(Headers(scope=scope).get("cookie", ""))
            remembered = cookies[LINK_COOKIE].value if LINK_COOKIE in cookies else None
            linking = remembered is not None and remembered in query.get("state", [])
        extra: dict[str, str] = {"flow": "link" if linking or starts_link else "sign-in"}
        if is_callback and query.get("error"):
            extra["source"] = "provider"

        held: Message | None = None
        body = bytearray()

        async def intercept(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if message["status"] >= 400 and headers.get("content-type", "").startswith(
                    "application/json"
                ):
                    held = message
                    return
                if starts_link:
                    message = self._remember_link(message, headers.get("location", ""))
                elif is_callback and linking:
                    message = _with_cookie(message, self._forget_link)
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b"")[: _MAX_BODY - len(body)])
                if not message.get("more_body", False):
                    start = self._redirect(held, bytes(body), extra)
                    if linking:
                        start = _with_cookie(start, self._forget_link)
                    await send(start)
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, intercept)

    def _remember_link(self, start: Message, location: str) -> Message:
        state = parse_qs(urlsplit(location).query).get("state")
        if not state or start["status"] not in (302, 303, 307):
            return start
        cookie = _link_cookie(state[0], path=self._cookie_path, max_age=_LINK_COOKIE_AGE)
        return _with_cookie(start, cookie)

    def _redirect(self, start: Message, body: bytes, extra: dict[str, str]) -> Message:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        params = {"error": str(payload.get("error") or f"http_{start['status']}")}
        if payload.get("error_description"):
            params["error_description"] = str(payload["error_description"])
        params.update(extra)
        cookies = [
            (name, value)
            for name, value in start.get("headers", [])
            if name.lower() == b"set-cookie"
        ]
        target = self.link_target if extra.get("flow") == "link" else self.target
        location = f"{target}?{urlencode(params)}".encode("latin-1", "replace")
        return {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
                *cookies,
            ],
        }


def _link_cookie(value: str, *, path: str, max_age: int) -> bytes:
    # The state is hex from Cross-Auth; anything else is not kept.
    safe = value if value.isalnum() and value.isascii() else ""
    return (
        f"{LINK_COOKIE}={safe}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax"
    ).encode("latin-1")


def _with_cookie(start: Message, cookie: bytes) -> Message:
    return {**start, "headers": [*start.get("headers", []), (b"set-cookie", cookie)]}
