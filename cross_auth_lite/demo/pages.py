"""HTML for the demo's own pages, on the development package's layout.

No template engine: pages are f-strings, and every value that comes from a
user, a provider or the store goes through ``esc`` (``html.escape`` with
quotes) before it reaches the markup. The layout, its CSS, ``esc`` and
``message_page`` live in ``cross_auth_lite.dev`` (the consent form uses them
too); this module holds what only the demo shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from cross_auth_lite.demo.notices import Notice
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

    id: str
    provider: str
    provider_user_id: str
    provider_email: str | None
    provider_email_verified: bool | None
    is_login_method: bool

    @classmethod
    def of(cls, account: Any) -> AccountRow:
        """The row of a social account (anything with these attributes)."""
        return cls(**{**_attributes(cls, account), "id": str(account.id)})


@dataclass(frozen=True)
class SessionRow:
    """An active session, as the profile page shows it."""

    id: str
    created_at: datetime
    last_active_at: datetime | None
    expires_at: datetime
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, record: Any, *, current_id: str | None) -> SessionRow:
        """The row of a session record; ``current`` when its id is ``current_id``."""
        fields_ = {**_attributes(cls, record, skip={"current"}), "id": str(record.id)}
        return cls(**fields_, current=fields_["id"] == current_id)


def _attributes(cls: type, record: Any, *, skip: frozenset[str] | set[str] = frozenset()) -> Any:
    return {f.name: getattr(record, f.name) for f in fields(cls) if f.name not in skip}


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


#: The longest browser label: an unknown User-Agent is cut to it, ending in "…".
MAX_BROWSER_LABEL = 20


def browser_label(user_agent: str | None) -> str:
    """A short name for a User-Agent, e.g. ``"Firefox on Linux"``."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for key, name in _BROWSERS if key in user_agent), None)
    system = next((name for key, name in _SYSTEMS if key in user_agent), None)
    if browser is None:
        if len(user_agent) <= MAX_BROWSER_LABEL:
            return user_agent
        return user_agent[: MAX_BROWSER_LABEL - 1] + "\u2026"
    return f"{browser} on {system}" if system else browser


def _footer(data_dir: str) -> str:
    return f"Data directory: <code>{esc(data_dir)}</code>"


#: What a linked-only identity is, as the profile explains it.
LINKED_ONLY = (
    "the identity belongs to your account, and the app can use it to reach the "
    "provider for you, but you cannot sign in with it."
)


def _notice(notice: Notice) -> str:
    if notice.done:
        return f'<div class="notice done" role="status" id="done">{esc(notice.text)}</div>'
    return f'<div class="notice" role="alert" id="problem">{esc(notice.text)}</div>'


