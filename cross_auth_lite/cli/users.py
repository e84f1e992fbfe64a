"""``users list``, ``users show``, ``users create`` and ``users delete``.

Password hashes and provider tokens are never printed here: listings say
whether they are set. ``export`` is the command that writes them out.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite
from cross_auth_lite.cli.common import (
    Commands,
    add_paging,
    describe_user,
    open_existing,
    resolve_user,
    show_page,
)
from cross_auth_lite.cli.errors import CliError
from cross_auth_lite.cli.output import echo, emit_json, plural, print_table, yes_no
from cross_auth_lite.cli.passwords import read_password
from cross_auth_lite.cli.sessions import SESSION_HEADERS, session_table_row, session_view

__all__ = ["add_parsers", "identity_view", "user_view"]


def add_parsers(commands: Commands) -> None:
    """Register the ``users`` commands."""
    actions = commands.group("users", "list, show, create and delete users", "Manage users.")

    listing = actions.add("list", list_users, "list users", "List users by id.")
    add_paging(listing, "users")
    listing.add_argument(
        "--email-contains",
        metavar="TEXT",
        help="only users whose email contains TEXT (ASCII letters match either case)",
    )

    show = actions.add(
        "show",
        show_user,
        "show a user with their identities and sessions",
        "Show a user: their email, identities and sessions.",
    )
    show.add_argument("user", metavar="ID_OR_EMAIL", help="the user's id or email")

    create = actions.add(
        "create",
        create_user,
        "create a user",
        "Create a user. The email is normalised as Cross-Auth does (trimmed, lower case).",
    )
    create.add_argument("email", metavar="EMAIL", help="the new user's email")
    create.add_argument("--verified", action="store_true", help="mark the email as verified")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a password from stdin (typed twice when stdin is a terminal)",
    )

    delete = actions.add(
        "delete",
        delete_user,
        "delete a user, their identities and sessions",
        (
            "Delete a user, with their identities and sessions. Asks first, or refuses "
            "without --yes when nobody can answer."
        ),
    )
    delete.add_argument("user", metavar="ID_OR_EMAIL", help="the user's id or email")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def user_view(user: Any) -> dict[str, Any]:
    """What listings show of a user: no password hash, only whether there is one."""
    return {
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "has_password": user.has_usable_password,
    }


def identity_view(identity: lite.admin.IdentitySummary) -> dict[str, Any]:
    """What listings show of a social account: no tokens, only whether they are set."""
    return dataclasses.asdict(identity)


_USER_HEADERS = ("ID", "EMAIL", "VERIFIED", "PASSWORD", "IDENTITIES", "ACTIVE SESSIONS")


def list_users(args: argparse.Namespace) -> int:
    """``users list [--limit N] [--after ID] [--email-contains TEXT]``."""
    with open_existing(args, tokens=False) as store:
        show_page(
            args,
            lite.admin.list_users(
                store, email_contains=args.email_contains, after=args.after, limit=args.limit
            ),
            headers=_USER_HEADERS,
            row=lambda summary: list(dataclasses.asdict(summary).values()),
            view=dataclasses.asdict,
            more=lambda last: lite.admin.count_users(
                store, email_contains=args.email_contains, after=last
            ),
            noun="user",
        )
    return 0


def show_user(args: argparse.Namespace) -> int:
    """``users show ID_OR_EMAIL``."""
    with open_existing(args, tokens=False) as store:
        user = resolve_user(store, args.user)
        identities = [identity_view(item) for item in lite.admin.list_identities(store, user.id)]
        summaries = list(lite.admin.list_sessions(store, user_id=user.id))
        view = user_view(user)
    sessions = [session_view(summary) for summary in summaries]
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
    if summaries:
        headers = [name for name in SESSION_HEADERS if name != "USER"]
        print_table(headers, [session_table_row(summary) for summary in summaries], indent="  ")
    return 0


def create_user(args: argparse.Namespace) -> int:
    """``users create EMAIL [--verified] [--password-stdin]``."""
    try:
        email = lite.admin.check_email(args.email)
    except ValueError as error:
        raise CliError(str(error)) from None
    taken = CliError(f"a user with email {email} already exists")
    with open_existing(args, tokens=False) as store:
        if store.accounts.find_user_by_email(email) is not None:
            raise taken  # before asking for a password (the insert checks again)
        password = read_password() if args.password_stdin else None
        try:
            user = lite.admin.create_user(store, email, verified=args.verified, password=password)
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
    with open_existing(args, tokens=False) as store:
        user = resolve_user(store, args.user)
        label = describe_user(user)
        if not args.yes:
            if sys.stdin is None or not sys.stdin.isatty():
                raise CliError(f"not deleting {label} without --yes")
            identities, sessions = lite.admin.count_user_rows(store, user.id)
            question = (
                f"Delete {label}, {plural(identities, 'identity', 'identities')} and "
                f"{plural(sessions, 'session')}?"
            )
            if not _confirm(question):
                # Declining is an answer, not a failure: exit status 0.
                if args.json:
                    emit_json({"deleted": None})
                else:
                    echo("nothing deleted")
                return 0
        deleted = lite.admin.delete_user(store, user.id)
    if args.json:
        emit_json({"deleted": dataclasses.asdict(deleted)})
    else:
        echo(
            f"deleted {label} with {plural(deleted.identities, 'identity', 'identities')} "
            f"and {plural(deleted.sessions, 'session')}"
        )
    return 0
