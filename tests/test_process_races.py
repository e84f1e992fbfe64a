"""Races between real processes on one store, beyond those in ``test_races.py``.

Each test starts its processes, lets them open the store, then releases
them together with one ``multiprocessing`` Event. Promotions and
disconnects of the last login methods are raced in ``test_races.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests import crash_workers
from tests.crash_workers import LONG_TTL, STATE_PREFIX, state_key, state_value
from tests.factories import signup
from tests.processes import ReleasedPool

REFRESHERS = 3
POPPERS = 3
STATE_KEYS = 1500
REVOKED_AT = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture(scope="module")
def released() -> Iterator[ReleasedPool]:
    """Four processes for the module's races; two Events and a Value they may share."""
    pool = ReleasedPool(max(REFRESHERS, POPPERS) + 1, events=2, values=1)
    try:
        yield pool
    finally:
        pool.close()


@pytest.mark.parametrize("how", ["revoke", "revoke_all_for_user"])
def test_refreshes_racing_a_revocation(released: ReleasedPool, tmp_path: Path, how: str) -> None:
    path = tmp_path / "s"
    now = datetime.now(UTC)
    with lite.open(path) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        session = store.sessions.create(
            token_hash="raced",
            user_id=user.id,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(hours=1),
        )
        original = (session.updated_at, session.expires_at, session.last_active_at)

    jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (crash_workers.refresher, (str(path), session.id, index)) for index in range(REFRESHERS)
    ]
    jobs.append((crash_workers.revoker, (str(path), session.id, user.id, how, REVOKED_AT)))
    # The revoker's Event and the count of successes.
    reports = released.run(jobs, ("event", 0), ("value", 0))

    ((_, _, revoke_returned, count),) = [r for r in reports if r[0] == "revoker"]
    logs = {report[1]: report[2] for report in reports if report[0] == "refresher"}
    calls = [call for log in logs.values() for call in log]
    succeeded = [call for call in calls if call[4] is not None]
    # The revocation really raced refreshes that were succeeding.
    assert len(succeeded) >= 150
    assert any(seen for _, seen, *_ in calls)
    if how == "revoke_all_for_user":
        assert count == 1
    for call, seen, started, _, written, revoked_at in calls:
        if started > revoke_returned:
            # Began after the revocation returned (committed): must refuse.
            assert written is None, f"refresh {call} succeeded after the revoke returned"
        if seen:
            assert written is None, f"refresh {call} succeeded after the revoke was seen"
        if written is not None:
            # Succeeded, so it committed before the revocation did: it began before
            # the revoke returned, and what it returned was not revoked.
            assert started < revoke_returned
            assert revoked_at is None
    with lite.open(path) as store:
        final = store.sessions.get_any(session.id)
        assert final is not None
        # A refresh never touches revoked_at, and a revocation is never undone.
        assert final.revoked_at == REVOKED_AT
        assert final.status == "revoked"
        assert store.sessions.get(token_hash="raced", now=datetime.now(UTC)) is None
        # The row holds exactly what the last refresh to commit wrote: the last
        # success of one of the processes (or nothing was refreshed at all).
        last_successes = {
            [call for call in log if call[4] is not None][-1][4]
            for log in logs.values()
            if any(call[4] is not None for call in log)
        }
        assert (final.updated_at, final.expires_at, final.last_active_at) in (
            last_successes | {original}
        )
        # And after the race, no refresh gets through either.
        later = datetime.now(UTC)
        assert (
            store.sessions.refresh(session.id, updated_at=later, expires_at=later + timedelta(1))
            is None
        )
        store.sessions.revoke(session.id, revoked_at=later)
        again = store.sessions.get_any(session.id)
        assert again is not None
        assert again.revoked_at == REVOKED_AT


def test_pops_racing_new_state_keys(released: ReleasedPool, tmp_path: Path) -> None:
    path = tmp_path / "s"
    lite.open(path).close()

    jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (crash_workers.state_popper, (str(path), index)) for index in range(POPPERS)
    ]
    jobs.append((crash_workers.state_setter, (str(path), STATE_KEYS)))
    reports = released.run(jobs, ("event", 1))  # the setter's Event: done

    ((_, set_log),) = [report for report in reports if report[0] == "setter"]
    popped = [item for report in reports if report[0] == "popper" for item in report[2]]
    set_at = {state_key(index): (state_value(index), ttl, at) for index, ttl, at in set_log}
    assert len(set_at) == STATE_KEYS

    # Every value popped at most once, and only values that were set under that key.
    keys_popped = Counter(key for key, _, _ in popped)
    assert [key for key, times in keys_popped.items() if times > 1] == []
    for key, value, started in popped:
        expected, ttl, set_returned = set_at[key]
        assert value == expected
        if ttl < LONG_TTL:
            # A pop that began after the TTL ran out (counted from when set
            # returned, after diskcache stamped the expiry) finds nothing.
            assert started < set_returned + ttl, key
    # None lost: every long-lived key was popped by someone.
    with lite.open(path) as store:
        remaining = store.secondary.keys(STATE_PREFIX)
    assert remaining == []
    long_lived = {key for key, (_, ttl, _) in set_at.items() if ttl == LONG_TTL}
    assert long_lived - keys_popped.keys() == set()
    # The pops really raced the setter: some came before it was done.
    assert min(started for _, _, started in popped) < max(at for _, _, at in set_log)
