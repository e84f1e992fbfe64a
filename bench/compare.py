"""The comparison run: open every backend, populate it identically, time each operation.

Backends are timed interleaved: for each operation, every backend warms
up, then each repeat runs one batch on every backend in turn (alternating
the order), so slow drift of the machine (frequency, noisy neighbours)
lands on all columns alike instead of on whichever ran last.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.backends import Backend
from bench.operations import OPERATIONS
from bench.redis_server import local_redis
from bench.timing import Measurement, Plan, run_calls, time_calls
from bench.workload import Population, Workload, populate, sanity_check

__all__ = ["BACKEND_ORDER", "Comparison", "open_backends", "run_comparison"]

#: Report column order.
BACKEND_ORDER = ("lite", "portable", "sqlmodel", "redis", "raw")


@dataclass
class Comparison:
    """Results of the comparison run."""

    labels: dict[str, str]
    results: dict[str, dict[str, Measurement]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def open_backends(directory: Path, comparison: Comparison) -> Iterator[list[Backend]]:
    """Open every backend that can run here; note why the others are skipped."""
    backends: list[Backend] = []
    with contextlib.ExitStack() as stack:
        from bench.backends import lite, raw_sqlite

        for key, opener in (
            ("lite", lite.open_backend),
            ("portable", lite.open_portable_backend),
            ("raw", raw_sqlite.open_backend),
        ):
            (directory / key).mkdir()
            backends.append(opener(directory / key))
            stack.callback(backends[-1].close)
        try:
            from bench.backends import sqlmodel_adapter
        except ImportError as error:
            comparison.skipped["sqlmodel"] = f"SQLModel not importable ({error})"
        else:
            (directory / "sqlmodel").mkdir()
            backends.append(sqlmodel_adapter.open_backend(directory / "sqlmodel"))
            stack.callback(backends[-1].close)
        server = stack.enter_context(local_redis())
        if server.url is None:
            comparison.skipped["redis"] = server.skipped or "unavailable"
        else:
            from bench.backends import redis_adapter

            backends.append(redis_adapter.open_backend(server.url))
            stack.callback(backends[-1].close)
            comparison.versions["redis-server"] = server.version or "?"
        backends.sort(key=lambda backend: BACKEND_ORDER.index(backend.key))
        yield backends


def _measure(
    backends: list[Backend],
    populations: dict[str, Population],
    workload: Workload,
    plan: Plan,
    comparison: Comparison,
) -> None:
    for operation in OPERATIONS:
        active = [backend for backend in backends if backend.has(operation.group)]
        count, warmup = plan.iterations(operation.iterations), plan.warmup(operation.iterations)
        results = {backend.key: Measurement(iterations=count) for backend in active}
        for backend in active:
            run_calls(operation.prepare(backend, populations[backend.key], workload, warmup, 0))
        for repeat in range(plan.repeats):
            for backend in active if repeat % 2 == 0 else active[::-1]:
                calls = operation.prepare(
                    backend, populations[backend.key], workload, count, repeat + 1
                )
                results[backend.key].samples.append(time_calls(calls))
        comparison.results[operation.name] = results
        comparison.groups[operation.name] = operation.group
        summary = ", ".join(f"{key} {m.median:.1f}" for key, m in results.items())
        _log(f"  {operation.name}: {summary} µs/op")


def run_comparison(directory: Path, workload: Workload, plan: Plan) -> Comparison:
    """Open, populate, check and time every backend under ``directory``."""
    started = time.perf_counter()
    comparison = Comparison(labels={})
    with open_backends(directory, comparison) as backends:
        comparison.labels = {backend.key: backend.label for backend in backends}
        populations = {}
        for backend in backends:
            _log(f"populating {backend.label} ...")
            populations[backend.key] = populate(backend, workload)
            sanity_check(backend, populations[backend.key], workload)
        _log("timing (µs per operation, median of batches):")
        _measure(backends, populations, workload, plan, comparison)
    comparison.seconds = time.perf_counter() - started
    return comparison
