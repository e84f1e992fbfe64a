"""Show Cross-Auth's sign-in errors to a person as a page, not as JSON.

Cross-Auth answers a failed browser sign-in (the person cancelled at the
provider, a stale or replayed callback, a token exchange that failed) with a
JSON error body: right for an API, a dead end in a browser. This middleware
watches browser navigations (``GET`` that accepts ``text/html``) under the
auth prefix, and turns such a JSON error into a redirect to the home page
with ``?error=...&error_description=...``, which the home page displays.
Cookies the error response sets (clearing the sign-in attempt's binding
cookie) are kept. Everything else passes through untouched.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BrowserErrorPages"]

_MAX_BODY = 64 * 1024


class BrowserErrorPages:
    """ASGI middleware: JSON errors on browser GETs under ``prefix`` redirect to ``target``."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/auth/", target: str = "/") -> None:
        self.app = app
        self.prefix = prefix
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(self.prefix)
            or "text/html" not in Headers(scope=scope).get("accept", "")
        ):
            await self.app(scope, receive, send)
            return

        held: Message | None = None
        body = bytearray()

        async def intercept(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if message["status"] >= 400 and content_type.startswith("application/json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b"")[: _MAX_BODY - len(body)])
                if not message.get("more_body", False):
                    await send(self._redirect(held, bytes(body)))
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, intercept)

    def _redirect(self, start: Message, body: bytes) -> Message:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        params = {"error": str(payload.get("error") or f"http_{start['status']}")}
        if payload.get("error_description"):
            params["error_description"] = str(payload["error_description"])
        cookies = [
            (name, value)
            for name, value in start.get("headers", [])
            if name.lower() == b"set-cookie"
        ]
        location = f"{self.target}?{urlencode(params)}".encode("latin-1", "replace")
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
