"""The timed operations, prepared identically for every backend.

Each batch gets the same arguments on every backend, drawn from a random
sequence seeded by the operation name and the batch number. Writes use
fresh names per batch (new emails, identities, token hashes, keys).
``pop`` needs a key that exists: its keys are stored with ``set`` while the
batch is prepared, outside the timed region, so the ``pop`` time is the pop
alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bench.backends import Backend
from bench.timing import Call
from bench.workload import (
    PROVIDER,
    SECONDARY_VALUE,
    TTL_SECONDS,
    USER_AGENT,
    Population,
    Workload,
    email,
    identity_for,
    provider_user_id,
    secondary_key,
    token_hash,
    user_create,
)

__all__ = ["OPERATIONS", "Operation"]

Prepare = Callable[[Backend, Population, Workload, int, int], list[Call]]


@dataclass(frozen=True)
class Operation:
    """One timed operation: its group, default batch size, and how to prepare a batch.

    ``prepare(backend, population, workload, count, batch)`` returns ``count``
    calls; ``batch`` numbers the batch (0 is the warm-up) and seeds its choices.
    """

    name: str
    group: str
    iterations: int
    prepare: Prepare


def _rng(name: str, batch: int) -> random.Random:
    return random.Random(f"{name}:{batch}")


def _find_user_by_email(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    rng = _rng("find_user_by_email", batch)
    find = b.accounts.find_user_by_email
    return [partial(find, email(rng.randrange(w.size.users))) for _ in range(n)]


def _find_social_account(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    rng = _rng("find_social_account", batch)
    find = b.accounts.find_social_account
    return [
        partial(
            find,
            provider=PROVIDER,
            provider_user_id=provider_user_id(rng.randrange(w.size.users)),
            is_login_method=True,
        )
        for _ in range(n)
    ]


def _create_user_with_identity(
    b: Backend, p: Population, w: Workload, n: int, batch: int
) -> list[Call]:
    create = b.accounts.create_user_with_identity
    return [
        partial(
            create,
            user=user_create(f"new{batch}-{i}@example.com"),
            identity=identity_for(f"new-{batch}-{i}"),
        )
        for i in range(n)
    ]


def _session_create(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    rng = _rng("session_create", batch)
    create = b.sessions.create
    return [
        partial(
            create,
            token_hash=token_hash(f"new-session:{batch}:{i}"),
            user_id=p.user_ids[rng.randrange(len(p.user_ids))],
            created_at=w.now,
            updated_at=w.now,
            expires_at=w.expires,
            client_id="web",
            user_agent=USER_AGENT,
            ip="127.0.0.1",
            last_active_at=w.now,
        )
        for i in range(n)
    ]


def _session_get(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    rng = _rng("session_get", batch)
    get, tokens = b.sessions.get, p.session_tokens
    return [
        partial(get, token_hash=tokens[rng.randrange(len(tokens))], now=w.now) for _ in range(n)
    ]


def _session_refresh(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    rng = _rng("session_refresh", batch)
    refresh, ids = b.sessions.refresh, p.session_ids
    return [
        partial(
            refresh,
            ids[rng.randrange(len(ids))],
            updated_at=w.now,
            expires_at=w.expires,
            last_active_at=w.now,
        )
        for _ in range(n)
    ]


def _session_list(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    page = partial(b.sessions.list_for_user, p.heavy_user, now=w.now, limit=20)
    return [page] * n


def _secondary_set(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    store = b.secondary.set
    return [
        partial(store, f"oauth:set:{batch}:{i}", SECONDARY_VALUE, TTL_SECONDS) for i in range(n)
    ]


def _secondary_get(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    rng = _rng("secondary_get", batch)
    get = b.secondary.get
    return [partial(get, secondary_key(rng.randrange(w.size.secondary_keys))) for _ in range(n)]


def _secondary_pop(b: Backend, p: Population, w: Workload, n: int, batch: int) -> list[Call]:
    keys = [f"oauth:pop:{batch}:{i}" for i in range(n)]
    for key in keys:  # untimed: each timed pop takes a key that exists
        b.secondary.set(key, SECONDARY_VALUE, TTL_SECONDS)
    return [partial(b.secondary.pop, key) for key in keys]


#: The timed operations, in report order.
OPERATIONS: tuple[Operation, ...] = (
    Operation("find_user_by_email", "accounts", 1000, _find_user_by_email),
    Operation("find_social_account", "accounts", 1000, _find_social_account),
    Operation("create_user_with_identity", "accounts", 300, _create_user_with_identity),
    Operation("session create", "sessions", 500, _session_create),
    Operation("session get", "sessions", 1000, _session_get),
    Operation("session refresh", "sessions", 500, _session_refresh),
    Operation("session list_for_user (20)", "sessions", 300, _session_list),
    Operation("secondary set", "secondary", 1000, _secondary_set),
    Operation("secondary get", "secondary", 1000, _secondary_get),
    Operation("secondary pop", "secondary", 1000, _secondary_pop),
)
