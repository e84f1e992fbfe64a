"""What a store holds and how much disk it takes: the numbers ``cross-auth-lite stats`` shows."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import peewee

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.database.schema import read_meta
from cross_auth_lite.housekeeping.lease import last_housekeeping
from cross_auth_lite.housekeeping.steps import reclaimable_bytes
from cross_auth_lite.sessions.queries import SESSION_STATUSES, status_condition

if TYPE_CHECKING:
    from cross_auth_lite.store.lite_store import LiteStore

__all__ = ["directory_sizes", "store_stats"]


def directory_sizes(directory: str | os.PathLike[str]) -> dict[str, int]:
    """Size in bytes of every regular file under ``directory``, by relative POSIX path."""
    root_path = Path(directory)
    sizes: dict[str, int] = {}
    for root, _dirs, files in os.walk(root_path):
        for name in files:
            path = Path(root, name)
            try:
                if path.is_file() and not path.is_symlink():
                    sizes[path.relative_to(root_path).as_posix()] = path.stat().st_size
            except OSError:
                continue  # removed meanwhile (a -wal file at checkpoint)
    return dict(sorted(sizes.items()))


def store_stats(store: LiteStore, *, now: datetime | None = None) -> dict[str, Any]:
    """Counts of users, identities by provider, sessions by status at ``now``, cache entries.

    A JSON-ready dict; ``cache`` is ``None`` when the short-lived state is in
    Redis, which keeps its own counts. ``reclaimable_bytes`` is the free
    space inside the SQLite file (``None`` on PostgreSQL), which housekeeping
    hands back; ``housekeeping`` is the last complete pass (``at`` as ISO
    8601, and what it removed), ``None`` if none has finished yet.
    """
    moment = datetime.now(UTC) if now is None else now
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
    sessions = {"total": int(session.select().count())}
    for status in SESSION_STATUSES:
        condition = status_condition(session, status, moment)
        sessions[status] = int(session.select().where(condition).count())
    cache = store.secondary
    last = last_housekeeping(store.database)
    return {
        "path": store.location,
        "schema_version": int(meta.get("schema_version", "0")),
        "connections": meta.get("connections"),
        "users": {
            "total": int(user.select().count()),
            "email_verified": int(user.select().where(user.email_verified == True).count()),  # noqa: E712
            "with_password": int(
                user.select()
                .where(user.hashed_password.is_null(False), user.hashed_password != "")
                .count()
            ),
        },
        "social_accounts": {"total": sum(by_provider.values()), "by_provider": by_provider},
        "sessions": sessions,
        "cache": (
            {"live_entries": len(cache), "stored_entries": len(cache.cache)}
            if isinstance(cache, DiskCacheStorage)
            else None
        ),
        "reclaimable_bytes": reclaimable_bytes(store.database),
        "housekeeping": None if last is None else {**last, "at": last["at"].isoformat()},
    }