def home_page(
    *,
    email: str | None,
    signed_in: bool,
    data_dir: str,
    notice: Notice | None = None,
    other_host_url: str | None = None,
    new_user: bool = False,
) -> str:
    """The home page: a Sign in button, or who is signed in.

    ``other_host_url`` is set when the page was opened under another host
    name than the configured base URL, where sign-in cannot complete (the
    browser-binding cookie would belong to the other host). ``new_user``
    greets a user whose account this sign-in created ("Welcome", not
    "Welcome back"). ``notice`` says how a sign-in just went
    (``notices.outcome_notice``), or that the session ended (``notices.SESSION_ENDED``).
    """
    notices = ""
    if other_host_url is not None:
        notices += (
            '<div class="notice">Sign-in only works at the address the demo was started '
            f'with: <a href="{esc(other_host_url)}">{esc(other_host_url)}</a></div>'
        )
    if notice is not None:
        notices += _notice(notice)
    if signed_in:
        greeting = "Welcome" if new_user else "Welcome back"
        body = (
            f'<section class="card"><h1 id="greeting">{greeting}</h1>'
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


def _account_rows(accounts: Sequence[AccountRow], *, has_password: bool) -> str:
    # The store refuses to unlink the last way to sign in: no button for it.
    logins = sum(a.is_login_method for a in accounts)
    rows = []
    for a in accounts:
        sign_in = "yes" if a.is_login_method else "linked only"
        if a.is_login_method and logins == 1 and not has_password:
            unlink = '<td class="wide muted last-way">Cannot be unlinked</td>'
        else:
            unlink = (
                f'<td class="wide"><form method="post" action="/accounts/{esc(a.id)}/unlink">'
                '<button class="small secondary" type="submit">Unlink</button></form></td>'
            )
        rows.append(
            f'<tr class="account" data-account-id="{esc(a.id)}">'
            f'<td data-label="Provider">{esc(a.provider)}</td>'
            f'<td data-label="Provider user id"><code>{esc(a.provider_user_id)}</code></td>'
            f'<td data-label="Provider email">{esc(a.provider_email or "—")}</td>'
            f'<td data-label="Verified">{"yes" if a.provider_email_verified else "no"}</td>'
            f'<td data-label="Sign-in" class="sign-in">{sign_in}</td>{unlink}</tr>'
        )
    return "".join(rows) or '<tr><td colspan="6" class="muted">No linked accounts.</td></tr>'


def _session_rows(sessions: Iterable[SessionRow]) -> str:
    out = []
    for s in sessions:
        badge = ' <span class="badge">this browser</span>' if s.current else ""
        # This browser's own is revoked by signing out (app.py): say so, and keep it short.
        label = "Sign out" if s.current else "Revoke"
        out.append(
            f'<tr class="session" data-session-id="{esc(s.id)}">'
            f'<td class="nowrap" data-label="Session">{esc(s.id)}</td>'
            f'<td data-label="Browser" title="{esc(s.user_agent or "")}">'
            f"<span>{esc(browser_label(s.user_agent))}{badge}</span></td>"
            f'<td class="nowrap" data-label="Started">{esc(_when(s.created_at))}</td>'
            f'<td class="nowrap" data-label="Last active">{esc(_when(s.last_active_at))}</td>'
            f'<td class="nowrap" data-label="Expires">{esc(_when(s.expires_at))}</td>'
            f'<td class="nowrap wide"><form method="post" action="/sessions/{esc(s.id)}/revoke">'
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
    notice: Notice | None = None,
    has_password: bool = False,
) -> str:
    """The profile: the user, their linked accounts and their active sessions.

    ``notice`` says how a link or unlink just went (``notices.outcome_notice``);
    ``has_password`` that the user can sign in with a password too, so that
    any identity can be unlinked.
    """
    notices = "" if notice is None else _notice(notice)
    body = (
        f"{notices}<h1>{esc(email or 'Your profile')}</h1>"
        '<section class="card"><table class="facts">'
        f"<tr><th>User id</th><td><code>{esc(user_id)}</code></td></tr>"
        f"<tr><th>Email</th><td>{esc(email or '—')}</td></tr>"
        f"<tr><th>Email verified</th><td>{'yes' if email_verified else 'no'}</td></tr>"
        "</table></section>"
        f"<h2>Linked accounts ({len(accounts)})</h2>"
        '<section class="card"><table class="records"><thead><tr><th>Provider</th>'
        "<th>Provider user id</th><th>Provider email</th><th>Verified</th><th>Sign-in</th>"
        f"<th></th></tr></thead><tbody>{_account_rows(accounts, has_password=has_password)}"
        "</tbody></table>"
        '<p class="muted" id="sign-in-help">Sign-in <strong>yes</strong>: you can sign in '
        f"with this identity. <strong>Linked only</strong>: {esc(LINKED_ONLY)} An identity you "
        "link here is linked only: you keep signing in the way you do now. The last "
        "identity you can sign in with cannot be unlinked.</p>"
        '<div class="actions"><a class="button secondary" href="/link">'
        "Link another identity</a></div></section>"
        f"<h2>Active sessions ({len(sessions)})</h2>"
        '<p class="muted">Each sign-in starts a session, in this browser too: signing in '
        "again leaves the earlier one here until it expires or is revoked. Revoking one "
        "signs out the browser using it on its next request. Times are UTC.</p>"
        '<section class="card"><table class="records"><thead><tr><th>Session</th>'
        "<th>Browser</th><th>Started</th><th>Last active</th><th>Expires</th><th></th>"
        f"</tr></thead><tbody>{_session_rows(sessions)}</tbody></table></section>"
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
