"""``copy --to postgresql://...``: move a store's accounts and sessions to PostgreSQL.

The source is the store in ``--data``; it may be in use. What the copy
guarantees (one snapshot, one transaction, ids kept, the count check,
``--force``) is described in ``cross_auth_lite.admin.transfer``, which does it.
Rows the application wrote to the source after the snapshot are not copied;
the command says so when the source changed meanwhile (stop the application,
then copy again with ``--force``). A target created with the other
connection mode (shared or exclusive) is always refused; the tables a copy
creates stay, empty, when the target refuses a row. The short-lived
cache (OAuth state, codes) is not copied: sign-ins in progress at the switch
start again.
"""

from __future__ import annotations

import argparse

import cross_auth_lite as lite
from cross_auth_lite.cli.common import Commands, open_existing
from cross_auth_lite.cli.errors import CliError, error_message
from cross_auth_lite.cli.output import Progress, describe_counts, echo, emit_json, print_table

__all__ = ["add_parsers", "copy_command"]

_URL_HELP = (
    "a postgresql:// URL, e.g. postgresql://USER@HOST:5432/NAME; give the password "
    "through PGPASSWORD or ~/.pgpass rather than in the URL"
)


def add_parsers(commands: Commands) -> None:
    """Register ``copy``."""
    parser = commands.add(
        "copy",
        copy_command,
        "copy users, identities and sessions to PostgreSQL",
        "Copy every user, social account and session of the store to a PostgreSQL "
        "database, keeping ids, in one transaction; then compare the row counts. The "
        "store may be in use: what it held when the copy began is copied.",
    )
    parser.add_argument("--to", required=True, metavar="URL", help=f"the target: {_URL_HELP}")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the rows the target already holds (in the same transaction)",
    )


def copy_command(args: argparse.Namespace) -> int:
    """``copy --to URL [--force]``."""
    with open_existing(args) as source:
        try:
            # No housekeeping: its first pass would delete the long-ended sessions copied in.
            target = lite.admin.open_transfer_target(
                database_url=args.to,
                shared_connections=source.shared_connections,
                housekeeping=False,
            )
            with target, Progress("copying") as bar:
                result = lite.admin.copy_store(
                    source, target, force=args.force, progress=bar.update
                )
        except lite.UnsupportedURLError as error:
            malformed = isinstance(error, lite.MalformedURLError)
            advice = error.advice if malformed else f"use {_URL_HELP}"
            raise CliError(error.message_for("--to", advice)) from None
        except lite.TargetNotEmptyError as error:
            raise CliError(
                f"the target already holds {describe_counts(error.counts)}; pass --force to "
                "replace them"
            ) from None
        except lite.LiteError as error:
            raise CliError(error_message(error)) from None
        path = source.location
    where = lite.redact_url(args.to)
    copied, found, now = result.copied, result.target_counts, result.source_counts
    if args.json:
        emit_json(
            {
                "source": str(path),
                "target": where,
                "created": target.created,
                "copied": copied,
                "target_counts": found,
                "counts_match": result.counts_match,
                "source_changed": result.source_changed,
            }
        )
    else:
        echo(f"copied {describe_counts(copied)} from {path} to {where}")
        print_table(
            ["table", "copied", "in target", ""],
            [
                (
                    table,
                    copied[table],
                    found[table],
                    "ok" if copied[table] == found[table] else "!",
                )
                for table in lite.admin.STORE_TABLES
            ],
            indent="  ",
        )
    if not result.counts_match:
        raise CliError(
            f"count check failed: copied {describe_counts(copied)} but the target holds "
            f"{describe_counts(found)}; is something else writing to it?"
        )
    if result.source_changed and not args.json:
        echo(
            "note: the source changed during the copy (it now holds "
            f"{describe_counts(now)}); stop the application and run copy again with "
            "--force to take the rest"
        )
    return 0
