"""Housekeeping: long-ended sessions and expired cache rows go away on their own.

The housekeeper's clock is injected (``HousekeepingSettings(clock=...)``), so
a test moves time instead of waiting for it; only the thread's own first
delay is real, and kept short.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests import housekeeping_workers
from tests.factories import signup
from tests.housekeeping_workers import DEAD_PREFIX
from tests.processes import run_released
from tests.test_cli_support import run

pytestmark = pytest.mark.all_backends

# Near the real time: the disk cache stamps expiry times by the real clock.
START = datetime.now(UTC).replace(microsecond=0)
RETENTION = lite.admin.DEFAULT_RETENTION


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def settings(clock: Clock, **overrides: Any) -> lite.HousekeepingSettings:
    options: dict[str, Any] = {"clock": clock, "first_delay": 0.0, "pause": 0.0, **overrides}
    return lite.HousekeepingSettings(**options)


def add_sessions(store: lite.LiteStore, user_id: Any, **ended: tuple[int, datetime, bool]) -> None:
    """``name=(count, when, revoked)``: sessions expiring (or revoked) at ``when``."""
    rows = []
    for name, (count, when, revoked) in ended.items():
        for index in range(count):
            rows.append(
                {
                    "token_hash": f"{name}-{index}",
                    "user": user_id,
                    "created_at": when - timedelta(days=1),
                    "updated_at": when - timedelta(days=1),
                    "expires_at": START + timedelta(days=7) if revoked else when,
                    "revoked_at": when if revoked else None,
                    "user_agent": "x" * 100,
                }
            )
    session: Any = store.models.Session
    with store.database.atomic():
        for start in range(0, len(rows), 200):
            session.insert_many(rows[start : start + 200]).execute()


def hashes(store: lite.LiteStore) -> set[str]:
    session: Any = store.models.Session
    return {row.token_hash for row in session.select(session.token_hash)}


@pytest.fixture
def location(tmp_path: Path, make_database_url: Callable[[], str | None]) -> dict[str, Any]:
    """Where the test's store is: ``lite.open(**location)``."""
    return {"path": tmp_path / "store", "database_url": make_database_url()}


def seeded(location: dict[str, Any]) -> Any:
    """A store with one user and sessions of every kind; returns the user's id."""
    with lite.open(**location, housekeeping=False) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        long_ago, lately = START - RETENTION - timedelta(days=1), START - timedelta(days=3)
        add_sessions(
            store,
            user.id,
            live=(3, START + timedelta(days=7), False),
            expired_lately=(2, lately, False),
            revoked_lately=(2, lately, True),
            expired_long_ago=(40, long_ago, False),
            revoked_long_ago=(5, long_ago, True),
        )
        return user.id


KEPT = {
    *(f"live-{i}" for i in range(3)),
    *(f"expired_lately-{i}" for i in range(2)),
    *(f"revoked_lately-{i}" for i in range(2)),
}


