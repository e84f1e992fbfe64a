"""Work run in separate processes by the crash-safety and process-race tests.

Importable, so ``multiprocessing``'s ``spawn`` start method can find it. The
crash worker (``churn``) never returns: the test kills it with SIGKILL.
"""

from __future__ import annotations

import random
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cross_auth_lite as lite
from tests.factories import identity

# Crash safety ------------------------------------------------------------------

#: Users signed up on their own have this email; their identity is ``crash-<tag>``.
CRASH_EMAIL = "crash-{tag}@example.com"
#: Users signed up together with a session in one application transaction.
TX_EMAIL = "tx-{tag}@example.com"
CACHE_PREFIX = "state:"
_VALUE_SIZES = (0, 40, 4_000, 200_000)


def cache_value(key: str, size: int) -> str:
    """The value ``churn`` stores under ``key``: checkable for torn writes."""
    return f"value-of:{key}:" + "x" * size


def is_cache_value(key: str, value: str) -> bool:
    """Whether ``value`` is exactly something ``churn`` wrote under ``key``."""
    head = f"value-of:{key}:"
    return (
        value.startswith(head)
        and len(value) - len(head) in _VALUE_SIZES
        and (value[len(head) :] == "x" * (len(value) - len(head)))
    )


def _signup(store: lite.LiteStore, email: str, provider_user_id: str) -> Any:
    user, _ = store.accounts.create_user_with_identity(
        user={
            "user_info": {"email": email},
            "email": email,
            "email_verified": True,
            "extra_fields": None,
        },
        identity=lambda new: identity(new.id, provider_user_id),  # type: ignore[arg-type,return-value]
    )
    return user


def churn(path: str, seed: int, tag: str, go: Any, ready: Any, error_file: str) -> None:
    """Mixed writes on the store at ``path`` until killed.

    Signs users up (alone, or with a session in one application
    transaction), creates, refreshes and revokes sessions, sets and pops
    cache entries (some large, some short-lived). Sets ``ready`` once the
    store is open; an unexpected exception goes to ``error_file``.
    """
    go.wait(timeout=60)
    try:
        _churn(path, seed, tag, ready)
    except BaseException:
        Path(error_file).write_text(traceback.format_exc())
        raise


def _churn(path: str, seed: int, tag: str, ready: Any) -> None:
    rng = random.Random(seed)
    store = lite.open(Path(path))
    db = store.database
    users = [row[0] for row in db.execute_sql("SELECT id FROM users ORDER BY id DESC LIMIT 50")]
    sessions = [
        row[0] for row in db.execute_sql("SELECT id FROM sessions ORDER BY id DESC LIMIT 50")
    ]
    keys: list[str] = store.secondary.keys(CACHE_PREFIX)[-50:]
    operations = ["signup", "signup_tx", "session", "refresh", "revoke", "set", "pop"]
    weights = [3, 2, 3, 3, 1, 4, 3]
    ready.set()
    n = 0
    while True:
        n += 1
        label = f"{tag}-{n}"
        now = datetime.now(UTC)
        operation = rng.choices(operations, weights)[0]
        if operation == "signup" or (not users and operation in ("session", "signup_tx")):
            users.append(_signup(store, CRASH_EMAIL.format(tag=label), f"crash-{label}").id)
        elif operation == "signup_tx":
            with db.atomic():
                user = _signup(store, TX_EMAIL.format(tag=label), f"tx-{label}")
                store.sessions.create(
                    token_hash=f"tx-{label}",
                    user_id=user.id,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(hours=1),
                )
            users.append(user.id)
        elif operation == "session":
            record = store.sessions.create(
                token_hash=f"tok-{label}",
                user_id=rng.choice(users),
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(hours=1),
                user_agent="churn/" + "u" * rng.choice((0, 2_000)),
            )
            sessions.append(record.id)
        elif operation == "refresh" and sessions:
            store.sessions.refresh(
                rng.choice(sessions),
                updated_at=now,
                expires_at=now + timedelta(hours=2),
                last_active_at=now,
            )
        elif operation == "revoke" and sessions:
            store.sessions.revoke(rng.choice(sessions), revoked_at=now)
        elif operation == "set":
            key = f"{CACHE_PREFIX}{label}"
            ttl = rng.choice((None, 60, 60, 0.001))
            store.secondary.set(key, cache_value(key, rng.choice(_VALUE_SIZES)), ttl=ttl)
            keys.append(key)
        elif operation == "pop" and keys:
            key = keys.pop(rng.randrange(len(keys)))
            value = store.secondary.pop(key)
            if value is not None and not is_cache_value(key, value):
                raise AssertionError(f"popped a torn value for {key!r}: {value[:80]!r}")
        del users[:-50], sessions[:-50], keys[:-50]


# Process races -----------------------------------------------------------------


def _wait(start: Any) -> None:
    """Report this process ready (store open), then wait for the common start."""
    ready, go = start
    ready.release()
    go.wait(timeout=30)


def _marker(index: int, call: int) -> datetime:
    """A ``last_active_at`` naming the refresh that wrote it: process ``index``, call ``call``."""
    return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=index, microseconds=call)


