"""``sessions list`` and ``sessions revoke``.

Statuses are Cross-Auth's: ``revoked`` once ``revoked_at`` is set, else
``active`` up to and including ``expires_at``, then ``expired``. Token
hashes are never printed here (``export`` has them).
"""

from __future__ import annotations

import argparse
import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import cross_auth_lite as lite
from cross_auth_lite.cli.common import (
    add_paging,
    describe_user,
    open_existing,
    resolve_user,
    show_page,
)
from cross_auth_lite.cli.output import echo, emit_json, plural, short_time

if TYPE_CHECKING:
    from cross_auth_lite.cli.common import Commands

__all__ = ["SESSION_HEADERS", "add_parsers", "session_table_row", "session_view"]

#: The columns of a session listing.
SESSION_HEADERS = (
    "ID",
    "USER",
    "STATUS",
    "CREATED",
    "LAST ACTIVE",
    "EXPIRES",
    "CLIENT",
    "IP",
    "USER AGENT",
)


def add_parsers(commands: Commands) -> None:
    """Register ``sessions list`` and ``sessions revoke``."""
    actions = commands.group("sessions", "list and revoke sessions", "List and revoke sessions.")

    listing = actions.add(
        "list",
        list_sessions,
        "list sessions",
        "List sessions, oldest first, with their status at this moment.",
    )
    listing.add_argument("--user", metavar="ID_OR_EMAIL", help="only this user's sessions")
    listing.add_argument(
        "--status", choices=lite.admin.SESSION_STATUSES, help="only sessions with this status"
    )
    add_paging(listing, "sessions")

    revoke = actions.add(
        "revoke",
        revoke_sessions,
        "revoke one session, or every session of a user",
        "Revoke one session by id, or every unrevoked session of a user.",
    )
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("session_id", nargs="?", metavar="ID", help="the session to revoke")
    target.add_argument("--user", metavar="ID_OR_EMAIL", help="revoke all of this user's sessions")


def session_view(summary: lite.admin.SessionSummary) -> dict[str, Any]:
    """What listings show of a session: every column but the token hash, plus its status."""
    view = dataclasses.asdict(summary)
    del view["user_email"]
    return view


def session_table_row(
    summary: lite.admin.SessionSummary, *, user: str | None = None
) -> list[object]:
    """One table row for a session: ``SESSION_HEADERS``, without USER when ``user`` is None."""
    owner = [] if user is None else [user]
    return [
        summary.id,
        *owner,
        summary.status,
        summary.created_at,
        summary.last_active_at,
        summary.expires_at,
        summary.client_name or summary.client_id,
        summary.ip,
        summary.user_agent,
    ]


def list_sessions(args: argparse.Namespace) -> int:
    """``sessions list [--user X] [--status S] [--limit N] [--after ID]``."""
    with open_existing(args, tokens=False) as store:
        user_id = None if args.user is None else resolve_user(store, args.user).id
        filters: dict[str, Any] = {"user_id": user_id, "status": args.status}
        show_page(
            args,
            lite.admin.list_sessions(store, after=args.after, limit=args.limit, **filters),
            headers=SESSION_HEADERS,
            row=lambda s: session_table_row(s, user=s.user_email or str(s.user_id)),
            view=lambda s: {**session_view(s), "user_email": s.user_email},
            more=lambda last: lite.admin.count_sessions(store, after=last, **filters),
            noun="session",
        )
    return 0


def revoke_sessions(args: argparse.Namespace) -> int:
    """``sessions revoke ID`` or ``sessions revoke --user X``."""
    now = datetime.now(UTC)
    with open_existing(args, tokens=False) as store:
        if args.user is not None:
            user = resolve_user(store, args.user)
            revoked = store.sessions.revoke_all_for_user(user.id, revoked_at=now)
            message = f"revoked {plural(revoked, 'session')} of {describe_user(user)}"
            result: dict[str, Any] = {"revoked": revoked, "user_id": user.id}
        else:
            done = lite.admin.revoke_session(store, args.session_id, now=now)
            revoked = int(done.revoked)
            message = (
                f"revoked session {done.session_id} of user {done.user_id}"
                if done.revoked
                else f"session {done.session_id} was already revoked at "
                f"{short_time(done.revoked_at)}"
            )
            result = {"revoked": revoked, "session_id": done.session_id, "user_id": done.user_id}
    if args.json:
        emit_json(result)
    else:
        echo(message)
    return 0
