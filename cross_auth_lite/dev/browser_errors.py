"""Show Cross-Auth's sign-in errors to a person as a page, not as JSON.

Cross-Auth answers a failed browser sign-in (the person cancelled at the
provider, a stale or replayed callback, a token exchange that failed) with a
JSON error body: right for an API, a dead end in a browser. This middleware
watches browser navigations (``GET`` that accepts ``text/html``) under the
auth prefix, and turns such a JSON error into a redirect to the home page.
Cookies the error response sets (clearing the sign-in attempt's binding
cookie) are kept. Everything else passes through untouched.

By default the redirect carries ``?error=...&error_description=...&flow=...``
(and ``source=...``) for the page to display. With ``flash=True`` it carries
them in a *flash* instead: a short-lived ``HttpOnly``, ``SameSite=Lax`` cookie
(``FLASH_COOKIE``, read with ``read_flash``) that the page shows once and
clears. Then nothing about the outcome travels in the URL, so a forged link
cannot put words on the app's page; and the flash holds only short codes
(``[A-Za-z0-9_-]``), never Cross-Auth's free-text description (which, for a
callback, echoes the provider's ``error`` parameter). In that mode a link that
succeeds gets a flash too (``outcome="linked"``), and the failures Cross-Auth
redirects itself with ``?error=`` (an expired attempt) become flashes.

What failed (the query's ``flow`` and ``source``, a ``Flash``'s fields), for a
page to word its message:

- ``flow="link"`` when the callback ends a connect flow (linking an identity
  to the signed-in user, ``/auth/{provider}/connect``), and ``"sign-in"``
  otherwise. Failed links go to ``link_target`` (by default ``target``). The middleware
  knows a connect flow by its OAuth ``state``: when a connect starts, it
  remembers the state in a short-lived cookie of its own (``LINK_COOKIE``,
  path ``/``, so the provider's consent form can say it is a link), and a
  callback carrying that state is the end of the link (the cookie is
  forgotten when the link fails, kept when it succeeds, so that the same
  form sent again is still a link). Stateless on the server, so it works
  across workers.
- ``error`` (a flash's ``outcome``): Cross-Auth's error code.
- ``source="provider"`` when the callback itself carried the provider's
  ``error`` (``access_denied``: the person pressed Cancel at the provider)
  rather than a code Cross-Auth then failed to use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "FLASH_COOKIE",
    "LINK_COOKIE",
    "BrowserErrorPages",
    "Flash",
    "flash_cookie",
    "linking_state",
    "read_flash",
]

_MAX_BODY = 64 * 1024
#: The cookie holding the OAuth state of the connect flow in progress.
LINK_COOKIE = "cross_auth_lite_linking"
#: Cross-Auth keeps a started flow for ten minutes; so does the cookie.
_LINK_COOKIE_AGE = 600
#: The cookie carrying a ``Flash`` to the next page.
FLASH_COOKIE = "cross_auth_lite_flash"
#: Long enough for the redirect to be followed; the page clears it when shown.
_FLASH_AGE = 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{0,64}")


@dataclass(frozen=True)
class Flash:
    """The outcome of a sign-in, link or unlink, carried to the next page.

    ``flow`` is ``"sign-in"``, ``"link"``, ``"unlink"`` or ``"revoke"`` (a
    session); ``outcome`` an error code or a success (``"linked"``,
    ``"unlinked"``, ``"revoked"``); ``source`` is
    ``"provider"`` when the provider sent the error; ``account`` the id of
    the social account it is about, if any. Each is a short code
    (``[A-Za-z0-9_-]``, at most 64 characters): anything else is replaced.
    """

    flow: str
    outcome: str
    source: str = ""
    account: str = ""

    def __post_init__(self) -> None:
        for name in ("flow", "outcome", "source", "account"):
            if not _TOKEN.fullmatch(getattr(self, name)):
                object.__setattr__(self, name, "unknown" if name == "outcome" else "")

    @property
    def value(self) -> str:
        """The cookie value: the four codes, dot-separated."""
        return ".".join((self.flow, self.outcome, self.source, self.account))

    @classmethod
    def parse(cls, value: str) -> Flash | None:
        """The flash a cookie value holds, or ``None`` when it is not one."""
        parts = value.split(".")
        if len(parts) != 4 or not all(_TOKEN.fullmatch(part) for part in parts):
            return None
        if parts[0] not in ("sign-in", "link", "unlink", "revoke") or not parts[1]:
            return None
        return cls(*parts)


def flash_cookie(flash: Flash | None) -> str:
    """A ``Set-Cookie`` value carrying ``flash`` to the next page; ``None`` clears it."""
    value, age = ("", 0) if flash is None else (flash.value, _FLASH_AGE)
    return f"{FLASH_COOKIE}={value}; Max-Age={age}; Path=/; HttpOnly; SameSite=Lax"


def read_flash(cookies: Mapping[str, str]) -> Flash | None:
    """The flash among a request's ``cookies`` (name to value), if it holds one."""
    value = cookies.get(FLASH_COOKIE)
    return None if not value else Flash.parse(value)


