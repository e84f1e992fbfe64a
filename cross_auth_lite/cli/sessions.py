"""``sessions list`` and ``sessions revoke``.

Statuses are Cross-Auth's: ``revoked`` once ``revoked_at`` is set, else
``active`` up to and including ``expires_at``, then ``expired``. Token
hashes are never printed here (``export`` has them).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from cross_auth import session_status

from cross_auth_lite.cli.common import (
    CliError,
    count,
    describe_user,
    open_existing,
    positive_int,
    resolve_user,
    utc_now,
)
from cross_auth_lite.cli.output import Progress, echo, emit_json, print_table, short_time
from cross_auth_lite.store import LiteStore

__all__ = ["STATUSES", "add_parsers", "session_query", "session_view"]

STATUSES = ("active", "expired", "revoked")
_HEADERS = ("ID", "USER", "STATUS", "CREATED", "LAST ACTIVE", "EXPIRES", "CLIENT", "IP")


def add_parsers(
    commands: argparse._SubParsersAction[Any], parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``sessions list`` and ``sessions revoke``."""
    group = commands.add_parser(
        "sessions", help="list and revoke sessions", description="List and revoke sessions."
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        parents=parents,
        help="list sessions",
        description="List sessions, oldest first, with their status at this moment.",
    )
    listing.add_argument("--user", metavar="ID_OR_EMAIL", help="only this user's sessions")
    listing.add_argument("--status", choices=STATUSES, help="only sessions with this status")
    listing.add_argument("--limit", type=positive_int, metavar="N", help="list at most N")
    listing.set_defaults(handler=list_sessions)

    revoke = actions.add_parser(
        "revoke",
        parents=parents,
        help="revoke one session, or every session of a user",
        description="Revoke one session by id, or every unrevoked session of a user.",
    )
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("session_id", nargs="?", metavar="ID", help="the session to revoke")
    target.add_argument("--user", metavar="ID_OR_EMAIL", help="revoke all of this user's sessions")
    revoke.set_defaults(handler=revoke_sessions)


def session_query(store: LiteStore, *, now: datetime, status: str | None = None) -> Any:
    """All sessions (optionally of one status at ``now``) with their user's email, by id."""
    models: Any = store.models
    session, user = models.Session, models.User
    query: Any = (
        session.select(session, user.email.alias("user_email"))
        .join(user, on=(session.user == user.id))
        .order_by(session.id)
    )
    if status == "revoked":
        query = query.where(session.revoked_at.is_null(False))
    elif status == "active":
        query = query.where(session.revoked_at.is_null(), session.expires_at >= now)
    elif status == "expired":
        query = query.where(session.revoked_at.is_null(), session.expires_at < now)
    return query


def session_view(record: Any, *, now: datetime) -> dict[str, Any]:
    """What listings show of a session: every column but the token hash, plus its status."""
    return {
        "id": record.id,
        "user_id": record.user_id,
        "status": session_status(record, now=now),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "expires_at": record.expires_at,
        "last_active_at": record.last_active_at,
        "revoked_at": record.revoked_at,
        "client_id": record.client_id,
        "client_name": record.client_name,
        "user_agent": record.user_agent,
        "ip": record.ip,
    }


def session_row(view: dict[str, Any], user: str) -> list[object]:
    """One table row for a ``session_view``."""
    client = view["client_name"] or view["client_id"]
    return [
        view["id"],
        user,
        view["status"],
        view["created_at"],
        view["last_active_at"],
        view["expires_at"],
        client,
        view["ip"],
    ]


def list_sessions(args: argparse.Namespace) -> int:
    """``sessions list [--user X] [--status S] [--limit N]``."""
    now = utc_now()
    with open_existing(args.data) as store:
        query = session_query(store, now=now, status=args.status)
        if args.user is not None:
            owner = resolve_user(store, args.user)
            session: Any = store.models.Session
            query = query.where(session.user == owner.id)
        total = count(query)
        if args.limit is not None:
            query = query.limit(args.limit)
            total = min(total, args.limit)
        views: list[dict[str, Any]] = []
        rows: list[list[object]] = []
        with Progress("reading sessions", total) as progress:
            for record in progress.track(query.objects().iterator()):
                view = session_view(record, now=now)
                views.append({**view, "user_email": record.user_email})
                rows.append(session_row(view, record.user_email or str(record.user_id)))
    if args.json:
        emit_json(views)
    elif rows:
        print_table(_HEADERS, rows)
    else:
        echo("no sessions match")
    return 0


def revoke_sessions(args: argparse.Namespace) -> int:
    """``sessions revoke ID`` or ``sessions revoke --user X``."""
    now = utc_now()
    with open_existing(args.data) as store:
        if args.user is not None:
            user = resolve_user(store, args.user)
            revoked = store.sessions.revoke_all_for_user(user.id, revoked_at=now)
            message = f"revoked {revoked} session(s) of {describe_user(user)}"
            result: dict[str, Any] = {"revoked": revoked, "user_id": user.id}
        else:
            record = store.sessions.get_any(args.session_id)
            if record is None:
                raise CliError(f"no session has id {args.session_id!r}")
            if record.revoked_at is not None:
                revoked = 0
                message = (
                    f"session {record.id} was already revoked at {short_time(record.revoked_at)}"
                )
            else:
                store.sessions.revoke(record.id, revoked_at=now)
                revoked = 1
                message = f"revoked session {record.id} of user {record.user_id}"
            result = {"revoked": revoked, "session_id": record.id, "user_id": record.user_id}
    if args.json:
        emit_json(result)
    else:
        echo(message)
    return 0
