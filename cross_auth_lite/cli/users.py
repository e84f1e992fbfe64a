"""``users list``, ``users show``, ``users create`` and ``users delete``.

Password hashes and provider tokens are never printed here: listings say
whether they are set. ``export`` is the command that writes them out.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import peewee
from cross_auth import normalize_email
from cross_auth.exceptions import CrossAuthException

from cross_auth_lite.cli.common import (
    CliError,
    count,
    describe_user,
    open_existing,
    positive_int,
    resolve_user,
    utc_now,
)
from cross_auth_lite.cli.output import Progress, echo, emit_json, print_table, yes_no
from cross_auth_lite.cli.passwords import hash_password, read_password
from cross_auth_lite.cli.sessions import session_view
from cross_auth_lite.database import write_transaction

__all__ = ["add_parsers", "identity_view", "user_view"]


def add_parsers(
    commands: argparse._SubParsersAction[Any], parents: list[argparse.ArgumentParser]
) -> None:
    """Register the ``users`` commands."""
    group = commands.add_parser(
        "users", help="list, show, create and delete users", description="Manage users."
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list", parents=parents, help="list users", description="List users by id."
    )
    listing.add_argument("--limit", type=positive_int, metavar="N", help="list at most N")
    listing.add_argument(
        "--email-contains",
        metavar="TEXT",
        help="only users whose email contains TEXT (ASCII letters match either case)",
    )
    listing.set_defaults(handler=list_users)

    show = actions.add_parser(
        "show",
        parents=parents,
        help="show a user with their identities and sessions",
        description="Show one user, their provider identities and their sessions.",
    )
    show.add_argument("user", metavar="ID_OR_EMAIL")
    show.set_defaults(handler=show_user)

    create = actions.add_parser(
        "create",
        parents=parents,
        help="create a user",
        description=(
            "Create a user. The email is normalized as Cross-Auth does (trimmed, lower case)."
        ),
    )
    create.add_argument("email", metavar="EMAIL")
    create.add_argument("--verified", action="store_true", help="mark the email as verified")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a password from stdin (typed twice when stdin is a terminal)",
    )
    create.set_defaults(handler=create_user)

    delete = actions.add_parser(
        "delete",
        parents=parents,
        help="delete a user with their identities and sessions",
        description="Delete a user, their provider identities and their sessions.",
    )
    delete.add_argument("user", metavar="ID_OR_EMAIL")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=delete_user)


def user_view(user: Any) -> dict[str, Any]:
    """What listings show of a user: no password hash, only whether there is one."""
    return {
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "has_password": user.has_usable_password,
    }


def identity_view(account: Any) -> dict[str, Any]:
    """What listings show of a social account: no tokens, only whether they are set."""
    return {
        "id": account.id,
        "user_id": account.user_id,
        "provider": account.provider,
        "provider_user_id": account.provider_user_id,
        "provider_email": account.provider_email,
        "provider_email_verified": account.provider_email_verified,
        "is_login_method": account.is_login_method,
        "has_access_token": account.access_token is not None,
        "has_refresh_token": account.refresh_token is not None,
        "access_token_expires_at": account.access_token_expires_at,
        "refresh_token_expires_at": account.refresh_token_expires_at,
        "scope": account.scope,
    }


def list_users(args: argparse.Namespace) -> int:
    """``users list [--limit N] [--email-contains TEXT]``."""
    now = utc_now()
    with open_existing(args.data) as store:
        models: Any = store.models
        user, account, session = models.User, models.SocialAccount, models.Session
        identities = account.select(peewee.fn.COUNT(account.id)).where(account.user == user.id)
        active = session.select(peewee.fn.COUNT(session.id)).where(
            session.user == user.id, session.revoked_at.is_null(), session.expires_at >= now
        )
        query: Any = user.select(
            user, identities.alias("identity_count"), active.alias("active_sessions")
        ).order_by(user.id)
        if args.email_contains:
            query = query.where(user.email.contains(args.email_contains))
        total = count(query)
        if args.limit is not None:
            query = query.limit(args.limit)
            total = min(total, args.limit)
        views = []
        with Progress("reading users", total) as progress:
            for record in progress.track(query.iterator()):
                view = user_view(record)
                view["identities"] = record.identity_count
                view["active_sessions"] = record.active_sessions
                views.append(view)
    if args.json:
        emit_json(views)
    elif views:
        print_table(
            ("ID", "EMAIL", "VERIFIED", "PASSWORD", "IDENTITIES", "ACTIVE SESSIONS"),
            [
                (
                    view["id"],
                    view["email"],
                    view["email_verified"],
                    view["has_password"],
                    view["identities"],
                    view["active_sessions"],
                )
                for view in views
            ],
        )
    else:
        echo("no users match")
    return 0


def show_user(args: argparse.Namespace) -> int:
    """``users show ID_OR_EMAIL``."""
    now = utc_now()
    with open_existing(args.data) as store:
        user = resolve_user(store, args.user)
        identities = [
            identity_view(account)
            for account in store.accounts.list_social_accounts(user_id=user.id)
        ]
        session: Any = store.models.Session
        sessions = [
            session_view(record, now=now)
            for record in session.select().where(session.user == user.id).order_by(session.id)
        ]
        view = user_view(user)
    if args.json:
        emit_json({"user": view, "identities": identities, "sessions": sessions})
        return 0
    echo(f"User {view['id']}")
    print_table(
        None,
        [
            ("email", view["email"]),
            ("email verified", yes_no(view["email_verified"])),
            ("password", "set" if view["has_password"] else "not set"),
        ],
        indent="  ",
    )
    echo(f"Identities ({len(identities)})")
    if identities:
        print_table(
            ("ID", "PROVIDER", "PROVIDER USER ID", "EMAIL", "VERIFIED", "LOGIN", "SCOPE"),
            [
                (
                    item["id"],
                    item["provider"],
                    item["provider_user_id"],
                    item["provider_email"],
                    item["provider_email_verified"],
                    item["is_login_method"],
                    item["scope"],
                )
                for item in identities
            ],
            indent="  ",
        )
    echo(f"Sessions ({len(sessions)})")
    if sessions:
        print_table(
            ("ID", "STATUS", "CREATED", "LAST ACTIVE", "EXPIRES", "CLIENT", "IP", "USER AGENT"),
            [
                (
                    item["id"],
                    item["status"],
                    item["created_at"],
                    item["last_active_at"],
                    item["expires_at"],
                    item["client_name"] or item["client_id"],
                    item["ip"],
                    item["user_agent"],
                )
                for item in sessions
            ],
            indent="  ",
        )
    return 0


def _check_email(email: str) -> str:
    normalized = normalize_email(email)
    local, at, domain = normalized.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in normalized):
        raise CliError(f"{email!r} does not look like an email address")
    return normalized


def create_user(args: argparse.Namespace) -> int:
    """``users create EMAIL [--verified] [--password-stdin]``."""
    email = _check_email(args.email)
    taken = CliError(f"a user with email {email} already exists")
    with open_existing(args.data) as store:
        if store.accounts.find_user_by_email(email) is not None:
            raise taken  # before asking for a password (the insert checks again)
        # Hashed before the write transaction: bcrypt is slow on purpose, and
        # other writers should not wait for it.
        hashed = hash_password(read_password()) if args.password_stdin else None
        model: Any = store.models.User
        try:
            with write_transaction(store.database):
                user = store.accounts.create_user(
                    user_info={"email": email}, email=email, email_verified=args.verified
                )
                if hashed is not None:
                    model.update(hashed_password=hashed).where(model.id == user.id).execute()
                    user.hashed_password = hashed
        except CrossAuthException as error:
            if error.error == "email_already_registered":
                raise taken from None
            raise
        view = user_view(user)
    if args.json:
        emit_json(view)
    else:
        extra = ", email verified" if view["email_verified"] else ""
        extra += ", with a password" if view["has_password"] else ""
        echo(f"created {describe_user(user)}{extra}")
    return 0


def _confirm(question: str) -> bool:
    sys.stderr.write(question + " [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def delete_user(args: argparse.Namespace) -> int:
    """``users delete ID_OR_EMAIL [--yes]``: the user, their identities and sessions."""
    with open_existing(args.data) as store:
        user = resolve_user(store, args.user)
        models: Any = store.models
        account, session = models.SocialAccount, models.Session
        if not args.yes:
            if sys.stdin is None or not sys.stdin.isatty():
                raise CliError(f"not deleting {describe_user(user)} without --yes")
            identities = count(account.select().where(account.user == user.id))
            sessions = count(session.select().where(session.user == user.id))
            question = (
                f"Delete {describe_user(user)}, {identities} identities and {sessions} sessions?"
            )
            if not _confirm(question):
                raise CliError("nothing deleted")
        with write_transaction(store.database):
            sessions = session.delete().where(session.user == user.id).execute()
            identities = account.delete().where(account.user == user.id).execute()
            models.User.delete().where(models.User.id == user.id).execute()
        label = describe_user(user)
        result = {"user_id": user.id, "identities": identities, "sessions": sessions}
    if args.json:
        emit_json({"deleted": result})
    else:
        echo(f"deleted {label} with {identities} identities and {sessions} sessions")
    return 0