def linking_state(cookies: Mapping[str, str]) -> str | None:
    """The OAuth state of the connect flow this browser started, from its ``cookies``."""
    return cookies.get(LINK_COOKIE) or None


def _query(scope: Scope) -> dict[str, list[str]]:
    raw: bytes = scope.get("query_string", b"")
    return parse_qs(raw.decode("latin-1"))


class BrowserErrorPages:
    """ASGI middleware: JSON errors on browser GETs under ``prefix`` redirect to ``target``.

    ``link_target`` is where a failed link (connect flow) goes instead;
    ``flash`` carries the outcome in a cookie (``Flash``), not in the query.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str = "/auth/",
        target: str = "/",
        link_target: str | None = None,
        flash: bool = False,
    ) -> None:
        self.app = app
        self.flash = flash
        self.prefix = prefix
        self.target = target
        self.link_target = target if link_target is None else link_target
        self._forget_link = _link_cookie("", max_age=0)

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
        flow = "link" if linking or starts_link else "sign-in"
        source = "provider" if is_callback and query.get("error") else ""

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
                location = headers.get("location", "")
                if starts_link:
                    message = self._remember_link(message, location)
                elif self.flash and is_callback and "error" in parse_qs(urlsplit(location).query):
                    # Cross-Auth redirects some failures (an expired attempt) with
                    # ?error=... itself: the same flash instead, and a clean URL.
                    error = parse_qs(urlsplit(location).query)["error"][0]
                    message = self._redirect(message, {"error": error}, flow=flow, source=source)
                    if linking:
                        message = _with_cookie(message, self._forget_link)
                elif is_callback and linking and self.flash and 300 <= message["status"] < 400:
                    # The link cookie stays (until it expires): the same form sent
                    # again (Back, resubmit) is then still known as this link.
                    done = flash_cookie(Flash("link", "linked")).encode("latin-1")
                    message = _with_cookie(message, done)
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b"")[: _MAX_BODY - len(body)])
                if not message.get("more_body", False):
                    start = self._redirect(held, _payload(bytes(body)), flow=flow, source=source)
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
        cookie = _link_cookie(state[0], max_age=_LINK_COOKIE_AGE)
        return _with_cookie(start, cookie)

    def _redirect(
        self, start: Message, payload: Mapping[str, object], *, flow: str, source: str
    ) -> Message:
        """A redirect to the target page carrying the ``error`` in ``payload``."""
        error = str(payload.get("error") or f"http_{start['status']}")
        target = self.link_target if flow == "link" else self.target
        if self.flash:
            # Only the code: the description may repeat what the callback's URL said.
            flash = flash_cookie(Flash(flow, error, source)).encode("latin-1")
            carried = [(b"set-cookie", flash)]
            location = target
        else:
            params = {"error": error}
            if payload.get("error_description"):
                params["error_description"] = str(payload["error_description"])
            params["flow"] = flow
            if source:
                params["source"] = source
            location = f"{target}?{urlencode(params)}"
            carried = []
        cookies = [
            (name, value)
            for name, value in start.get("headers", [])
            if name.lower() == b"set-cookie"
        ]
        return {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1", "replace")),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
                *cookies,
                *carried,
            ],
        }


def _payload(body: bytes) -> Mapping[str, object]:
    try:
        payload = json.loads(body)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _link_cookie(value: str, *, max_age: int) -> bytes:
    # The state is hex from Cross-Auth; anything else is not kept.
    safe = value if value.isalnum() and value.isascii() else ""
    return (f"{LINK_COOKIE}={safe}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax").encode(
        "latin-1"
    )


def _with_cookie(start: Message, cookie: bytes) -> Message:
    return {**start, "headers": [*start.get("headers", []), (b"set-cookie", cookie)]}
