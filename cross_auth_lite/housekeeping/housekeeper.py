"""Housekeeping: a long-lived store looks after itself, with no cron job.

Every store ``lite.open()`` returns has a ``Housekeeper`` (unless opened with
``housekeeping=False``): one daemon thread, started when the first pass is
due (``cross_auth_lite.housekeeping.timer``) and stopped by ``close()``. A
little after open (``first_delay``, two seconds by
default), and then at most once per ``interval`` (an hour), it makes one
*pass*:

1. sessions that ended (expired or revoked) more than ``retention`` ago (30
   days, as ``cross-auth-lite purge``) are deleted, ``batch_size`` at a time;
2. expired rows of the disk cache are deleted, 100 at a time (Redis expires
   keys itself);
3. on SQLite, the pages those deletes freed are handed back to the
   filesystem, ``PRAGMA incremental_vacuum`` 128 pages (512 KiB) at a time.

Each batch is its own short write transaction, and the thread pauses
between batches, so a request never waits for more than one batch (a few
milliseconds) and a large purge is spread out instead of paid for at once.
Candidates are looked for with plain reads, over a window of ids at a time,
which take no lock; only the delete itself writes.

Several processes may use one store. ``lite_meta`` records when a pass last
finished (``housekeeping_last_run``) and who is making one
(``housekeeping_lease``: an owner and an expiry, renewed with every batch by
a compare-and-swap ``UPDATE``). A process whose housekeeper wakes finds the
last pass recent and sleeps until the next is due, or finds another
process's lease and skips; so one process works while the others skip, and
two never delete in the same batch. A lease left by a process that died runs
out after two minutes. The thread waits for locks briefly (a quarter of a
second), never for the 30 seconds a request would: a store busy with a long
write is simply tried again later.

``close()`` stops the thread between two batches and waits for it: at most
one batch and a brief lock wait. A housekeeper whose store was dropped
without ``close()`` ends its thread too. Housekeeping logs one INFO line
(logger ``cross_auth_lite.housekeeping.housekeeper``) per pass that removed anything,
with counts only, and a WARNING when a pass fails; it never raises into the
application.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import peewee

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.housekeeping.lease import LOCK_WAIT, RETRY_DELAY, last_housekeeping
from cross_auth_lite.housekeeping.steps import PassSteps, pragma, reclaimable_bytes
from cross_auth_lite.housekeeping.thread import halt, run_thread
from cross_auth_lite.housekeeping.timer import Pending, call_later
from cross_auth_lite.sessions.queries import DEFAULT_RETENTION

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

    from cross_auth_lite.database.models import StoreModels

__all__ = [
    "DEFAULT_FIRST_DELAY",
    "DEFAULT_HOUSEKEEPING_INTERVAL",
    "HousekeepingResult",
    "HousekeepingSettings",
    "Housekeeper",
    "last_housekeeping",
    "reclaimable_bytes",
]

log = logging.getLogger("cross_auth_lite.housekeeping")

#: How often a store is looked after, at most.
DEFAULT_HOUSEKEEPING_INTERVAL = timedelta(hours=1)
#: Seconds between ``lite.open()`` and the first pass.
DEFAULT_FIRST_DELAY = 2.0
#: Sessions deleted per write transaction.
DEFAULT_BATCH_SIZE = 200
#: Seconds the thread rests after each batch, so that requests get the lock.
DEFAULT_PAUSE = 0.02

#: The least seconds between two passes of one thread, whatever the interval.
MIN_SLEEP = 1.0
#: Seconds ``close()`` waits for the thread before leaving it (a daemon) behind.
STOP_TIMEOUT = 5.0


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


class Housekeeper(PassSteps):
    """The housekeeping of one open store: ``store.housekeeper``.

    Made and started by ``lite.open()``, stopped by ``store.close()``.
    ``run_now()`` makes a pass at once, in the calling thread; ``wake()``
    has the thread look again whether one is due (after the clock moved).
    """

    def __init__(
        self,
        *,
        database: peewee.Database,
        models: StoreModels,
        secondary: DiskCacheStorage | RedisStorage,
        location: str,
        settings: HousekeepingSettings,
    ) -> None:
        self._database = database
        self._models = models
        self._secondary = secondary
        self._location = location
        self._settings = settings
        self._owner = uuid.uuid4().hex
        self._pass_lock = threading.Lock()
        self._done = threading.Condition()
        self._runs = 0
        self._last: HousekeepingResult | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: Pending | None = None
        self._starting = threading.Lock()
        self._lease = ""
        self._renewed = 0.0

    @property
    def settings(self) -> HousekeepingSettings:
        """The settings the store was opened with."""
        return self._settings

    @property
    def runs(self) -> int:
        """How many passes this housekeeper made (in this process), complete or not."""
        return self._runs

    @property
    def last_result(self) -> HousekeepingResult | None:
        """What this housekeeper's latest pass did; ``None`` before the first."""
        return self._last

    @property
    def running(self) -> bool:
        """True while the background thread is alive (it starts when the first pass is due)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Have the background thread start when the first pass is due (``lite.open()`` does).

        Until then the store has no thread of its own: one timer thread per
        process waits for every store's first pass (see
        ``cross_auth_lite.housekeeping.timer``), so a store closed sooner
        never starts one.
        """
        with self._starting:
            if self._thread is not None or self._pending is not None or self._stopping.is_set():
                return
            # Dropping the store without close() ends the thread as well.
            weakref.finalize(self, halt, self._stopping, self._wake)
            if self._settings.first_delay > 0:
                self._pending = call_later(self._settings.first_delay, self._launch)
                return
        self._launch()

    def _launch(self) -> None:
        """Start the thread, its first pass due now (unless the store is closing)."""
        with self._starting:
            self._pending = None
            if self._thread is not None or self._stopping.is_set():
                return
            thread = threading.Thread(
                target=run_thread,
                args=(weakref.ref(self), self._wake, self._stopping, 0.0),
                name=f"cross-auth-lite housekeeping {self._location}",
                daemon=True,
            )
            self._thread = thread
            thread.start()

    def wake(self) -> None:
        """Have the thread check now whether a pass is due (it makes one only if so)."""
        pending = self._pending
        if pending is not None:
            pending.fire()  # its first check, sooner than planned
        self._wake.set()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the thread, after the batch in progress; wait up to ``timeout`` seconds."""
        with self._starting:
            halt(self._stopping, self._wake)
            pending, self._pending = self._pending, None
            thread = self._thread
        if pending is not None:
            pending.cancel()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("housekeeping of %s did not stop in %gs", self._location, timeout)

    def wait_for_runs(self, runs: int, timeout: float) -> bool:
        """Wait until this housekeeper has made ``runs`` passes; False if ``timeout`` ran out."""
        with self._done:
            return self._done.wait_for(lambda: self._runs >= runs, timeout)

    def run_now(self, *, force: bool = False) -> HousekeepingResult | None:
        """Make a pass now, in this thread, if one is due; its result, else ``None``.

        ``force=True`` makes it even when the last pass was less than
        ``interval`` ago. Still ``None`` when another process (or this
        store's own thread) is making one. Raises ``StoreUnavailableError``
        when the store stays locked, and ``StoreClosedError`` once closed.
        """
        result, _ = self._attempt(force=force)
        return result

    # The pass

    def _attempt(self, *, force: bool) -> tuple[HousekeepingResult | None, float]:
        """Make a pass if due and free: its result, and seconds until the next check."""
        if not self._pass_lock.acquire(blocking=False):
            return None, RETRY_DELAY
        try:
            with self._thread_connections():
                claimed, wait = self._claim(force=force)
                if claimed is None:
                    return None, wait
                result = self._pass(claimed)
            with self._done:
                self._runs += 1
                self._last = result
                self._done.notify_all()
            if result.removed_anything:
                log.info(
                    "housekeeping of %s: removed %d ended sessions and %d expired cache "
                    "entries, gave back %d bytes",
                    self._location,
                    result.sessions,
                    result.cache_entries,
                    result.freed_bytes,
                )
            return result, max(self._settings.interval.total_seconds(), MIN_SLEEP)
        finally:
            self._pass_lock.release()

    @contextlib.contextmanager
    def _thread_connections(self) -> Iterator[None]:
        """On the housekeeping thread: its own connections, quick to give up a lock, closed after.

        A pass made by ``run_now()`` uses the caller's connections as they are.
        """
        if not self._own_thread():
            yield
            return
        database = self._database
        cache = self._secondary.cache if isinstance(self._secondary, DiskCacheStorage) else None
        wait = int(LOCK_WAIT * 1000)
        try:
            database.connect(reuse_if_open=True)
            if isinstance(database, peewee.SqliteDatabase):
                pragma(database, f"PRAGMA busy_timeout = {wait}")
            if cache is not None:
                # Sets the pragma on this thread's connection only (update=False:
                # the Settings table, which every connection reads, is left alone).
                cache.reset("sqlite_busy_timeout", wait, update=False)
            yield
        finally:
            # Both close this thread's connection only; the next pass opens new ones.
            if cache is not None:
                with contextlib.suppress(Exception):
                    cache.close()
            with contextlib.suppress(Exception):
                database.close()

    def _pass(self, lease: str) -> HousekeepingResult:
        settings = self._settings
        self._lease, self._renewed = lease, time.monotonic()
        started = settings.clock()
        counts = {"sessions": 0, "cache_entries": 0, "freed_bytes": 0}
        # Each step says whether to carry on: False once the store is closing
        # or the lease was lost; the next pass does the rest.
        complete = (
            self._purge_sessions(started - settings.retention, counts)
            and self._purge_cache(started, counts)
            and self._vacuum(counts)
        )
        result = HousekeepingResult(
            started_at=started, finished_at=settings.clock(), complete=complete, **counts
        )
        self._finish(result)
        return result
