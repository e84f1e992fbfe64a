"""Writers killed with SIGKILL at random moments leave a store that opens and is whole.

Two writer processes churn through signups, session writes and cache writes
on one store; both are killed at random moments, over and over. After every
round of kills the store must open again, pass SQLite's integrity checks,
and hold only complete operations: each user with the identity it was
signed up with, each transactional signup with its session, each cache
value exactly as written.

The schedule is random but seeded: a failure names the seed, and
``CROSS_AUTH_LITE_CRASH_SEED=<seed>`` replays the same kill delays and
operation mix (the exact kill points still depend on timing).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import re
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cross_auth_lite as lite
from tests import crash_workers
from tests.crash_workers import CACHE_PREFIX, is_cache_value

SEED = int(os.environ.get("CROSS_AUTH_LITE_CRASH_SEED", "20250611"))
WRITERS = 2
#: Rounds of killing, each killing every writer: a count, not a time budget, so a
#: busy machine makes the test slower, never weaker.
ROUNDS = 8
KILL_DELAY = (0.02, 0.3)

_SIGNUP = re.compile(r"(crash|tx)-(\d+-\d+-\d+)@example\.com")


@dataclass
class Writer:
    process: Any
    go: Any
    ready: Any
    error_file: Path

    def failure(self) -> str:
        if self.error_file.exists():
            return self.error_file.read_text()
        return f"exit code {self.process.exitcode}, no traceback recorded"


def _spawn(context: Any, path: Path, seed: int, tag: str) -> Writer:
    go, ready = context.Event(), context.Event()
    error_file = path.parent / f"writer-{tag}.err"
    process = context.Process(
        target=crash_workers.churn,
        args=(str(path), seed, tag, go, ready, str(error_file)),
        daemon=True,
    )
    process.start()
    return Writer(process, go, ready, error_file)


def _stop(writers: list[Writer]) -> None:
    for writer in writers:
        if writer.process.is_alive():
            writer.process.kill()
        writer.process.join(timeout=10)


def test_sigkilled_writers_leave_a_consistent_store(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    path = tmp_path / "store"
    lite.open(path).close()
    context = multiprocessing.get_context("spawn")
    replay = f"seed={SEED} (replay with CROSS_AUTH_LITE_CRASH_SEED={SEED})"

    def spawn_round(round_: int) -> list[Writer]:
        # Started a round early, so importing overlaps the previous round's work.
        return [
            _spawn(context, path, rng.randrange(2**32), f"{round_}-{i}") for i in range(WRITERS)
        ]

    pending = spawn_round(1)
    writers: list[Writer] = []
    try:
        for rounds in range(1, ROUNDS + 1):
            where = f"{replay}, round {rounds}"
            writers, pending = pending, spawn_round(rounds + 1) if rounds < ROUNDS else []
            for writer in writers:
                writer.go.set()
            for writer in writers:
                assert writer.ready.wait(timeout=60), f"{where}: writer never started"
            time.sleep(rng.uniform(*KILL_DELAY))
            for writer in rng.sample(writers, len(writers)):
                assert writer.process.is_alive(), f"{where}: writer died:\n{writer.failure()}"
                writer.process.kill()
                writer.process.join(timeout=10)
                assert writer.process.exitcode == -9, f"{where}: {writer.failure()}"
                time.sleep(rng.uniform(0, 0.05))
            _check_store(path, where)
    finally:
        _stop(writers + pending)

    with lite.open(path) as store:
        users = store.database.execute_sql("SELECT COUNT(*) FROM users").fetchone()[0]
        sessions = store.database.execute_sql("SELECT COUNT(*) FROM sessions").fetchone()[0]
    # The writers got real work done between kills, so the kills hit real work.
    assert users >= rounds, f"{replay}: {users} users"
    assert sessions >= rounds, f"{replay}: {sessions} sessions"


def _check_store(path: Path, where: str) -> None:
    with lite.open(path) as store:
        db = store.database
        assert db.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)], where
        assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == [], where
        _check_signups(store, where)
        _check_sessions(store, where)
        _check_cache(store, path, where)


def _check_signups(store: lite.LiteStore, where: str) -> None:
    identities: dict[int, list[tuple[str, str]]] = defaultdict(list)
    emails: dict[int, str] = {}
    for user_id, email, provider, provider_user_id in store.database.execute_sql(
        "SELECT users.id, users.email, social_accounts.provider, social_accounts.provider_user_id"
        " FROM users LEFT JOIN social_accounts ON social_accounts.user_id = users.id"
    ):
        emails[user_id] = email
        if provider is not None:
            identities[user_id].append((provider, provider_user_id))
    tx_sessions = {
        token: user_id
        for token, user_id in store.database.execute_sql(
            "SELECT token_hash, user_id FROM sessions WHERE token_hash LIKE 'tx-%'"
        )
    }
    tx_users = set()
    for user_id, email in emails.items():
        match = _SIGNUP.fullmatch(email or "")
        assert match, f"{where}: unexpected user {user_id} {email!r}"
        kind, tag = match.groups()
        expected = ("github", f"{kind}-{tag}")
        assert identities[user_id] == [expected], (
            f"{where}: user {user_id} ({email}) has identities {identities[user_id]}"
        )
        found = store.accounts.find_social_account(provider="github", provider_user_id=expected[1])
        assert found is not None, where
        assert found.user_id == user_id, where
        if kind == "tx":
            tx_users.add(user_id)
            # Signed up with a session in one application transaction: both or neither.
            assert tx_sessions.get(f"tx-{tag}") == user_id, f"{where}: {email} lost its session"
    assert set(tx_sessions.values()) <= tx_users, f"{where}: a tx session outlived its signup"


def _check_sessions(store: lite.LiteStore, where: str) -> None:
    # Reading every row through the model also parses every stored timestamp.
    for record in store.models.Session.select():
        assert record.status in ("active", "expired", "revoked"), where
        assert record.created_at <= record.updated_at <= record.expires_at, (
            f"{where}: session {record.id} has inconsistent timestamps"
        )
        again = store.sessions.get_any(record.id)
        assert again is not None, where
        assert again.token_hash == record.token_hash, where


def _check_cache(store: lite.LiteStore, path: Path, where: str) -> None:
    with contextlib.closing(sqlite3.connect(path / "cache" / "cache.db")) as cache_db:
        assert cache_db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], where
        rows = cache_db.execute(
            "SELECT key, value FROM Cache WHERE key LIKE ?", (f"{CACHE_PREFIX}%",)
        ).fetchall()
    for key, value in rows:  # expired rows included: none may be torn either
        assert isinstance(value, str), f"{where}: {key!r} holds {type(value).__name__}"
        assert is_cache_value(key, value), f"{where}: torn {key!r}"
    for key in store.secondary.keys(CACHE_PREFIX):
        value = store.secondary.get(key)
        assert value is None or is_cache_value(key, value), f"{where}: torn {key!r}"
    probe = f"probe:{where}"
    store.secondary.set(probe, "still answering", ttl=60)
    assert store.secondary.get(probe) == "still answering", where
    assert store.secondary.pop(probe) == "still answering", where
    assert store.secondary.get(probe) is None, where
