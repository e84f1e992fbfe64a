"""Concurrent writers, in threads and in real processes: the database arbitrates."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite
from tests import race_workers
from tests.factories import connect, signup
from tests.processes import environment_of_a_test

pytestmark = pytest.mark.all_backends

PROCESSES = 4


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except CrossAuthException as error:
            results[index] = error.error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class Processes:
    """``PROCESSES`` spawned processes, started once for the module, that run the races.

    Each race hands every process one job, which opens its own store (its own
    connection) and waits for the others; spawning anew for every race costs
    an interpreter and an import of cross-auth-lite per process, each time.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._manager = context.Manager()
        with environment_of_a_test():  # spawned once for the module, not inside a test
            self._pool = context.Pool(PROCESSES)

    def run(self, target: Callable[..., None], argument_sets: list[tuple[Any, ...]]) -> list[Any]:
        """Run ``target(*args, (ready, go), results)`` for each ``args``, each in its own process.

        At most ``PROCESSES`` jobs: a process waiting for the others takes no
        second job, so each job has a process of its own.
        """
        assert len(argument_sets) <= PROCESSES
        ready, go = self._manager.Queue(), self._manager.Event()
        results = self._manager.Queue()
        jobs = [
            self._pool.apply_async(target, (*args, (ready, go), results)) for args in argument_sets
        ]
        for _ in jobs:  # a real barrier: every store is open before anyone starts
            ready.get(timeout=60)
        go.set()
        collected = [results.get(timeout=60) for _ in jobs]
        for job in jobs:
            job.get(timeout=60)  # ended without raising
        return collected

    def close(self) -> None:
        """Stop the processes."""
        self._pool.terminate()
        self._pool.join()
        self._manager.shutdown()


@pytest.fixture(scope="module")
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.close()


@pytest.mark.parametrize("shared", [False, True])
def test_thread_signups_of_one_identity(
    tmp_path: Path, make_database_url: Callable[[], str | None], shared: bool
) -> None:
    with lite.open(
        tmp_path / "s", shared_connections=shared, database_url=make_database_url()
    ) as store:
        results = _in_threads(
            8, lambda i: signup(store.accounts, f"u{i}@example.com", "race") and "won"
        )

        assert Counter(results) == {"won": 1, "account_already_linked": 7}
        users = store.database.execute_sql("SELECT COUNT(*) FROM users").fetchone()[0]
        assert users == 1  # the losers left no orphan user


@pytest.mark.parametrize("shared", [False, True])
def test_process_signups_of_one_identity(
    processes: Processes, tmp_path: Path, make_database_url: Callable[[], str | None], shared: bool
) -> None:
    path, url = tmp_path / "s", make_database_url()
    lite.open(path, shared_connections=shared, database_url=url).close()

    results = processes.run(
        race_workers.signup_same_identity,
        [((str(path), url), shared, i) for i in range(PROCESSES)],
    )

    assert Counter(results) == {"won": 1, "account_already_linked": PROCESSES - 1}
    with lite.open(path, shared_connections=shared, database_url=url) as store:
        rows = store.database.execute_sql(
            "SELECT COUNT(*) FROM users JOIN social_accounts ON social_accounts.user_id = users.id"
        ).fetchone()[0]
        assert rows == 1
        assert store.database.execute_sql("SELECT COUNT(*) FROM users").fetchone()[0] == 1


def test_thread_attachments_to_different_users(shared_store: lite.LiteStore) -> None:
    users = [
        shared_store.accounts.create_user(user_info={"email": f"u{i}@example.com"})
        for i in range(6)
    ]

    results = _in_threads(
        6, lambda i: connect(shared_store.accounts, users[i].id, "race").id and "won"
    )

    assert Counter(results) == {"won": 1, "account_already_linked": 5}
    owners = shared_store.database.execute_sql(
        "SELECT COUNT(*) FROM social_accounts WHERE is_login_method"
    ).fetchone()[0]
    assert owners == 1


def test_thread_retries_by_one_owner_converge(store: lite.LiteStore) -> None:
    user = store.accounts.create_user(user_info={"email": "ada@example.com"})

    ids = _in_threads(
        8, lambda i: connect(store.accounts, user.id, "race", access_token=f"t{i}").id
    )

    assert len(set(ids)) == 1
    assert len(store.accounts.list_social_accounts(user_id=user.id)) == 1


def test_process_promotions_leave_one_login_owner(
    processes: Processes, tmp_path: Path, make_database_url: Callable[[], str | None]
) -> None:
    path, url = tmp_path / "s", make_database_url()
    with lite.open(path, shared_connections=True, database_url=url) as store:
        ids = []
        for i in range(PROCESSES):
            user = store.accounts.create_user(user_info={"email": f"u{i}@example.com"})
            ids.append(connect(store.accounts, user.id, "race", is_login_method=False).id)

    results = processes.run(
        race_workers.promote, [((str(path), url), account_id) for account_id in ids]
    )

    assert Counter(results) == {"won": 1, "account_already_linked": PROCESSES - 1}
    with lite.open(path, shared_connections=True, database_url=url) as store:
        rows = store.database.execute_sql(
            "SELECT access_token, is_login_method FROM social_accounts ORDER BY id"
        ).fetchall()
        winners = [token for token, login in rows if login]
        assert len(winners) == 1
        # Losers kept their old credentials: the failed promotion rolled them back.
        assert sum(token == "access-1" for token, _ in rows) == PROCESSES - 1


@pytest.mark.parametrize("attempt", range(3))
def test_process_disconnects_keep_a_login_method(
    processes: Processes, tmp_path: Path, make_database_url: Callable[[], str | None], attempt: int
) -> None:
    location = (str(tmp_path / "s"), make_database_url())
    with race_workers.open_location(location) as store:
        user, first = signup(store.accounts, "ada@example.com", "gh-1")
        second = connect(store.accounts, user.id, "gh-2")

    results = processes.run(
        race_workers.disconnect, [(location, user.id, first.id), (location, user.id, second.id)]
    )

    assert Counter(results) == {"disconnected": 1, "last_login_method": 1}
    with race_workers.open_location(location) as store:
        assert len(store.accounts.list_social_accounts(user_id=user.id)) == 1


def test_thread_disconnects_keep_a_login_method(store: lite.LiteStore) -> None:
    for round_ in range(10):
        user, first = signup(store.accounts, f"u{round_}@example.com", f"a{round_}")
        second = connect(store.accounts, user.id, f"b{round_}")
        targets = [first.id, second.id]

        results = _in_threads(
            2,
            lambda i, user=user, targets=targets: store.accounts.disconnect_social_account(
                user_id=user.id, provider="github", social_account_id=targets[i]
            ),
        )

        assert sorted(results) == ["disconnected", "last_login_method"]


def test_process_pops_return_each_value_once(processes: Processes, tmp_path: Path) -> None:
    path = tmp_path / "s"
    keys = [f"code:{i}" for i in range(200)]
    with lite.open(path) as store:
        for key in keys:
            store.secondary.set(key, f"value-of-{key}", ttl=60)

    results = processes.run(race_workers.pop_keys, [(str(path), keys) for _ in range(PROCESSES)])

    popped = [value for values in results for value in values]
    assert sorted(popped) == sorted(f"value-of-{key}" for key in keys)
