"""Housekeeping's record in ``lite_meta``: who holds the lease, and when a pass last finished.

A ``Lease`` is taken with a compare-and-swap ``UPDATE`` when a pass is due
and nobody else holds it, renewed with every batch, and released when the
pass ends, recording a complete pass. See ``housekeeper.py``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from cross_auth_lite.database.schema import meta_model, read_meta
from cross_auth_lite.database.sqlite import write_transaction
from cross_auth_lite.errors import LiteError
from cross_auth_lite.housekeeping.settings import HousekeepingResult, HousekeepingSettings

__all__ = ["LEASE_DURATION", "LOCK_WAIT", "RETRY_DELAY", "Lease", "last_housekeeping"]

log = logging.getLogger("cross_auth_lite.housekeeping")

#: How long a lease lasts unless renewed (every batch renews it).
LEASE_DURATION = timedelta(minutes=2)

#: Seconds housekeeping waits for a lock before giving up until later.
LOCK_WAIT = 0.25

#: Seconds before trying again after a failed or locked-out attempt.
RETRY_DELAY = 60.0

_LAST_RUN = "housekeeping_last_run"

_LEASE = "housekeeping_lease"


class Lease:
    """One housekeeper's lease on a store: taken when a pass is due, renewed, released.

    ``thread`` is the housekeeper's own thread once it runs: its
    transactions give up a lock quickly (on PostgreSQL, by a
    ``lock_timeout``; on SQLite the thread's connection has a short busy
    timeout).
    """

    def __init__(
        self,
        database: peewee.Database,
        settings: HousekeepingSettings,
        *,
        location: str,
    ) -> None:
        self._database = database
        self._settings = settings
        self._location = location
        self.thread: threading.Thread | None = None
        self._owner = uuid.uuid4().hex
        self._value = ""
        self._renewed = 0.0

    def transaction(self) -> Any:
        """A short write transaction; on the thread, one that waits for locks only briefly."""
        transaction = write_transaction(self._database)
        on_thread = threading.current_thread() is self.thread
        if on_thread and isinstance(self._database, peewee.PostgresqlDatabase):
            return _postgres_transaction(self._database, transaction)
        return transaction

    def claim(self, *, force: bool) -> tuple[bool, float]:
        """Take the lease if a pass is due and nobody holds it: whether taken, else the wait."""
        settings, now = self._settings, self._settings.clock()
        meta = read_meta(self._database)
        due = _due(meta, settings.interval, now)
        if not force and due > now:
            return False, _seconds(due - now, settings.interval)
        model = meta_model(self._database)
        lease = _lease_value(self._owner, now + LEASE_DURATION)
        with self.transaction():
            model.insert(key=_LEASE, value="").on_conflict_ignore().execute()
            meta = read_meta(self._database)
            due = _due(meta, settings.interval, now)
            if not force and due > now:
                return False, _seconds(due - now, settings.interval)
            held = meta.get(_LEASE, "")
            owner, until = _parse_lease(held)
            if owner and owner != self._owner and until is not None and until > now:
                return False, _seconds(until - now, settings.interval)
            updated = model.update(value=lease).where(model.key == _LEASE, model.value == held)
            if updated.execute() != 1:
                return False, RETRY_DELAY
        self._value, self._renewed = lease, time.monotonic()
        return True, 0.0

    def renew(self) -> bool:
        """Renew the lease, in the caller's transaction; False if it is no longer ours."""
        model = meta_model(self._database)
        now = self._settings.clock()
        renewed = _lease_value(self._owner, now + LEASE_DURATION)
        query = model.update(value=renewed).where(model.key == _LEASE, model.value == self._value)
        if query.execute() != 1:
            return False  # it ran out and another process took it: let that one work
        self._value, self._renewed = renewed, time.monotonic()
        return True

    def keep(self) -> bool:
        """Renew the lease in a transaction of its own once it is getting old."""
        if time.monotonic() - self._renewed < LEASE_DURATION.total_seconds() / 4:
            return True
        with self.transaction():
            return self.renew()

    def release(self, result: HousekeepingResult) -> None:
        """Release the lease, recording a complete pass (best effort: a lease runs out anyway)."""
        model = meta_model(self._database)
        record = json.dumps(
            {
                "at": result.finished_at.isoformat(),
                "sessions": result.sessions,
                "cache_entries": result.cache_entries,
                "freed_bytes": result.freed_bytes,
            }
        )
        mine = (model.key == _LEASE) & (model.value == self._value)
        try:
            with self.transaction():
                if model.update(value="").where(mine).execute() and result.complete:
                    model.insert(key=_LAST_RUN, value=record).on_conflict_ignore().execute()
                    model.update(value=record).where(model.key == _LAST_RUN).execute()
        except (LiteError, peewee.PeeweeException) as error:
            log.debug("housekeeping of %s left its lease to run out: %s", self._location, error)


@contextlib.contextmanager
def _postgres_transaction(database: peewee.Database, transaction: Any) -> Iterator[None]:
    with transaction:
        postgres: Any = database
        postgres.execute_sql(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT * 1000)}ms'")
        yield


def _lease_value(owner: str, until: datetime) -> str:
    return f"{owner} {until.isoformat()}"


def _parse_lease(value: str) -> tuple[str, datetime | None]:
    owner, _, until = value.partition(" ")
    try:
        return owner, datetime.fromisoformat(until)
    except ValueError:
        return owner, None


def _last_run_at(meta: dict[str, str]) -> datetime | None:
    record = _last_run_record(meta)
    return None if record is None else record["at"]


def _last_run_record(meta: dict[str, str]) -> dict[str, Any] | None:
    """The last complete pass recorded in ``meta`` (``at`` a datetime), or ``None``."""
    raw = meta.get(_LAST_RUN)
    if not raw:
        return None
    try:
        record = json.loads(raw)
        at = datetime.fromisoformat(record["at"])
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: as if it never ran, so it runs again
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return {**record, "at": at}


def _due(meta: dict[str, str], interval: timedelta, now: datetime) -> datetime:
    last = _last_run_at(meta)
    if last is None or last > now:  # a clock moved back: run rather than wait for ever
        return now
    return last + interval


def _seconds(delta: timedelta, interval: timedelta) -> float:
    """Seconds to wait for ``delta``, at least a little, at most ``interval``."""
    limit = max(interval.total_seconds(), 0.05)
    return min(max(delta.total_seconds(), 0.05), limit)


def last_housekeeping(database: peewee.Database) -> dict[str, Any] | None:
    """The last complete housekeeping pass recorded in the store, from any process.

    ``{"at": datetime, "sessions": n, "cache_entries": n, "freed_bytes": n}``,
    or ``None`` when none has finished yet.
    """
    return _last_run_record(read_meta(database))