def refresher(
    path: str, session_id: int, index: int, start: Any, revoked: Any, successes: Any, results: Any
) -> None:
    """Refresh one session in a loop until the revocation is seen to stick.

    Reports one tuple per call: (call, revoke_seen_before_call, started,
    returned, written, revoked_at), ``written`` being the refreshed
    (updated_at, expires_at, last_active_at), or None when refresh refused.
    ``started``/``returned`` are ``time.monotonic()``, shared by processes.
    """
    log: list[tuple[Any, ...]] = []
    try:
        with lite.open(Path(path)) as store:
            _wait(start)
            deadline = time.monotonic() + 20
            failures_after_revoke = 0
            call = 0
            while failures_after_revoke < 30 and time.monotonic() < deadline:
                call += 1
                seen = revoked.is_set()
                now = datetime.now(UTC)
                started = time.monotonic()
                record = store.sessions.refresh(
                    session_id,
                    updated_at=now,
                    expires_at=now + timedelta(hours=1),
                    last_active_at=_marker(index, call),
                )
                returned = time.monotonic()
                if record is None:
                    failures_after_revoke += seen
                    log.append((call, seen, started, returned, None, None))
                    continue
                with successes.get_lock():
                    successes.value += 1
                written = (record.updated_at, record.expires_at, record.last_active_at)
                log.append((call, seen, started, returned, written, record.revoked_at))
    except Exception as error:  # reported, so the test shows it instead of timing out
        results.put(("error", f"refresher {index}: {type(error).__name__}: {error}"))
    else:
        results.put(("refresher", index, log))


def revoker(
    path: str,
    session_id: int,
    user_id: int,
    how: str,
    revoked_at: datetime,
    start: Any,
    revoked: Any,
    successes: Any,
    results: Any,
) -> None:
    """Once 150 refreshes succeeded, revoke the session (``revoke`` or ``revoke_all_for_user``).

    Sets ``revoked`` after the call returned; reports when it started and returned.
    """
    try:
        with lite.open(Path(path)) as store:
            _wait(start)
            deadline = time.monotonic() + 10
            while successes.value < 150 and time.monotonic() < deadline:
                time.sleep(0.001)
            started = time.monotonic()
            if how == "revoke":
                store.sessions.revoke(session_id, revoked_at=revoked_at)
                count = None
            else:
                count = store.sessions.revoke_all_for_user(user_id, revoked_at=revoked_at)
            returned = time.monotonic()
            revoked.set()
    except Exception as error:
        revoked.set()
        results.put(("error", f"revoker: {type(error).__name__}: {error}"))
    else:
        results.put(("revoker", started, returned, count))


#: OAuth-state keys of the pop race, and how the setter writes them.
STATE_PREFIX = "oauth-state:"
#: Every tenth key lives 0.2 ms (most expire unpopped), every tenth-plus-five 30 ms.
SHORT_TTLS = (0.0002, 0.03)
LONG_TTL = 60.0


def state_key(index: int) -> str:
    return f"{STATE_PREFIX}{index:06d}"


def state_value(index: int) -> str:
    return f"verifier-{index}-{'v' * (index % 7)}"


def state_setter(path: str, count: int, start: Any, done: Any, results: Any) -> None:
    """Set ``count`` new state keys, every fifth with a very short TTL (``SHORT_TTLS``).

    Reports (index, ttl, set_returned) per key, ``set_returned`` being ``time.time()``.
    """
    log: list[tuple[int, float, float]] = []
    try:
        with lite.open(Path(path)) as store:
            _wait(start)
            for index in range(count):
                ttl = SHORT_TTLS[index % 10 // 5] if index % 5 == 0 else LONG_TTL
                store.secondary.set(state_key(index), state_value(index), ttl=ttl)
                log.append((index, ttl, time.time()))
                if index % 50 == 0:
                    time.sleep(0.002)  # let the poppers catch up now and then
    except Exception as error:
        results.put(("error", f"setter: {type(error).__name__}: {error}"))
    else:
        results.put(("setter", log))
    finally:
        done.set()


def state_popper(path: str, index: int, start: Any, done: Any, results: Any) -> None:
    """Pop every live state key, in turn, until the setter is done and none are left.

    Odd-numbered poppers walk the keys backwards, so that they collide with
    the others from both ends. Reports (key, value, pop_started) per value got,
    ``pop_started`` being ``time.time()``.
    """
    got: list[tuple[str, str, float]] = []
    try:
        with lite.open(Path(path)) as store:
            _wait(start)
            while True:
                finished = done.is_set()
                keys = store.secondary.keys(STATE_PREFIX)
                if index % 2:
                    keys.reverse()
                for key in keys:
                    started = time.time()
                    value = store.secondary.pop(key)
                    if value is not None:
                        got.append((key, value, started))
                if finished and not keys:
                    break
    except Exception as error:
        results.put(("error", f"popper {index}: {type(error).__name__}: {error}"))
    else:
        results.put(("popper", index, got))
