"""Sign in from a desktop program through the system browser, with a loopback redirect.

    python examples/desktop_signin.py          # GitHub: GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET
    python examples/desktop_signin.py --dev    # offline: the built-in development provider
    python examples/desktop_signin.py --sign-out

The program listens on 127.0.0.1 on a free port, serves Cross-Auth's routes there and opens
the browser at the login route. When the provider sends the browser back, Cross-Auth starts
a browser session and redirects to /done, which trades it for a session token of the
program's own: the browser keeps nothing. The token is saved (mode 0600) in the data
directory, next to the store, so the next run says "Welcome back" without a browser.

For GitHub, give your OAuth app the callback URL http://127.0.0.1/auth/github/callback:
GitHub accepts any port on a loopback callback URL (RFC 8252), so a free port is fine.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import uvicorn
from cross_auth.fastapi import CrossAuth
from cross_auth.social_providers.github import GitHubProvider
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

import cross_auth_lite as lite
from cross_auth_lite.dev import BrowserErrorPages, DevOAuthServer, DevProvider, dev_provider_router

APP_NAME = "cross-auth-lite-desktop-example"  # its own folder, apart from the demo's
SESSION_COOKIE = "desktop_signin_session"  # our own name: cookies are per host, not per port
SESSION_MAX_AGE = 30 * 24 * 3600  # the saved token stays valid for 30 days
MAX_PRINTED = 200  # the most characters of outside text (an error, an email) printed


def app_data_dir(platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> Path:
    """This program's data directory, where each platform keeps per-user application data."""
    if platform == "win32":
        base = environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    elif platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:  # the XDG base directory spec, which says to ignore a relative XDG_DATA_HOME
        xdg = environ.get("XDG_DATA_HOME", "")
        base = xdg if os.path.isabs(xdg) else str(Path.home() / ".local" / "share")
    return Path(base) / APP_NAME


def plain(text: str) -> str:
    """``text`` fit for a terminal: each unprintable character (ESC, say) becomes "?".

    At most ``MAX_PRINTED`` characters are kept.
    """
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text if len(text) <= MAX_PRINTED else text[: MAX_PRINTED - 3] + "..."


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < math.inf:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def tab_page(title: str, sentence: str, status_code: int = 200) -> HTMLResponse:
    """The tab's last page: ``title`` (our own words), ``sentence`` (HTML), then "close it"."""
    return HTMLResponse(
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><body style="font: 18px/1.5 system-ui, sans-serif; '
        f'max-width: 36em; margin: 3em auto; padding: 0 1em"><h1>{title}</h1>'
        f"<p>{sentence}</p><p>You can close this tab.</p></body></html>",
        status_code=status_code,
    )


def plain_log(record: logging.LogRecord) -> bool:
    """A logging filter: the message as plain text (Cross-Auth logs a callback's error)."""
    record.msg, record.args = plain(record.getMessage()), None
    return True


def saved_session(store: lite.LiteStore, token_file: Path) -> Any | None:
    """The session of the saved token, or None if there is none or it expired or was revoked."""
    try:
        token = token_file.read_text().strip()
    except FileNotFoundError:
        return None
    # Cross-Auth stores only sha256(token) in hex (its default session token hasher).
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    return store.sessions.get(token_hash=token_hash, now=datetime.now(UTC))


def save_token(token_file: Path, token: str) -> None:
    with lite.private_output(token_file) as file:  # 0600, replaced whole or not at all
        file.write(token)


