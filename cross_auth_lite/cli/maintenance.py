"""``init``, ``stats`` and ``purge``: creating a store, describing it, cleaning it up."""

from __future__ import annotations

import argparse
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import cross_auth_lite as lite
from cross_auth_lite.cli.common import Commands, open_existing, open_or_create
from cross_auth_lite.cli.errors import CliError
from cross_auth_lite.cli.output import echo, emit_json, format_bytes, plural, print_table
from cross_auth_lite.demo.options import number_type

__all__ = ["DEFAULT_PURGE_DAYS", "add_parsers"]

#: Sessions expired or revoked longer ago than this many days are purged.
DEFAULT_PURGE_DAYS = lite.admin.DEFAULT_RETENTION / timedelta(days=1)


def add_parsers(commands: Commands) -> None:
    """Register ``init``, ``stats`` and ``purge``."""
    init = commands.add(
        "init",
        init_store,
        "create the store",
        "Create the store in the data directory (nothing changes if it exists).",
    )
    init.add_argument(
        "--shared-connections",
        action="store_true",
        help="let several users connect the same provider identity (fixed at creation)",
    )

    commands.add(
        "stats",
        show_stats,
        "count users, identities, sessions and cache entries",
        "Count what the store holds and how much disk it uses.",
    )

    purge = commands.add(
        "purge",
        purge_store,
        "delete expired cache entries and long-dead sessions",
        (
            "Delete expired cache entries, and sessions that expired or were revoked "
            "more than --older-than days ago."
        ),
    )
    purge.add_argument(
        "--older-than",
        type=_days,
        default=DEFAULT_PURGE_DAYS,
        metavar="DAYS",
        help=f"how long ended sessions are kept (default {DEFAULT_PURGE_DAYS:g})",
    )


_days = number_type(float, "a number of days", 0, 100_000)


def _mode_fixed(error: lite.ConnectionModeError) -> str:
    """The store's connection mode, said as the flag that chooses it."""
    if error.shared_connections:
        return (
            f"{error.location} was created with --shared-connections (shared connections), "
            "which is fixed when a store is created"
        )
    return (
        f"{error.location} was created without --shared-connections (exclusive connections), "
        "which is fixed when a store is created: run init without the flag to use it as it "
        "is, or create a shared store somewhere else"
    )


def _not_yet_there(args: argparse.Namespace) -> list[Path]:
    """What ``init`` may create in the store's directory that is not there yet, outermost first.

    The outermost missing directory on the way to ``--data`` if it is
    missing, else its ``cache/`` if that is missing.
    """
    if args.data is None:
        return []
    data = Path(args.data).absolute()
    if not data.exists():
        top = data
        while not top.parent.exists() and top.parent != top:
            top = top.parent
        return [top]
    if not data.is_dir():
        return []
    return [path for path in (data / "cache",) if not path.exists()]


def init_store(args: argparse.Namespace) -> int:
    """``init [--shared-connections]``."""
    made = _not_yet_there(args)
    try:
        opened = open_or_create(args, shared_connections=args.shared_connections or None)
    except lite.ConnectionModeError as error:
        raise CliError(_mode_fixed(error)) from None
    except BaseException:
        # A failed init (an unreachable PostgreSQL, say) leaves nothing it made behind.
        for directory in made:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    with opened as store:
        created = store.created
        connections = store.connections
        path = store.location
    result = {
        "path": str(path),
        "created": created,
        "schema_version": lite.admin.SCHEMA_VERSION,
        "connections": connections,
    }
    if args.json:
        emit_json(result)
    else:
        verb = "created" if created else "already initialised:"
        echo(f"{verb} store at {path} ({connections} connections)")
    return 0


def show_stats(args: argparse.Namespace) -> int:
    """``stats``."""
    # Reporting changes nothing: this open makes no housekeeping pass.
    with open_existing(args, tokens=False) as store:
        stats = lite.admin.store_stats(store)
    # Once closed: SQLite has folded its -wal file back and removed it.
    files = lite.admin.directory_sizes(args.data)
    stats["files"] = {"total_bytes": sum(files.values()), "bytes": files}
    if args.json:
        emit_json(stats)
        return 0
    users, accounts, sessions = stats["users"], stats["social_accounts"], stats["sessions"]
    cache = stats["cache"]
    rows: list[tuple[str, str]] = [
        ("store", f"{stats['path']} (schema {stats['schema_version']}, {stats['connections']})"),
        (
            "users",
            f"{users['total']} ({users['email_verified']} verified, "
            f"{users['with_password']} with a password)",
        ),
        ("social accounts", str(accounts["total"])),
        *[(f"  {name}", str(number)) for name, number in accounts["by_provider"].items()],
        (
            "sessions",
            f"{sessions['total']} ({sessions['active']} active, {sessions['expired']} "
            f"expired, {sessions['revoked']} revoked)",
        ),
        (
            "cache",
            f"{plural(cache['live_entries'], 'live entry', 'live entries')} "
            f"({cache['stored_entries']} stored)"
            if cache
            else "in Redis",
        ),
        ("disk", format_bytes(stats["files"]["total_bytes"])),
        *[(f"  {name}", format_bytes(size)) for name, size in files.items()],
        *(
            [("  reclaimable", format_bytes(stats["reclaimable_bytes"]))]
            if stats["reclaimable_bytes"] is not None
            else []
        ),
        ("housekeeping", _housekeeping_line(stats["housekeeping"])),
    ]
    print_table(None, rows)
    return 0


def _housekeeping_line(last: dict[str, Any] | None) -> str:
    """When housekeeping last finished a pass, and what it removed."""
    if last is None:
        return "has not run yet"
    removed = (
        f"{plural(last.get('sessions', 0), 'session')}, "
        f"{plural(last.get('cache_entries', 0), 'cache entry', 'cache entries')}, "
        f"{format_bytes(last.get('freed_bytes', 0))} given back"
    )
    return f"last ran {last['at']} ({removed})"


def purge_store(args: argparse.Namespace) -> int:
    """``purge [--older-than DAYS]``."""
    with open_existing(args, tokens=False) as store:
        result = lite.admin.purge_store(store, older_than=timedelta(days=args.older_than))
    if args.json:
        emit_json(
            {
                "cache_entries": result.cache_entries,
                "sessions": result.sessions,
                "older_than_days": args.older_than,
            }
        )
    else:
        expired = plural(result.cache_entries, "expired cache entry", "expired cache entries")
        echo(f"purged {expired}")
        ended = plural(result.sessions, "session")
        echo(f"purged {ended} that ended more than {args.older_than:g} days ago")
    return 0
