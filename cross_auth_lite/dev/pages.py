"""HTML for the development provider, and the one layout (with its CSS) the demo shares.

No template engine: pages are f-strings, and every value that comes from a
user, a provider or the store goes through ``esc`` (``html.escape`` with
quotes) before it reaches the markup. Needs nothing beyond the standard
library, so the layout is importable without the ``[demo]`` extra.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cross_auth_lite.dev.server import AuthorizationRequest, DevIdentity

__all__ = ["consent_page", "esc", "layout", "message_page"]

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
header .brand { font-weight: 650; color: var(--ink); text-decoration: none; margin-right: auto;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
header nav { flex: none; white-space: nowrap; }
header nav a { margin-left: 1rem; }
header nav a:first-child { margin-left: 0; }
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
.notice.done { border-left-color: var(--accent); background: #eef2fd; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
th, td { text-align: left; padding: .45rem .4rem; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: anywhere; }
/* Values (emails, ids) break anywhere rather than widen the page; labels stay whole. */
h1, h2, p, strong, .notice { overflow-wrap: anywhere; }
th, label, .button, button, .badge { overflow-wrap: normal; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
table.facts th { white-space: nowrap; width: 1%; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; white-space: nowrap; font-size: .75rem; font-weight: 650;
  padding: 0 .5rem; border-radius: 999px; background: var(--accent); color: var(--accent-ink); }
label { display: block; font-weight: 600; margin-top: .9rem; }
label.check { font-weight: 400; }
.hint { margin: .25rem 0 0; }
input[type=text], input[type=email] { width: 100%; font: inherit; padding: .45rem .6rem;
  border: 1px solid var(--line); border-radius: 6px; margin-top: .25rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.4rem; }
.button, button { white-space: nowrap; }
td form { margin: 0; }
code { font-size: .88em; background: #eceef2; padding: 0 .3em; border-radius: 4px;
  overflow-wrap: anywhere; }
footer { margin-top: 2.5rem; overflow-wrap: anywhere; }
/* A phone: tables of records become one block per record, each cell labelled. */
@media (max-width: 40rem) {
  header .bar, main { padding: 0 1rem; }
  main { padding-top: 1.25rem; padding-bottom: 2rem; }
  header nav a { margin-left: .85rem; }
  .card { padding: 1rem; }
  table.records thead { display: none; }
  table.records tr { display: block; padding: .5rem 0; border-bottom: 1px solid var(--line); }
  table.records td { display: flex; align-items: flex-start; gap: .75rem; border: 0;
    padding: .15rem 0; }
  table.records td::before { content: attr(data-label); flex: 0 0 7.5rem; color: var(--muted);
    font-weight: 600; overflow-wrap: normal; }
  table.records td:empty, table.records td.wide::before { display: none; }
  table.records td.nowrap { white-space: normal; }
}
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


def message_page(title: str, message: str, *, theme: str = "app") -> str:
    """A short page with a heading and one line of text (both plain text)."""
    body = f'<section class="card"><h1>{esc(title)}</h1><p>{esc(message)}</p></section>'
    return layout(title, body, nav=[("/", "Home")], theme=theme)


def consent_page(
    *,
    action: str,
    request: AuthorizationRequest,
    identity: DevIdentity,
    problem: str | None = None,
    linking: bool = False,
    app_name: str = "the app",
    name_hint: str | None = None,
) -> str:
    """The development provider's consent form for ``request``, prefilled with ``identity``.

    The form posts to ``action``, carrying the request's OAuth parameters in
    hidden fields; every field of the identity can be edited. ``linking``
    words it for linking an identity to the signed-in user, not signing in.
    ``app_name`` is what the form calls the app (mid-sentence, e.g. ``"the
    app"``); ``name_hint`` follows "Sent to the app as the profile's name"
    to say what the app does with it.
    """
    hidden_inputs = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
        for k, v in request.hidden_fields().items()
    )
    alert = ""
    if problem:
        alert = f'<div class="notice" role="alert" id="problem">{esc(problem)}</div>'
    checked = " checked" if identity.email_verified else ""
    name, email, sub, scope = identity.name, identity.email, identity.sub, request.scope
    name_note = "." if name_hint is None else f"; {esc(name_hint)}"
    if linking:
        heading, button, title = "Link an identity", "Link identity", "link an identity"
        intro = (
            "It vouches for whoever you type below, and "
            f"{esc(app_name)} links that identity to the account you are signed in to."
        )
        sub_hint = (
            "Decides which identity is linked. It is filled in with a new one; type the id "
            "of an identity you already have and nothing changes."
        )
    else:
        heading, button, title = f"Sign in to {esc(app_name)}", "Sign in", "sign in"
        intro = "It signs in whoever you type below."
        sub_hint = (
            "Decides who signs in, as a real provider's account id does: change it (and the "
            "email) to be someone else. Changing only the email updates that person's "
            "provider email."
        )
    body = (
        f'{alert}<section class="card"><h1 id="consent-heading">{heading}</h1>'
        '<p class="muted">This is a development identity provider running inside '
        f"{esc(app_name)}. {intro}</p>"
        f'<form method="post" action="{esc(action)}">{hidden_inputs}'
        '<label for="name">Name</label>'
        f'<input type="text" id="name" name="name" value="{esc(name)}" '
        'aria-describedby="name-hint">'
        '<p class="muted hint" id="name-hint">'
        f"Sent to the app as the profile's name{name_note}</p>"
        '<label for="email">Email</label>'
        f'<input type="email" id="email" name="email" value="{esc(email)}" required>'
        '<label for="sub">Provider user id</label>'
        f'<input type="text" id="sub" name="sub" value="{esc(sub)}" required '
        f'aria-describedby="sub-hint"><p class="muted hint" id="sub-hint">{sub_hint}</p>'
        f'<label class="check"><input type="checkbox" name="email_verified"{checked}> '
        "The provider has verified this email (an unverified one cannot sign in to an "
        "existing account)</label>"
        '<div class="actions"><button type="submit" name="decision" value="allow" '
        f'id="allow">{button}</button><button class="secondary" type="submit" '
        'name="decision" value="deny" formnovalidate>Cancel</button></div></form>'
        f'<p class="muted">Requested scope: <code>{esc(scope or "—")}</code></p>'
        "</section>"
    )
    return layout(
        f"Development provider · {title}",
        body,
        brand="Development identity provider",
        theme="provider",
    )
