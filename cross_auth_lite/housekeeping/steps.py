"""The steps of a housekeeping pass, batch by batch: ended sessions, cache rows, free pages."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.housekeeping.lease import LeaseHolder
from cross_auth_lite.sessions.queries import ended_before

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

    from cross_auth_lite.database.models import StoreModels

__all__ = ["PassSteps", "pragma", "reclaimable_bytes"]

#: Session ids looked at per read when looking for ended sessions.
ID_WINDOW = 10_000

#: Expired cache rows deleted per transaction.
CACHE_BATCH = 100

#: Free pages handed back per transaction.
VACUUM_STEP = 128


class PassSteps(LeaseHolder):
    """What a pass does, each step saying whether to carry on (False: closing, lease lost)."""

    _models: StoreModels
    _secondary: DiskCacheStorage | RedisStorage
    _stopping: threading.Event

    def _rest(self) -> bool:
        """Pause between batches; False when the store is closing."""
        return not self._stopping.wait(self._settings.pause)

    def _purge_sessions(self, cutoff: datetime, counts: dict[str, int]) -> bool:
        session: Any = self._models.Session
        batch = self._settings.batch_size
        ended = ended_before(session, cutoff)
        highest = session.select(peewee.fn.MAX(session.id)).scalar()
        low = (session.select(peewee.fn.MIN(session.id)).scalar() or 1) - 1
        while highest is not None and low < highest:
            if self._stopping.is_set():
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
            with self._transaction():
                # The lease row, updated first, also locks any other process out.
                if not self._renew():
                    return False
                deleted = session.delete().where(session.id.in_(found), ended).execute()
            counts["sessions"] += int(deleted)
            low = found[-1] if len(found) == batch else high
            if not self._rest():
                return False
        return True

    def _purge_cache(self, now: datetime, counts: dict[str, int]) -> bool:
        storage = self._secondary
        if not isinstance(storage, DiskCacheStorage):
            return True  # Redis expires keys itself
        moment = now.timestamp()
        while True:
            if self._stopping.is_set() or not self._keep_lease():
                return False
            removed = storage.purge_expired(limit=CACHE_BATCH, now=moment)
            counts["cache_entries"] += removed
            if removed < CACHE_BATCH:
                return True
            if not self._rest():
                return False

    def _vacuum(self, counts: dict[str, int]) -> bool:
        database = self._database
        if not isinstance(database, peewee.SqliteDatabase):
            return True  # PostgreSQL's autovacuum reuses the space
        page_size = int(pragma(database, "PRAGMA page_size").fetchone()[0])
        while True:
            if self._stopping.is_set():
                return False
            free = _free_pages(database)
            if not free:
                return True
            step = min(free, VACUUM_STEP)
            with self._transaction():
                if not self._renew():
                    return False
                for _ in range(step):
                    # One page each, whether or not the driver steps the pragma to its end.
                    pragma(database, "PRAGMA incremental_vacuum(1)")
            given = free - _free_pages(database)
            counts["freed_bytes"] += max(given, 0) * page_size
            if given <= 0:
                return True  # auto_vacuum is off (a file not yet converted): nothing to give
            if not self._rest():
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
