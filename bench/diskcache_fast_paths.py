"""Each diskcache fast path against its portable equivalent.

Run ``python -m bench.diskcache_fast_paths``.

A store is opened twice, on the fast paths and with ``$CROSS_AUTH_LITE_PORTABLE``
set (diskcache's public API only); the secondary operations of
``bench.operations`` (plus ``delete``) run on each, timed by ``bench.timing``.
"A fresh store's first set" opens a cache on a copy of the template's file
(``cache/template_copy.py``: a cloned ``Cache`` or ``diskcache.Cache()``) and sets one key.
Medians of several batches, in µs per call.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench.backends import Backend
from bench.backends.lite import open_backend
from bench.operations import OPERATIONS
from bench.timing import Call, Measurement, Plan, run_calls, time_calls
from bench.workload import (
    SECONDARY_VALUE,
    TTL_SECONDS,
    Population,
    PopulationSize,
    Workload,
    secondary_key,
)
from cross_auth_lite.adapters.portable import PORTABLE_ENV
from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.cache.template_copy import copied_cache_storage
from cross_auth_lite.store.template import store_template

MODES = ("fast", "portable")
Prepare = Callable[[Backend, Workload, int, int], list[Call]]


@contextmanager
def mode(name: str) -> Iterator[None]:
    """Open stores in ``name`` mode meanwhile."""
    before = os.environ.pop(PORTABLE_ENV, None)
    if name == "portable":
        os.environ[PORTABLE_ENV] = "1"
    try:
        yield
    finally:
        os.environ.pop(PORTABLE_ENV, None)
        if before is not None:
            os.environ[PORTABLE_ENV] = before


def _operation(name: str) -> Prepare:
    prepare = {op.name: op.prepare for op in OPERATIONS}[name]
    nobody = Population([], [], [])
    return lambda b, w, n, batch: prepare(b, nobody, w, n, batch)


def _delete(b: Backend, w: Workload, n: int, batch: int) -> list[Call]:
    keys = [f"oauth:delete:{batch}:{i}" for i in range(n)]
    for key in keys:  # untimed: each timed delete removes a key that exists
        b.secondary.set(key, SECONDARY_VALUE, TTL_SECONDS)
    return [partial(b.secondary.delete, key) for key in keys]


def _fresh_first_set(root: Path) -> Prepare:
    template = store_template(shared_connections=False)
    assert template is not None, "no store template in this process"
    opened: list[DiskCacheStorage] = []

    def prepare(b: Backend, w: Workload, n: int, batch: int) -> list[Call]:
        for storage in opened:
            storage.close()
        opened.clear()
        directories = []
        for _ in range(n):
            directory = Path(tempfile.mkdtemp(dir=root)) / "cache"
            directory.mkdir(mode=0o700)
            (directory / "cache.db").write_bytes(template.cache)
            directories.append(directory)

        def one(directory: Path) -> None:
            storage = copied_cache_storage(
                directory, template.cache_prototype, default_ttl=None, busy_timeout=5.0
            )
            storage.set("oauth:state:first", SECONDARY_VALUE, TTL_SECONDS)
            opened.append(storage)

        return [partial(one, directory) for directory in directories]

    return prepare


def measure(
    prepare: Prepare, backend: Backend, workload: Workload, plan: Plan, base: int
) -> float:
    """Median µs per call of ``prepare``'s calls over ``plan.repeats`` batches."""
    run_calls(prepare(backend, workload, plan.warmup(base), 0))
    result = Measurement(iterations=plan.iterations(base))
    for batch in range(1, plan.repeats + 1):
        result.samples.append(time_calls(prepare(backend, workload, result.iterations, batch)))
    return result.median


def main(argv: list[str] | None = None) -> None:
    """Print, per operation, the fast and portable medians in µs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    plan = Plan(repeats=args.repeats, scale=args.scale)
    workload = Workload(size=PopulationSize(), now=datetime.now(UTC))
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-diskcache-") as scratch:
        for name in MODES:
            with mode(name):
                backend = open_backend(Path(scratch) / name)
                try:
                    for index in range(workload.size.secondary_keys):
                        backend.secondary.set(secondary_key(index), SECONDARY_VALUE, TTL_SECONDS)
                    operations: list[tuple[str, Prepare, int]] = [
                        ("secondary.set", _operation("secondary set"), 1000),
                        ("secondary.get", _operation("secondary get"), 1000),
                        ("secondary.pop", _operation("secondary pop"), 1000),
                        ("secondary.delete", _delete, 1000),
                        ("fresh store: open + first set", _fresh_first_set(Path(scratch)), 50),
                    ]
                    for label, prepare, base in operations:
                        rows.setdefault(label, {})[name] = measure(
                            prepare, backend, workload, plan, base
                        )
                finally:
                    backend.close()
    print(f"{'operation':32} {'fast µs':>9} {'portable µs':>12} {'portable/fast':>14}")
    for label, figures in rows.items():
        fast, portable = figures["fast"], figures["portable"]
        print(f"{label:32} {fast:9.1f} {portable:12.1f} {portable / fast:13.2f}x")


if __name__ == "__main__":
    main()
