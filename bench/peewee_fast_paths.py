"""The peewee fast paths against portable mode, per store operation.

``python -m bench.peewee_fast_paths [--scale 0.3] [--repeats 7]`` opens two
stores as users get them (``bench.backends.lite``), one on the fast paths
and one with ``$CROSS_AUTH_LITE_PORTABLE=1`` (peewee's public API only),
fills both alike (``bench.workload``) and times the accounts and sessions
operations of ``bench.operations`` on each: the median µs per call over the
repeats, and what the fast paths save.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.backends import Backend
from bench.backends.lite import open_backend
from bench.operations import OPERATIONS
from bench.timing import Measurement, Plan, run_calls, time_calls
from bench.workload import Population, PopulationSize, Workload, populate
from cross_auth_lite.adapters.portable import PORTABLE_ENV

__all__ = ["main", "measure"]

MODES = ("fast", "portable")


def _open(directory: Path, mode: str) -> Backend:
    saved = os.environ.pop(PORTABLE_ENV, None)
    if mode == "portable":
        os.environ[PORTABLE_ENV] = "1"
    try:
        return open_backend(directory)  # the mode is fixed when the store opens
    finally:
        os.environ.pop(PORTABLE_ENV, None)
        if saved is not None:
            os.environ[PORTABLE_ENV] = saved


def measure(root: Path, plan: Plan, size: PopulationSize) -> dict[str, dict[str, Measurement]]:
    """Median µs per call of each accounts and sessions operation, by operation and mode."""
    workload = Workload(size=size, now=datetime(2030, 1, 1, tzinfo=UTC))
    stores: dict[str, tuple[Backend, Population]] = {}
    for mode in MODES:
        backend = _open(root / mode, mode)
        stores[mode] = (backend, populate(backend, workload))
    results: dict[str, dict[str, Measurement]] = {}
    try:
        for operation in OPERATIONS:
            if operation.group == "secondary":
                continue
            count = plan.iterations(operation.iterations)
            by_mode = results[operation.name] = {mode: Measurement() for mode in MODES}
            for mode, (backend, population) in stores.items():
                warmup = plan.warmup(operation.iterations)
                run_calls(operation.prepare(backend, population, workload, warmup, 0))
                by_mode[mode].iterations = count
            # Alternate the modes batch by batch: a noisy neighbour slows both.
            for batch in range(1, plan.repeats + 1):
                for mode, (backend, population) in stores.items():
                    calls = operation.prepare(backend, population, workload, count, batch)
                    by_mode[mode].samples.append(time_calls(calls))
    finally:
        for backend, _ in stores.values():
            backend.close()
    return results


def main(argv: list[str] | None = None) -> int:
    """Print the table: operation, fast µs, portable µs, the fast paths' saving."""
    parser = argparse.ArgumentParser(prog="python -m bench.peewee_fast_paths")
    parser.add_argument("--scale", type=float, default=0.3, help="batch size factor")
    parser.add_argument("--repeats", type=int, default=7, help="timed batches per operation")
    parser.add_argument("--users", type=int, default=1000, help="users in each store")
    args = parser.parse_args(argv)
    plan = Plan(repeats=args.repeats, scale=args.scale)
    with tempfile.TemporaryDirectory(prefix="peewee-fast-paths-") as root:
        results = measure(Path(root), plan, PopulationSize(users=args.users))
    print(f"{'operation':<30} {'fast µs':>9} {'portable µs':>12} {'saved':>7}")
    for name, by_mode in results.items():
        fast, portable = by_mode["fast"].median, by_mode["portable"].median
        print(f"{name:<30} {fast:>9.1f} {portable:>12.1f} {1 - fast / portable:>7.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
