"""How a store's housekeeping is set (``HousekeepingSettings``) and what one pass did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cross_auth_lite.sessions.queries import DEFAULT_RETENTION

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_FIRST_DELAY",
    "DEFAULT_HOUSEKEEPING_INTERVAL",
    "DEFAULT_PAUSE",
    "HousekeepingResult",
    "HousekeepingSettings",
]

#: How often a store is looked after, at most.
DEFAULT_HOUSEKEEPING_INTERVAL = timedelta(hours=1)
#: Seconds between ``lite.open()`` and the first pass.
DEFAULT_FIRST_DELAY = 2.0
#: Sessions deleted per write transaction.
DEFAULT_BATCH_SIZE = 200
#: Seconds the thread rests after each batch, so that requests get the lock.
DEFAULT_PAUSE = 0.02


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HousekeepingSettings:
    """How a store looks after itself: ``lite.open(path, housekeeping=HousekeepingSettings(...))``.

    ``retention``: how long ended sessions are kept (so listings still show
    them). ``interval``: the least time between two passes, across all the
    processes using the store. ``first_delay``: seconds from ``open()`` to
    the first pass. ``batch_size``: sessions deleted per transaction.
    ``pause``: seconds of rest after each batch. ``clock``: the current time
    as an aware datetime; for tests that move time.
    """

    retention: timedelta = DEFAULT_RETENTION
    interval: timedelta = DEFAULT_HOUSEKEEPING_INTERVAL
    first_delay: float = DEFAULT_FIRST_DELAY
    batch_size: int = DEFAULT_BATCH_SIZE
    pause: float = DEFAULT_PAUSE
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)

    def __post_init__(self) -> None:
        for name in ("retention", "interval"):
            value = getattr(self, name)
            if not isinstance(value, timedelta):
                raise TypeError(f"{name} must be a timedelta, not {type(value).__name__}")
            if value < timedelta(0):
                raise ValueError(f"{name} must not be negative")
        for name in ("first_delay", "pause"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number of seconds")
            if not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number of seconds >= 0")
        if type(self.batch_size) is not int or self.batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, not {self.batch_size!r}")
        if not callable(self.clock):
            raise TypeError("clock must be callable")


@dataclass(frozen=True)
class HousekeepingResult:
    """What one housekeeping pass did."""

    #: When the pass started and finished (by the settings' clock).
    started_at: datetime
    finished_at: datetime
    #: Sessions deleted: ended more than the retention before ``started_at``.
    sessions: int
    #: Expired disk-cache rows deleted (always ``0`` for Redis).
    cache_entries: int
    #: Bytes of free pages handed back to the filesystem (SQLite; else ``0``).
    freed_bytes: int
    #: False when the pass stopped early (the store closing, or another
    #: process taking over); the next one carries on.
    complete: bool = True

    @property
    def removed_anything(self) -> bool:
        """Whether the pass deleted a row or gave back a page."""
        return bool(self.sessions or self.cache_entries or self.freed_bytes)
