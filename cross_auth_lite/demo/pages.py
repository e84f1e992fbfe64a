"""HTML for the demo: one layout with inline CSS, and the app's pages.

No template engine: pages are f-strings, and every value that comes from a
user, a provider or the store goes through ``esc`` (``html.escape`` with
quotes) before it reaches the markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "AccountRow",
    "SessionRow",
    "browser_label",
    "esc",
    "home_page",
    "layout",
    "message_page",
    "profile_page",
    "provider_authorize_page",
    "sign_out_page",
]

_CSS = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #dde1e8;
  --accent: #2f5bea; --accent-ink: #fff; --bg: #f6f7f9; --card: #fff; --warn: #a33a12; }
body.provider { --accent: #0f7b5f; --bg: #eef6f3; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink); background: var(--bg); }
header { background: var(--card); border-bottom: 1px solid var(--line); }
header .bar, main { max-width: 54rem; margin: 0 auto; padding: 0 1.25rem; }
header .bar { display: flex; align-items: center; gap: 1rem; height: 3.25rem; }
header .brand { font-weight: 650; color: var(--ink); text-decoration: none; margin-right: auto; }
header nav a { margin-left: 1rem; }
main { padding-top: 2rem; padding-bottom: 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .75rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
a { color: var(--accent); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 1.25rem 1.5rem; }
.muted, footer { color: var(--muted); font-size: .9rem; }
.button, button { display: inline-block; font: inherit; font-weight: 600; cursor: pointer;
  padding: .5rem 1.1rem; border-radius: 8px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-ink); text-decoration: none; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.small { padding: .2rem .7rem; font-size: .85rem; }
.notice { border-left: 4px solid var(--warn); background: #fff4ee; padding: .75rem 1rem;
  margin-bottom: 1.25rem; border-radius: 6px; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; white-space: nowrap; font-size: .75rem; font-weight: 650;
  padding: 0 .5rem; border-radius: 999px; background: var(--accent); color: var(--accent-ink); }
label { display: block; font-weight: 600; margin-top: .9rem; }
label.check { font-weight: 400; }
input[type=text], input[type=email] { width: 100%; font: inherit; padding: .45rem .6rem;
  border: 1px solid var(--line); border-radius: 6px; margin-top: .25rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.4rem; }
code { font-size: .88em; background: #eceef2; padding: 0 .3em; border-radius: 4px; }
footer { margin-top: 2.5rem; }
"""


def esc(value: object) -> str:
    """``value`` as text, escaped for HTML content and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def layout(
    title: str,
    body: str,
    *,
    nav: Sequence[tuple[str, str]] = (),
    brand: str = "cross-auth-lite demo",
    theme: str = "app",
    footer: str = "",
) -> str:
    """A whole HTML document. ``body`` and ``footer`` are markup; the rest is text.

    ``nav`` is a list of ``(href, label)`` links; ``theme`` is a body class
    (``"provider"`` colours the development provider's pages differently).
    """
    links = "".join(f'<a href="{esc(href)}">{esc(label)}</a>' for href, label in nav)
    footer_html = f"<footer>{footer}</footer>" if footer else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f'<body class="{esc(theme)}"><header><div class="bar">'
        f'<a class="brand" href="/">{esc(brand)}</a><nav>{links}</nav></div></header>'
        f"<main>{body}{footer_html}</main></body></html>\n"
    )


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


def message_page(title: str, message: str, *, theme: str = "app") -> str:
    """A short page with a heading and one line of text (both plain text)."""
    body = f'<section class="card"><h1>{esc(title)}</h1><p>{esc(message)}</p></section>'
    return layout(title, body, nav=[("/", "Home")], theme=theme)


def provider_authorize_page(
    *,
    action: str,
    hidden: Mapping[str, str],
    name: str,
    email: str,
    sub: str,
    email_verified: bool,
    scope: str,
    problem: str | None = None,
) -> str:
    """The development provider's consent form, prefilled with an editable identity.

    ``hidden`` are the OAuth parameters the form carries to its POST.
    """
    hidden_inputs = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in hidden.items()
    )
    alert = f'<div class="notice" role="alert">{esc(problem)}</div>' if problem else ""
    checked = " checked" if email_verified else ""
    body = (
        f'{alert}<section class="card"><h1>Sign in to the demo</h1>'
        '<p class="muted">This is a development identity provider running inside the demo. '
        "It signs in whoever you type below: edit the fields to be someone else.</p>"
        f'<form method="post" action="{esc(action)}">{hidden_inputs}'
        '<label for="name">Name</label>'
        f'<input type="text" id="name" name="name" value="{esc(name)}">'
        '<label for="email">Email</label>'
        f'<input type="email" id="email" name="email" value="{esc(email)}" required>'
        '<label for="sub">Provider user id</label>'
        f'<input type="text" id="sub" name="sub" value="{esc(sub)}" required>'
        f'<label class="check"><input type="checkbox" name="email_verified"{checked}> '
        "The provider has verified this email (an unverified one cannot sign in to an "
        "existing account)</label>"
        '<div class="actions"><button type="submit" name="decision" value="allow" '
        'id="allow">Sign in</button><button class="secondary" type="submit" '
        'name="decision" value="deny" formnovalidate>Cancel</button></div></form>'
        f'<p class="muted">Requested scope: <code>{esc(scope or "—")}</code></p>'
        "</section>"
    )
    return layout(
        "Development provider · sign in",
        body,
        brand="Development identity provider",
        theme="provider",
    )
