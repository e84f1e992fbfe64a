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
(logger ``cross_auth_lite.housekeeping``) per pass that removed anything,
with counts only, and a WARNING when a pass fails; it never raises into the
application.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

import peewee

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.errors import LiteError, StoreClosedError, StoreUnavailableError
from cross_auth_lite.housekeeping.lease import LOCK_WAIT, RETRY_DELAY, Lease
from cross_auth_lite.housekeeping.settings import (
    HousekeepingResult,
    HousekeepingSettings,
)
from cross_auth_lite.housekeeping.steps import (
    StepContext,
    pragma,
    purge_cache,
    purge_sessions,
    vacuum,
)
from cross_auth_lite.housekeeping.timer import Pending, call_later

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

    from cross_auth_lite.database.models import StoreModels

__all__ = ["MIN_SLEEP", "STOP_TIMEOUT", "Housekeeper", "halt", "run_thread"]

log = logging.getLogger("cross_auth_lite.housekeeping")

#: The least seconds between two passes of one thread, whatever the interval.
MIN_SLEEP = 1.0
#: Seconds ``close()`` waits for the thread before leaving it (a daemon) behind.
STOP_TIMEOUT = 5.0


class Housekeeper:
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
        self._lease = Lease(database, settings, location=location)
        self._pass_lock = threading.Lock()
        self._done = threading.Condition()
        self._runs = 0
        self._last: HousekeepingResult | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: Pending | None = None
        self._starting = threading.Lock()

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
            self._thread = self._lease.thread = thread
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
                claimed, wait = self._lease.claim(force=force)
                if not claimed:
                    return None, wait
                result = self._pass()
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

    def _pass(self) -> HousekeepingResult:
        settings = self._settings
        context = StepContext(lease=self._lease, settings=settings, stopping=self._stopping)
        started = settings.clock()
        counts = {"sessions": 0, "cache_entries": 0, "freed_bytes": 0}
        # Each step says whether to carry on: False once the store is closing
        # or the lease was lost; the next pass does the rest.
        complete = (
            purge_sessions(context, self._models.Session, started - settings.retention, counts)
            and purge_cache(context, self._secondary, started, counts)
            and vacuum(context, self._database, counts)
        )
        result = HousekeepingResult(
            started_at=started, finished_at=settings.clock(), complete=complete, **counts
        )
        self._lease.release(result)
        return result

    def _own_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _attempt_in_thread(self) -> float:
        """One attempt from the thread: the seconds to wait before the next; never raises."""
        location = self._location
        try:
            _, delay = self._attempt(force=False)
        except StoreClosedError:
            self._stopping.set()
            return 0.0
        except StoreUnavailableError as error:
            if error.damaged:  # not a lock to wait out: someone has to restore the store
                log.warning(
                    "housekeeping of %s failed (%s); trying again in %gs",
                    location,
                    error,
                    RETRY_DELAY,
                )
            else:
                log.debug("housekeeping of %s skipped: %s", location, error.reason)
            return RETRY_DELAY
        except (LiteError, peewee.PeeweeException, sqlite3.Error, OSError) as error:
            if self._stopping.is_set():
                return 0.0  # closing underneath a statement
            if getattr(self._database, "shut", False):
                # The store's connections were closed underneath a statement
                # (closing without close(), dropping the store): housekeeping ends.
                self._stopping.set()
                return 0.0
            log.warning(
                "housekeeping of %s failed (%s: %s); trying again in %gs",
                location,
                type(error).__name__,
                error,
                RETRY_DELAY,
            )
            return RETRY_DELAY
        except Exception:
            log.exception("housekeeping of %s failed; trying again in %gs", location, RETRY_DELAY)
            return RETRY_DELAY
        return delay


def halt(stopping: threading.Event, wake: threading.Event) -> None:
    """Tell a housekeeping thread to end, waking it if it waits."""
    stopping.set()
    wake.set()


def run_thread(
    ref: weakref.ref[Housekeeper],
    wake: threading.Event,
    stopping: threading.Event,
    first_delay: float,
) -> None:
    """The housekeeping thread: wait, make a pass if due, repeat, until stopped.

    It holds its housekeeper only weakly between passes, so a store dropped
    without ``close()`` is collected and the thread ends.
    """
    delay = first_delay
    while True:
        wake.wait(delay)
        wake.clear()
        if stopping.is_set():
            return
        housekeeper = ref()
        if housekeeper is None:
            return
        delay = housekeeper._attempt_in_thread()
        del housekeeper
        if stopping.is_set():
            return
