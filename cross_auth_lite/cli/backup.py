"""``backup DEST``: a consistent copy of the store while the app keeps running."""

from __future__ import annotations

import argparse

import cross_auth_lite as lite
from cross_auth_lite.cli.common import Commands, open_existing, path_argument
from cross_auth_lite.cli.output import emit_json, plural

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Register ``backup``."""
    backup = commands.add(
        "backup",
        run_backup,
        "copy the store consistently while it is in use",
        (
            "Copy the store into DEST (a new or empty directory) with SQLite's online "
            "backup API; the app may keep running. Open the copy like any store."
        ),
    )
    backup.add_argument(
        "destination",
        type=path_argument,
        metavar="DEST",
        help="the new or empty directory to copy into",
    )


def run_backup(args: argparse.Namespace) -> int:
    """``backup DEST``."""
    with open_existing(args, tokens=False) as store:
        target = lite.admin.backup_store(store, args.destination)
        users = store.models.User.select().count()
    if args.json:
        emit_json({"backup": str(target.resolve()), "users": users})
    else:
        print(f"backed up {plural(users, 'user')} to {target.resolve()}")
    return 0
