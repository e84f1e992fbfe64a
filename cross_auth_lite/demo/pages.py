"""HTML for the demo's own pages, on the development package's layout.

No template engine: pages are f-strings, and every value that comes from a
user, a provider or the store goes through ``esc`` (``html.escape`` with
quotes) before it reaches the markup. The layout, its CSS, ``esc`` and
``message_page`` live in ``cross_auth_lite.dev`` (the consent form uses them
too); this module holds what only the demo shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cross_auth_lite.dev import esc, layout

__all__ = [
    "AccountRow",
    "SessionRow",
    "browser_label",
    "home_page",
    "profile_page",
    "sign_out_page",
]


@dataclass(frozen=True)
class AccountRow:
    """A linked provider account, as the profile page shows it."""

    provider: str
    provider_user_id: str
    provider_email: str | None
    email_verified: bool | None
    is_login_method: bool


@dataclass(frozen=True)
class SessionRow:
    """An active session, as the profile page shows it."""

    id: str
    created_at: datetime
    last_active_at: datetime | None
    expires_at: datetime
    user_agent: str | None
    current: bool


def _nav(signed_in: bool) -> list[tuple[str, str]]:
    if signed_in:
        return [("/profile", "Profile"), ("/sign-out", "Sign out")]
    return [("/auth/dev/login", "Sign in")]


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%b %d, %H:%M")


_BROWSERS = (
    ("Edg/", "Edge"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chrome/", "Chrome"),
    ("Firefox/", "Firefox"),
    ("Safari/", "Safari"),
    ("python-httpx/", "httpx"),
    ("testclient", "TestClient"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str | None) -> str:
    """A short name for a User-Agent, e.g. ``"Firefox on Linux"``."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for key, name in _BROWSERS if key in user_agent), None)
    system = next((name for key, name in _SYSTEMS if key in user_agent), None)
    if browser is None:
        return user_agent[:40]
    return f"{browser} on {system}" if system else browser


def _footer(data_dir: str) -> str:
    return f"Data directory: <code>{esc(data_dir)}</code>"


def home_page(
    *,
    email: str | None,
    signed_in: bool,
    data_dir: str,
    error: str | None = None,
    error_description: str | None = None,
    other_host_url: str | None = None,
) -> str:
    """The home page: a Sign in button, or who is signed in.

    ``other_host_url`` is set when the page was opened under another host
    name than the configured base URL, where sign-in cannot complete (the
    browser-binding cookie would belong to the other host).
    """
    notices = ""
    if other_host_url is not None:
        notices += (
            '<div class="notice">Sign-in only works at the address the demo was started '
            f'with: <a href="{esc(other_host_url)}">{esc(other_host_url)}</a></div>'
        )
    if error:
        detail = f": {esc(error_description)}" if error_description else ""
        notices += f'<div class="notice" role="alert">Sign-in failed ({esc(error)}){detail}</div>'
    if signed_in:
        body = (
            '<section class="card"><h1>Welcome back</h1>'
            f'<p>Signed in as <strong id="signed-in-email">{esc(email or "(no email)")}'
            "</strong>.</p>"
            '<div class="actions"><a class="button" href="/profile">Profile and sessions</a>'
            '<a class="button secondary" href="/sign-out">Sign out</a></div></section>'
        )
    else:
        body = (
            '<section class="card"><h1>Cross-Auth, stored in a directory</h1>'
            "<p>This app signs you in with Cross-Auth and keeps users, linked accounts "
            "and sessions in a cross-auth-lite store: one SQLite file and a cache "
            "directory, no database server.</p>"
            "<p>The identity provider is a development one built into this app, so "
            "everything works offline: you choose the name and email it vouches for.</p>"
            '<div class="actions"><a class="button" id="sign-in" href="/auth/dev/login">'
            "Sign in</a></div>"
            '<p class="muted">You are signed out.</p></section>'
        )
    return layout(
        "cross-auth-lite demo",
        notices + body,
        nav=_nav(signed_in),
        footer=_footer(data_dir),
    )


