"""The steps of a housekeeping pass, batch by batch: ended sessions, cache rows, free pages.

Each step says whether to carry on: ``False`` once the store is closing or
the lease was lost; the next pass does the rest.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.housekeeping.lease import Lease
from cross_auth_lite.housekeeping.settings import HousekeepingSettings
from cross_auth_lite.sessions.queries import ended_before

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage


__all__ = [
    "StepContext",
    "pragma",
    "purge_cache",
    "purge_sessions",
    "reclaimable_bytes",
    "vacuum",
]

#: Session ids looked at per read when looking for ended sessions.
ID_WINDOW = 10_000

#: Expired cache rows deleted per transaction.
CACHE_BATCH = 100

#: Free pages handed back per transaction.
VACUUM_STEP = 128


@dataclass(frozen=True)
class StepContext:
    """What every step of a pass works with: the lease it renews, the settings, the stop signal."""

    lease: Lease
    settings: HousekeepingSettings
    stopping: threading.Event

    def rest(self) -> bool:
        """Pause between batches; False when the store is closing."""
        return not self.stopping.wait(self.settings.pause)


def purge_sessions(
    context: StepContext, session: Any, cutoff: datetime, counts: dict[str, int]
) -> bool:
    """Delete the sessions of model ``session`` that ended before ``cutoff``, batch by batch."""
    batch = context.settings.batch_size
    ended = ended_before(session, cutoff)
    highest = session.select(peewee.fn.MAX(session.id)).scalar()
    low = (session.select(peewee.fn.MIN(session.id)).scalar() or 1) - 1
    while highest is not None and low < highest:
        if context.stopping.is_set():
            return False
        high = low + ID_WINDOW
        # A plain read, which takes no lock: only the delete below writes.
        found = [
            row_id
            for (row_id,) in session.select(session.id)
            .where(session.id > low, session.id <= high, ended)
            .order_by(session.id)
            .limit(batch)
            .tuples()
        ]
        if not found:
            low = high
            continue
        with context.lease.transaction():
            # The lease row, updated first, also locks any other process out.
            if not context.lease.renew():
                return False
            deleted = session.delete().where(session.id.in_(found), ended).execute()
        counts["sessions"] += int(deleted)
        low = found[-1] if len(found) == batch else high
        if not context.rest():
            return False
    return True


def purge_cache(
    context: StepContext,
    storage: DiskCacheStorage | RedisStorage,
    now: datetime,
    counts: dict[str, int],
) -> bool:
    """Delete the disk cache's rows expired by ``now``, ``CACHE_BATCH`` at a time."""
    if not isinstance(storage, DiskCacheStorage):
        return True  # Redis expires keys itself
    moment = now.timestamp()
    while True:
        if context.stopping.is_set() or not context.lease.keep():
            return False
        removed = storage.purge_expired(limit=CACHE_BATCH, now=moment)
        counts["cache_entries"] += removed
        if removed < CACHE_BATCH:
            return True
        if not context.rest():
            return False


def vacuum(context: StepContext, database: peewee.Database, counts: dict[str, int]) -> bool:
    """Hand a SQLite file's free pages back to the filesystem, ``VACUUM_STEP`` at a time."""
    if not isinstance(database, peewee.SqliteDatabase):
        return True  # PostgreSQL's autovacuum reuses the space
    page_size = int(pragma(database, "PRAGMA page_size").fetchone()[0])
    while True:
        if context.stopping.is_set():
            return False
        free = _free_pages(database)
        if not free:
            return True
        step = min(free, VACUUM_STEP)
        with context.lease.transaction():
            if not context.lease.renew():
                return False
            for _ in range(step):
                # One page each, whether or not the driver steps the pragma to its end.
                pragma(database, "PRAGMA incremental_vacuum(1)")
        given = free - _free_pages(database)
        counts["freed_bytes"] += max(given, 0) * page_size
        if given <= 0:
            return True  # auto_vacuum is off (a file not yet converted): nothing to give
        if not context.rest():
            return False


def _free_pages(database: peewee.Database) -> int:
    return int(pragma(database, "PRAGMA freelist_count").fetchone()[0])


def reclaimable_bytes(database: peewee.Database) -> int | None:
    """Bytes of free pages in a SQLite file (``freelist_count * page_size``); ``None`` elsewhere.

    Housekeeping hands them back on a store with incremental auto-vacuum.
    """
    if not isinstance(database, peewee.SqliteDatabase):
        return None
    page_size = int(pragma(database, "PRAGMA page_size").fetchone()[0])
    return _free_pages(database) * page_size


def pragma(database: peewee.Database, statement: str) -> Any:
    """Run ``statement`` (a PRAGMA or VACUUM) on ``database``; its cursor."""
    db: Any = database  # execute_sql has no type information
    return db.execute_sql(statement)
