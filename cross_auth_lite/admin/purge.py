"""Cleaning a store up: expired cache entries, and sessions that ended long ago."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.sessions.queries import DEFAULT_RETENTION

if TYPE_CHECKING:
    from cross_auth_lite.store.lite_store import LiteStore

__all__ = ["DEFAULT_RETENTION", "PurgeResult", "purge_store"]


@dataclass(frozen=True)
class PurgeResult:
    """What ``purge_store`` deleted."""

    #: Expired cache rows (``0`` when the cache is Redis, which expires keys itself).
    cache_entries: int
    #: Sessions that ended more than the retention ago.
    sessions: int


def purge_store(store: LiteStore, *, older_than: timedelta = DEFAULT_RETENTION) -> PurgeResult:
    """Delete expired cache entries and sessions that ended more than ``older_than`` ago."""
    cache = store.secondary
    cache_entries = cache.purge_expired() if isinstance(cache, DiskCacheStorage) else 0
    sessions = store.sessions.purge_expired(older_than=older_than)
    return PurgeResult(cache_entries=cache_entries, sessions=sessions)