def test_ended_sessions_and_expired_cache_rows_go_away_on_their_own(
    location: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    seeded(location)
    with lite.open(**location, housekeeping=False) as store:
        store.secondary.set("soon", "v", ttl=60)  # expired an hour from now...
        store.secondary.set("later", "v", ttl=10 * 86400)  # ...this one not
        store.secondary.set("forever", "v")
    clock = Clock()
    clock.advance(timedelta(hours=1))
    caplog.set_level(logging.INFO, logger="cross_auth_lite.housekeeping")
    with lite.open(**location, housekeeping=settings(clock, batch_size=7)) as store:
        assert store.housekeeper is not None
        assert store.housekeeper.wait_for_runs(1, timeout=30)

        assert hashes(store) == KEPT
        result = store.housekeeper.last_result
        assert result is not None
        assert result.complete
        assert result.sessions == 45
        if isinstance(store.secondary, lite.DiskCacheStorage):
            assert result.cache_entries == 1
            assert len(store.secondary.cache) == 2  # rows stored, whether live or not
        sqlite = location["database_url"] is None
        assert lite.admin.reclaimable_bytes(store.database) == (0 if sqlite else None)
        assert store.secondary.get("later") == "v"
        assert store.secondary.get("forever") == "v"
        last = lite.admin.last_housekeeping(store.database)
        assert last is not None
        assert last["at"] == clock.now
        assert last["sessions"] == 45

    lines = [r for r in caplog.records if r.name == "cross_auth_lite.housekeeping"]
    assert [r.levelno for r in lines] == [logging.INFO]
    message = lines[0].getMessage()
    assert "removed 45 ended sessions" in message
    assert "expired_long_ago" not in message
    assert "soon" not in message


def test_a_pass_runs_at_most_once_per_interval_across_stores(location: dict[str, Any]) -> None:
    user_id = seeded(location)
    clock = Clock()
    options = settings(clock, interval=timedelta(hours=2))
    with lite.open(**location, housekeeping=options) as store:
        assert store.housekeeper is not None
        assert store.housekeeper.wait_for_runs(1, timeout=30)
        add_sessions(store, user_id, second=(4, START - RETENTION - timedelta(days=1), False))

        # Neither this store nor another one on the same data runs again yet.
        clock.advance(timedelta(hours=1))
        assert store.housekeeper.run_now() is None
        with lite.open(**location, housekeeping=options) as sibling:
            assert sibling.housekeeper is not None
            assert sibling.housekeeper.run_now() is None
        assert {f"second-{i}" for i in range(4)} <= hashes(store)

        # Once the interval is over, the thread runs again on its own.
        clock.advance(timedelta(hours=1))
        store.housekeeper.wake()
        assert store.housekeeper.wait_for_runs(2, timeout=30)
        assert hashes(store) == KEPT
        assert store.housekeeper.runs == 2


def test_two_housekeepers_at_once_one_works_the_other_skips(location: dict[str, Any]) -> None:
    seeded(location)
    clock = Clock()
    options = settings(clock, first_delay=3600.0, batch_size=3)
    with (
        lite.open(**location, housekeeping=options) as first,
        lite.open(**location, housekeeping=options) as second,
    ):
        results: list[lite.admin.HousekeepingResult | None] = []
        barrier = threading.Barrier(2)

        def attempt(store: lite.LiteStore) -> None:
            assert store.housekeeper is not None
            barrier.wait()
            results.append(store.housekeeper.run_now())

        threads = [threading.Thread(target=attempt, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        made = [result for result in results if result is not None]
        assert len(made) == 1, results
        assert made[0].sessions == 45
        assert hashes(first) == KEPT


def test_with_housekeeping_off_everything_stays(location: dict[str, Any]) -> None:
    seeded(location)
    with lite.open(**location, housekeeping=False) as store:
        assert store.housekeeper is None
        assert not _threads_of(store)
        store.secondary.set("expired", "v", ttl=0.001)
        signup(store.accounts, "bob@example.com", "gh-bob")
        assert len(hashes(store)) == 52
    with lite.open(**location, housekeeping=False) as store:
        assert len(hashes(store)) == 52
        assert lite.admin.last_housekeeping(store.database) is None


def test_what_stats_shows(location: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    seeded(location)
    with lite.open(**location, housekeeping=False) as store:
        stats = lite.admin.store_stats(store)
        assert stats["housekeeping"] is None
        sqlite = location["database_url"] is None
        assert (stats["reclaimable_bytes"] is not None) is sqlite
        store.sessions.purge_expired(now=START)
        if sqlite:
            assert lite.admin.store_stats(store)["reclaimable_bytes"] > 0
    with lite.open(**location, housekeeping=settings(Clock(), first_delay=3600.0)) as store:
        assert store.housekeeper is not None
        assert store.housekeeper.run_now() is not None
        stats = lite.admin.store_stats(store)
        assert stats["housekeeping"]["at"] == START.isoformat()
        assert stats["reclaimable_bytes"] == (0 if sqlite else None)

    args = ["--database-url", location["database_url"]] if not sqlite else []
    out = run(capsys, location["path"], *args, "stats").out
    assert f"last ran {START.isoformat()}" in out
    assert ("reclaimable" in out) is sqlite


@pytest.mark.sqlite_only
def test_a_store_full_of_dead_sessions_is_back_to_its_live_rows_by_itself(
    tmp_path: Path,
) -> None:
    """The default settings, but for a short first delay: no purge call, no clock."""
    path = tmp_path / "store"
    now = datetime.now(UTC)
    with lite.open(path, housekeeping=False) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        dead = now - RETENTION - timedelta(days=2)
        add_sessions(store, user.id, live=(10, now + timedelta(days=1), False))
        add_sessions(store, user.id, dead=(2000, dead, False))
    full = (path / "accounts.sqlite3").stat().st_size

    quick = lite.HousekeepingSettings(first_delay=0.2)
    with lite.open(path, housekeeping=quick) as store:
        for index in range(20):  # used normally meanwhile
            signup(store.accounts, f"user{index}@example.com", f"gh-user-{index}")
        assert store.housekeeper is not None
        assert store.housekeeper.wait_for_runs(1, timeout=60)
        assert hashes(store) == {f"live-{i}" for i in range(10)}
        assert lite.admin.reclaimable_bytes(store.database) == 0
    assert (path / "accounts.sqlite3").stat().st_size < full / 2


@pytest.mark.sqlite_only
def test_closing_mid_pass_stops_at_once_and_the_next_pass_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with lite.open(path, housekeeping=False) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        add_sessions(store, user.id, dead=(2000, START - RETENTION * 2, False))
    clock = Clock()
    store = lite.open(path, housekeeping=settings(clock, batch_size=1, pause=0.001))
    while len(hashes(store)) == 2000:  # the pass has begun
        threading.Event().wait(0.001)
    housekeeper = store.housekeeper
    assert housekeeper is not None
    store.close()
    assert not housekeeper.running
    assert not _threads_of(store)

    with lite.open(path, housekeeping=settings(clock, first_delay=3600.0)) as reopened:
        left = len(hashes(reopened))
        assert 0 < left < 2000
        # The interrupted pass was not recorded, so the next one is due at once.
        assert lite.admin.last_housekeeping(reopened.database) is None
        assert reopened.housekeeper is not None
        result = reopened.housekeeper.run_now()
        assert result is not None
        assert result.sessions == left
        assert hashes(reopened) == set()


@pytest.mark.sqlite_only
def test_stores_opened_and_closed_in_numbers_leave_no_thread(tmp_path: Path) -> None:
    housekeepers = []
    for index in range(10):
        with lite.open(tmp_path / str(index)) as store:
            housekeepers.append(store.housekeeper)
    for _ in range(5):
        with lite.open() as ephemeral:
            housekeepers.append(ephemeral.housekeeper)
    assert all(h is not None and not h.running for h in housekeepers)

    assert not any(h is not None and h._thread is not None for h in housekeepers)  # none began

    # Never closed, its first pass due at once: its thread runs, and ends with the store.
    at_once = lite.HousekeepingSettings(first_delay=0)
    dropped = lite.open(tmp_path / "dropped", housekeeping=at_once)
    assert dropped.housekeeper is not None
    thread = dropped.housekeeper._thread
    assert thread is not None
    assert thread.is_alive()
    # Its connections are closed from here once its first pass is over: closing
    # one under a statement running in another thread is what SQLite forbids.
    assert dropped.housekeeper.wait_for_runs(1, timeout=10)
    dropped.database.close_all()  # type: ignore[attr-defined]
    dropped.secondary.close()
    del dropped
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.sqlite_only
def test_connections_closed_under_a_pass_end_housekeeping_instead_of_a_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = lite.open(tmp_path / "store", housekeeping=lite.HousekeepingSettings(first_delay=3600))
    housekeeper = store.housekeeper
    assert housekeeper is not None
    # The pass's first statement finds its connection closed underneath it,
    # as when a store is dropped while its thread is in a pass.
    store.database.query_hooks.append(lambda event: store.database.close_all())  # type: ignore[attr-defined]

    assert housekeeper._attempt_in_thread() == 0.0  # no wait for a retry: the thread ends
    assert not housekeeper.running
    assert "failed" not in caplog.text
    store.close()


@pytest.mark.sqlite_only
def test_a_store_dropped_before_its_first_pass_is_collected_and_starts_no_thread(
    tmp_path: Path,
) -> None:
    store = lite.open(tmp_path / "store", housekeeping=lite.HousekeepingSettings(first_delay=0.2))
    location = store.location
    assert store.housekeeper is not None
    collected = weakref.ref(store.housekeeper)
    store.database.close_all()  # type: ignore[attr-defined]
    store.secondary.close()
    del store
    gc.collect()
    assert collected() is None  # the pending start holds it weakly
    threading.Event().wait(0.6)  # past the time its first pass was due
    name = f"cross-auth-lite housekeeping {location}"
    assert not [thread for thread in threading.enumerate() if thread.name == name]


@pytest.mark.sqlite_only
def test_a_long_lived_store_starts_its_thread_when_the_first_pass_is_due(tmp_path: Path) -> None:
    with lite.open(tmp_path / "store", housekeeping=False) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        add_sessions(store, user.id, dead=(5, START - RETENTION * 2, False))
    clock = Clock()
    with lite.open(tmp_path / "store", housekeeping=settings(clock, first_delay=0.2)) as store:
        housekeeper = store.housekeeper
        assert housekeeper is not None
        assert housekeeper._thread is None  # nothing started at open
        assert housekeeper.wait_for_runs(1, timeout=60)
        assert housekeeper._thread is not None
        assert housekeeper.last_result is not None
        assert housekeeper.last_result.sessions == 5
        assert _threads_of(store)
    assert not housekeeper.running
    assert not _threads_of(store)


@pytest.mark.sqlite_only
def test_wake_starts_a_pending_housekeeper_at_once(tmp_path: Path) -> None:
    later = settings(Clock(), first_delay=3600.0)
    with lite.open(tmp_path / "store", housekeeping=later) as store:
        housekeeper = store.housekeeper
        assert housekeeper is not None
        assert not housekeeper.running
        housekeeper.wake()
        assert housekeeper.wait_for_runs(1, timeout=60)


@pytest.mark.sqlite_only
def test_closing_a_pending_housekeeper_cancels_it(tmp_path: Path) -> None:
    store = lite.open(tmp_path / "store", housekeeping=settings(Clock(), first_delay=0.2))
    housekeeper = store.housekeeper
    assert housekeeper is not None
    store.close()
    threading.Event().wait(0.6)  # past the time its first pass was due
    assert housekeeper._thread is None
    assert housekeeper.runs == 0
    housekeeper.wake()  # after close: nothing starts
    assert housekeeper._thread is None


@pytest.mark.sqlite_only
def test_a_lease_left_by_a_dead_process_runs_out(tmp_path: Path) -> None:
    path = tmp_path / "store"
    seeded({"path": path, "database_url": None})
    clock = Clock()
    with sqlite3.connect(path / "accounts.sqlite3") as db:
        until = (START + timedelta(minutes=1)).isoformat()
        db.execute("INSERT INTO lite_meta VALUES ('housekeeping_lease', ?)", (f"gone {until}",))
    db.close()
    with lite.open(path, housekeeping=settings(clock, first_delay=3600.0)) as store:
        assert store.housekeeper is not None
        assert store.housekeeper.run_now() is None  # someone else's lease, still good
        clock.advance(timedelta(minutes=2))
        result = store.housekeeper.run_now()
        assert result is not None
        assert result.sessions == 45


def test_settings_are_checked() -> None:
    with pytest.raises(TypeError):
        lite.HousekeepingSettings(retention=30)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="interval"):
        lite.HousekeepingSettings(interval=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="batch_size"):
        lite.HousekeepingSettings(batch_size=0)
    with pytest.raises(ValueError, match="first_delay"):
        lite.HousekeepingSettings(first_delay=float("nan"))
    with pytest.raises(TypeError, match="housekeeping"):
        lite.open(housekeeping="yes")  # type: ignore[arg-type]


def _threads_of(store: lite.LiteStore) -> list[threading.Thread]:
    name = f"cross-auth-lite housekeeping {store.location}"
    return [thread for thread in threading.enumerate() if thread.name == name]


@pytest.mark.sqlite_only
def test_two_processes_one_purges_and_neither_blocks_the_others_requests(
    tmp_path: Path,
) -> None:
    path, dead = tmp_path / "store", 1000
    with lite.open(path, housekeeping=False) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        now = datetime.now(UTC)
        add_sessions(
            store, user.id, **{DEAD_PREFIX.rstrip("-"): (dead, now - RETENTION * 2, False)}
        )
    reports = run_released(
        [
            (housekeeping_workers.sign_in_while_housekeeping, (str(path), dead, index))
            for index in range(2)
        ]
    )
    assert all(report[0] == "ok" for report in reports), reports

    runs = [report[1] for report in reports]
    removed = [report[2] for report in reports]
    assert sorted(runs) == [0, 1], reports  # one process worked, the other skipped
    assert sum(removed) == dead
    for _, _, _, during, _ in reports:
        assert during > 0, reports  # each one's writes went through while the pass went on
    with lite.open(path, housekeeping=False) as store:
        assert not any(h.startswith(DEAD_PREFIX) for h in hashes(store))
        assert len(hashes(store)) == sum(report[4] for report in reports)
