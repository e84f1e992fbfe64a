"""``init``, ``stats`` and ``purge``: creating a store, describing it, cleaning it up."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import peewee

from cross_auth_lite.cli.common import count, open_existing, open_or_create, utc_now
from cross_auth_lite.cli.output import Progress, echo, emit_json, format_bytes, print_table
from cross_auth_lite.schema import read_meta
from cross_auth_lite.secondary import DiskCacheStorage
from cross_auth_lite.store import LiteStore

__all__ = ["DEFAULT_PURGE_DAYS", "add_parsers", "directory_sizes"]

#: Sessions expired or revoked longer ago than this many days are purged.
DEFAULT_PURGE_DAYS = 30.0


def add_parsers(
    commands: argparse._SubParsersAction[Any], parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``init``, ``stats`` and ``purge``."""
    init = commands.add_parser(
        "init",
        parents=parents,
        help="create the store",
        description="Create the store in the data directory (nothing changes if it exists).",
    )
    init.add_argument(
        "--shared-connections",
        action="store_true",
        help="let several users connect the same provider identity (fixed at creation)",
    )
    init.set_defaults(handler=init_store)

    stats = commands.add_parser(
        "stats",
        parents=parents,
        help="count users, identities, sessions and cache entries",
        description="Count what the store holds and how much disk it uses.",
    )
    stats.set_defaults(handler=show_stats)

    purge = commands.add_parser(
        "purge",
        parents=parents,
        help="delete expired cache entries and long-dead sessions",
        description=(
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
    purge.set_defaults(handler=purge_store)


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, not {text!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100000 days, not {text}")
    return value


def init_store(args: argparse.Namespace) -> int:
    """``init [--shared-connections]``."""
    store, created = open_or_create(args.data, shared_connections=args.shared_connections)
    with store:
        meta = read_meta(store.database)
        path = store.path.absolute()
    result = {
        "path": str(path),
        "created": created,
        "schema_version": int(meta["schema_version"]),
        "connections": meta["connections"],
    }
    if args.json:
        emit_json(result)
    else:
        verb = "created" if created else "already initialised:"
        echo(f"{verb} store at {path} ({meta['connections']} connections)")
    return 0


def directory_sizes(directory: Path) -> dict[str, int]:
    """Size in bytes of every regular file under ``directory``, by relative path."""
    sizes: dict[str, int] = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = Path(root, name)
            try:
                if path.is_file() and not path.is_symlink():
                    sizes[path.relative_to(directory).as_posix()] = path.stat().st_size
            except OSError:
                continue  # removed meanwhile (a -wal file at checkpoint)
    return dict(sorted(sizes.items()))


def collect_stats(store: LiteStore) -> dict[str, Any]:
    """The numbers ``stats`` reports about the store's content, as a JSON-ready dict."""
    now = utc_now()
    models: Any = store.models
    user, account, session = models.User, models.SocialAccount, models.Session
    providers = (
        account.select(account.provider, peewee.fn.COUNT(account.id))
        .group_by(account.provider)
        .order_by(account.provider)
        .tuples()
    )
    by_provider = {provider: int(number) for provider, number in providers}
    meta = read_meta(store.database)
    sessions = {
        "total": count(session.select()),
        "active": count(
            session.select().where(session.revoked_at.is_null(), session.expires_at >= now)
        ),
        "expired": count(
            session.select().where(session.revoked_at.is_null(), session.expires_at < now)
        ),
        "revoked": count(session.select().where(session.revoked_at.is_null(False))),
    }
    return {
        "path": str(store.path.absolute()),
        "schema_version": int(meta.get("schema_version", "0")),
        "connections": meta.get("connections"),
        "users": {
            "total": count(user.select()),
            "email_verified": count(user.select().where(user.email_verified == True)),  # noqa: E712
            "with_password": count(
                user.select().where(
                    user.hashed_password.is_null(False), user.hashed_password != ""
                )
            ),
        },
        "social_accounts": {"total": sum(by_provider.values()), "by_provider": by_provider},
        "sessions": sessions,
        "cache": {
            "live_entries": len(_disk_cache(store)),
            "stored_entries": len(_disk_cache(store).cache),
        },
    }


def _disk_cache(store: LiteStore) -> DiskCacheStorage:
    """The store's disk cache (the CLI opens stores with one; Redis looks after itself)."""
    if not isinstance(store.secondary, DiskCacheStorage):
        raise TypeError(f"{store!r} keeps its cache in {type(store.secondary).__name__}")
    return store.secondary


def show_stats(args: argparse.Namespace) -> int:
    """``stats``."""
    with open_existing(args.data) as store:
        stats = collect_stats(store)
    # Once closed: SQLite has folded its -wal file back and removed it.
    files = directory_sizes(args.data)
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
        ("cache", f"{cache['live_entries']} live entries ({cache['stored_entries']} stored)"),
        ("disk", format_bytes(stats["files"]["total_bytes"])),
        *[(f"  {name}", format_bytes(size)) for name, size in files.items()],
    ]
    print_table(None, rows)
    return 0


def purge_store(args: argparse.Namespace) -> int:
    """``purge [--older-than DAYS]``."""
    older_than = timedelta(days=args.older_than)
    with open_existing(args.data) as store, Progress("purging cache", total=2) as progress:
        cache_entries = _disk_cache(store).purge_expired()
        progress.advance()
        progress.set_label("purging sessions")
        sessions = store.sessions.purge_expired(older_than=older_than)
        progress.advance()
    result = {
        "cache_entries": cache_entries,
        "sessions": sessions,
        "older_than_days": args.older_than,
    }
    if args.json:
        emit_json(result)
    else:
        echo(f"purged {cache_entries} expired cache entries")
        echo(f"purged {sessions} sessions that ended more than {args.older_than:g} days ago")
    return 0