def browser_sign_in(
    store: lite.LiteStore, *, dev: bool, browser: bool, timeout: float
) -> tuple[str, str]:
    """Sign the user in through the browser; return their email and a new session token."""
    client_id, secret = os.environ.get("GITHUB_CLIENT_ID"), os.environ.get("GITHUB_CLIENT_SECRET")
    if not dev and not (client_id and secret):
        sys.exit("error: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, or use --dev")
    # Binding port 0 first gets a free port, and so the redirect URI, before the app is built.
    sock = socket.create_server(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = FastAPI()
    if dev:
        provider: Any = DevProvider(DevOAuthServer(base_url=base_url))
        app.include_router(dev_provider_router(provider.server))  # its consent form
    else:
        provider = GitHubProvider(client_id=client_id or "", client_secret=secret or "")
    auth = CrossAuth(
        providers=[provider],
        **store.cross_auth_kwargs(),
        base_url=base_url,
        default_next_url="/done",
        # The loopback server is plain http, so the cookie cannot be Secure (see github_app.py).
        config={"session": {"cookies": {"auth": True, "name": SESSION_COOKIE, "secure": False}}},
    )
    app.include_router(auth.router, prefix="/auth")
    # Cross-Auth answers some failed sign-ins (you cancelled at the provider, say) with JSON;
    # for browsers this turns that into a redirect to /done?error=...&error_description=...
    app.add_middleware(BrowserErrorPages, prefix="/auth/", target="/done")
    outcome: dict[str, str] = {}
    finished = threading.Event()

    @app.get("/done", response_class=HTMLResponse)
    def done(request: Request) -> HTMLResponse:
        user = auth.get_current_user(request)
        error = request.query_params.get("error", "")
        if user is None and not error:
            # Every failed sign-in comes back with ?error= (from Cross-Auth or from
            # BrowserErrorPages): a visit with neither did not end one, so keep waiting.
            return HTMLResponse("No sign-in to finish here.", status_code=400)
        if user is None:  # a failed sign-in
            if error == "access_denied":  # the person pressed Cancel (or Deny) at the provider
                outcome["error"] = "it was cancelled at the provider"
            else:
                outcome["error"] = request.query_params.get("error_description") or error
            finished.set()
            sentence = f"The sign-in did not complete: {escape(outcome['error'])}."
            return tab_page("Sign-in failed", sentence, status_code=400)
        token, _ = auth.issue_session_token(
            str(user.id), max_age=SESSION_MAX_AGE, metadata={"client_name": APP_NAME}
        )
        response = tab_page("Signed in", f"Signed in as {escape(user.email or '')}.")
        auth.logout(request, response=response)  # end the browser's session, clear its cookie
        outcome.update(token=token, email=user.email or "")
        finished.set()
        return response

    # Cross-Auth's router is ASGI, so the server is uvicorn (http.server speaks only its own
    # handler API), run in a thread while the main thread waits for /done.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        login_url = f"{base_url}/auth/{provider.id}/login"
        if browser and webbrowser.open(login_url):
            print(f"Continue in your browser. If it did not open, go to {login_url}", flush=True)
        else:
            print(f"Open this URL in your browser to sign in: {login_url}", flush=True)
        if not finished.wait(timeout):
            sys.exit(f"error: no sign-in within {timeout:g} seconds")
    finally:
        server.should_exit = True  # finishes the /done response, then stops
        thread.join(timeout=10)
        sock.close()
    if "error" in outcome:  # words anything on this machine can send, so printed as plain text
        sys.exit(f"error: sign-in failed: {plain(outcome['error'])}")
    return outcome["email"], outcome["token"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign in through the system browser.")
    parser.add_argument("--dev", action="store_true", help="use the offline development provider")
    parser.add_argument("--data", type=Path, help=f"data directory (default: {app_data_dir()})")
    parser.add_argument("--no-browser", action="store_true", help="print the URL, do not open it")
    parser.add_argument("--sign-out", action="store_true", help="revoke and forget the session")
    parser.add_argument("--timeout", type=seconds, default=300, help="seconds to wait (300)")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.addFilter(plain_log)
    logging.basicConfig(handlers=[handler])  # warnings and errors to stderr, as plain text
    data = args.data or app_data_dir()
    token_file = data / "session-token"
    with lite.open(data / "auth") as store:  # creates data/ and data/auth/, both 0700
        session = saved_session(store, token_file)
        if args.sign_out:
            if session is not None:
                store.sessions.revoke(session.id, revoked_at=datetime.now(UTC))
            token_file.unlink(missing_ok=True)
            print("Signed out." if session is not None else "Not signed in.")
            return 0
        user = session and store.accounts.find_user_by_id(session.user_id)
        if user:
            print(f"Welcome back, {plain(user.email or 'you')}.")
            return 0
        email, token = browser_sign_in(
            store, dev=args.dev, browser=not args.no_browser, timeout=args.timeout
        )
        save_token(token_file, token)
        print(f"Signed in as {plain(email)}.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
