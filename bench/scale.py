"""The scale run: lite's lookups at 1k, 100k and 1M users, and deep session paging.

Users and their identities are bulk-loaded with ``executemany`` of plain
INSERTs into lite's own tables, one transaction per step (the store grows
1k -> 100k -> 1M in place), then read back through the lite API with the
same timing as the comparison. One user then gets many sessions (10k by
default), paged to the end with ``list_for_user(limit=50)``; the first,
middle and last pages are timed alone, and the whole walk once per repeat.
Keyset cursors should keep every page at the same cost.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import cross_auth_lite as lite
from bench.backends.raw_sqlite import connect
from bench.timing import Call, Measurement, Plan, run_calls, time_calls
from bench.workload import PROVIDER, USER_AGENT, email, provider_user_id, token_hash
from cross_auth_lite.admin import DATABASE_FILENAME

__all__ = ["DEFAULT_SIZES", "QUICK_SIZES", "ScaleResult", "run_scale"]

DEFAULT_SIZES = (1_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
LOOKUPS = ("find_user_by_email", "find_social_account", "find_user_by_id")
PAGE_LIMIT = 50

INSERT_USER = (
    "INSERT INTO users (id, email, email_verified, hashed_password) VALUES (?, ?, 1, NULL)"
)
INSERT_ACCOUNT = (
    "INSERT INTO social_accounts (provider, provider_user_id, provider_email, "
    "provider_email_verified, is_login_method, access_token, refresh_token, "
    "access_token_expires_at, refresh_token_expires_at, scope, user_id) "
    "VALUES (?, ?, NULL, NULL, 1, ?, NULL, NULL, NULL, 'read:user', ?)"
)
INSERT_SESSION = (
    "INSERT INTO sessions (token_hash, created_at, updated_at, expires_at, last_active_at, "
    "client_id, client_name, user_agent, ip, user_id) VALUES (?, ?, ?, ?, ?, 'web', NULL, ?, "
    "'127.0.0.1', ?)"
)


@dataclass
class ScaleResult:
    """Lookup times per user count, and page times for one user's many sessions."""

    lookups: dict[int, dict[str, Measurement]] = field(default_factory=dict)
    load_seconds: dict[int, float] = field(default_factory=dict)
    database_bytes: dict[int, int] = field(default_factory=dict)
    sessions: int = 0
    pages: int = 0
    page_times: dict[str, Measurement] = field(default_factory=dict)
    seconds: float = 0.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_users(connection: Any, start: int, stop: int) -> None:
    connection.execute("BEGIN")
    connection.executemany(INSERT_USER, ((i + 1, email(i)) for i in range(start, stop)))
    connection.executemany(
        INSERT_ACCOUNT,
        ((PROVIDER, provider_user_id(i), f"gho_{i:036d}", i + 1) for i in range(start, stop)),
    )
    connection.execute("COMMIT")


def _database_bytes(connection: Any) -> int:
    """The database's size in pages (the WAL may hold pages the file does not yet have)."""
    (pages,) = connection.execute("PRAGMA page_count").fetchone()
    (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    return int(pages * page_size)


def _lookup_calls(store: lite.LiteStore, name: str, users: int, n: int, batch: int) -> list[Call]:
    rng = random.Random(f"scale:{name}:{users}:{batch}")
    accounts = store.accounts
    picks = [rng.randrange(users) for _ in range(n)]
    if name == "find_user_by_email":
        return [partial(accounts.find_user_by_email, email(i)) for i in picks]
    if name == "find_user_by_id":
        return [partial(accounts.find_user_by_id, i + 1) for i in picks]
    return [
        partial(
            accounts.find_social_account,
            provider=PROVIDER,
            provider_user_id=provider_user_id(i),
            is_login_method=True,
        )
        for i in picks
    ]


def _time(make: Any, plan: Plan, base: int) -> Measurement:
    """Warm up, then ``plan.repeats`` batches of ``make(count, batch)`` calls."""
    count = plan.iterations(base)
    run_calls(make(plan.warmup(base), 0))
    result = Measurement(iterations=count)
    for repeat in range(plan.repeats):
        result.samples.append(time_calls(make(count, repeat + 1)))
    return result


def _load_sessions(
    store: lite.LiteStore, connection: Any, owner: int, count: int, now: datetime
) -> None:
    fields = store.models.Session._meta.fields
    stamp = fields["updated_at"].db_value  # lite's own timestamp text
    expires = stamp(now + timedelta(days=30))

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(count):
            at = stamp(now - timedelta(milliseconds=i))
            yield (token_hash(f"scale-session:{i}"), at, at, expires, at, USER_AGENT, owner)

    connection.execute("BEGIN")
    connection.executemany(INSERT_SESSION, rows())
    connection.execute("COMMIT")


def _walk(store: lite.LiteStore, owner: int, now: datetime) -> tuple[list[str | None], int]:
    """Page through every session of ``owner``; return each page's cursor and the row count."""
    cursors: list[str | None] = [None]
    seen = 0
    while True:
        page = store.sessions.list_for_user(owner, now=now, limit=PAGE_LIMIT, cursor=cursors[-1])
        seen += len(page.records)
        if page.next_cursor is None:
            return cursors, seen
        cursors.append(page.next_cursor)


def run_scale(
    directory: Path, sizes: tuple[int, ...], session_count: int, plan: Plan, now: datetime
) -> ScaleResult:
    """Grow a lite store through ``sizes`` users, timing lookups at each, then page sessions."""
    started = time.perf_counter()
    result = ScaleResult(sessions=session_count)
    with lite.open(directory) as store:
        connection = connect(directory / DATABASE_FILENAME)
        try:
            loaded = 0
            for size in sizes:
                _log(f"scale: loading {size:,} users ...")
                load_start = time.perf_counter()
                _load_users(connection, loaded, size)
                result.load_seconds[size] = time.perf_counter() - load_start
                result.database_bytes[size] = _database_bytes(connection)
                loaded = size
                result.lookups[size] = {
                    name: _time(partial(_lookup_calls, store, name, size), plan, 1000)
                    for name in LOOKUPS
                }
                summary = ", ".join(f"{k} {m.median:.1f}" for k, m in result.lookups[size].items())
                _log(f"  {size:,} users: {summary} µs/op")
            _log(f"scale: one user with {session_count:,} sessions ...")
            _load_sessions(store, connection, 1, session_count, now)
        finally:
            connection.close()
        cursors, seen = _walk(store, 1, now)
        if seen != session_count:
            raise RuntimeError(f"paging saw {seen} sessions, expected {session_count}")
        result.pages = len(cursors)
        chosen = {"first": cursors[0], "middle": cursors[len(cursors) // 2], "last": cursors[-1]}
        for label, cursor in chosen.items():
            page = partial(
                store.sessions.list_for_user, 1, now=now, limit=PAGE_LIMIT, cursor=cursor
            )
            result.page_times[label] = _time(lambda n, _batch, page=page: [page] * n, plan, 200)
        walk = partial(_walk, store, 1, now)
        whole = Measurement(iterations=len(cursors))
        for _ in range(max(3, plan.repeats // 2)):
            start = time.perf_counter_ns()
            walk()
            whole.samples.append((time.perf_counter_ns() - start) / len(cursors) / 1000.0)
        result.page_times["whole walk (per page)"] = whole
        summary = ", ".join(f"{k} {m.median:.1f}" for k, m in result.page_times.items())
        _log(f"  {result.pages} pages: {summary} µs/page")
    result.seconds = time.perf_counter() - started
    return result