def _account_rows(accounts: Iterable[AccountRow]) -> str:
    rows = "".join(
        '<tr class="account">'
        f"<td>{esc(a.provider)}</td><td><code>{esc(a.provider_user_id)}</code></td>"
        f"<td>{esc(a.provider_email or '—')}</td>"
        f"<td>{'yes' if a.email_verified else 'no'}</td>"
        f"<td>{'yes' if a.is_login_method else 'no'}</td></tr>"
        for a in accounts
    )
    return rows or '<tr><td colspan="5" class="muted">No linked accounts.</td></tr>'


def _session_rows(sessions: Iterable[SessionRow]) -> str:
    out = []
    for s in sessions:
        badge = ' <span class="badge">this browser</span>' if s.current else ""
        label = "Revoke and sign out" if s.current else "Revoke"
        out.append(
            f'<tr class="session" data-session-id="{esc(s.id)}">'
            f'<td class="nowrap">{esc(s.id)}{badge}</td>'
            f'<td title="{esc(s.user_agent or "")}">{esc(browser_label(s.user_agent))}</td>'
            f'<td class="nowrap">{esc(_when(s.created_at))}</td>'
            f'<td class="nowrap">{esc(_when(s.last_active_at))}</td>'
            f'<td class="nowrap">{esc(_when(s.expires_at))}</td>'
            f'<td class="nowrap"><form method="post" action="/sessions/{esc(s.id)}/revoke">'
            f'<button class="small secondary" type="submit">{label}</button></form></td></tr>'
        )
    return "".join(out) or '<tr><td colspan="6" class="muted">No active sessions.</td></tr>'


def profile_page(
    *,
    user_id: str,
    email: str | None,
    email_verified: bool,
    accounts: Sequence[AccountRow],
    sessions: Sequence[SessionRow],
    data_dir: str,
) -> str:
    """The profile: the user, their linked accounts and their active sessions."""
    body = (
        f"<h1>{esc(email or 'Your profile')}</h1>"
        '<section class="card"><table>'
        f"<tr><th>User id</th><td><code>{esc(user_id)}</code></td></tr>"
        f"<tr><th>Email</th><td>{esc(email or '—')}</td></tr>"
        f"<tr><th>Email verified</th><td>{'yes' if email_verified else 'no'}</td></tr>"
        "</table></section>"
        f"<h2>Linked accounts ({len(accounts)})</h2>"
        '<section class="card"><table><tr><th>Provider</th><th>Provider user id</th>'
        "<th>Provider email</th><th>Verified</th><th>Sign-in</th></tr>"
        f"{_account_rows(accounts)}</table>"
        '<div class="actions"><a class="button secondary" href="/auth/dev/connect?next=/profile">'
        "Link another identity</a></div></section>"
        f"<h2>Active sessions ({len(sessions)})</h2>"
        '<p class="muted">Each browser that signs in gets its own session. Revoking one '
        "signs that browser out on its next request.</p>"
        '<section class="card"><table><tr><th>Session</th><th>Browser</th>'
        "<th>Started (UTC)</th><th>Last active</th><th>Expires</th><th></th></tr>"
        f"{_session_rows(sessions)}</table></section>"
    )
    return layout("Profile · cross-auth-lite demo", body, nav=_nav(True), footer=_footer(data_dir))


def sign_out_page(*, email: str | None) -> str:
    """Asks to confirm signing out (a POST, so no other site can sign you out)."""
    body = (
        '<section class="card"><h1>Sign out</h1>'
        f"<p>Sign <strong>{esc(email or 'this browser')}</strong> out of this browser? "
        "The session is revoked in the store.</p>"
        '<form method="post" action="/sign-out"><div class="actions">'
        '<button type="submit" id="confirm-sign-out">Sign out</button>'
        '<a class="button secondary" href="/">Cancel</a></div></form></section>'
    )
    return layout("Sign out · cross-auth-lite demo", body, nav=_nav(True))
