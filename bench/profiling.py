"""``--profile OP``: where cross-auth-lite spends its time in one operation.

Populates a lite store as the comparison does, then runs batches of the
operation under ``cProfile`` and prints the functions with the most own
time, and the cumulative time of cross-auth-lite's own functions.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path

from bench.backends import lite
from bench.operations import OPERATIONS
from bench.timing import Plan, run_calls
from bench.workload import Workload, populate

__all__ = ["profile_operation"]


def profile_operation(name: str, directory: Path, workload: Workload, plan: Plan) -> str:
    """Profile lite's ``name`` operation; return the printed statistics."""
    operation = next(op for op in OPERATIONS if op.name == name)
    backend = lite.open_backend(directory)
    try:
        population = populate(backend, workload)
        count = plan.iterations(operation.iterations)
        run_calls(operation.prepare(backend, population, workload, count, 0))
        profiler = cProfile.Profile()
        for batch in range(1, plan.repeats + 1):
            calls = operation.prepare(backend, population, workload, count, batch)
            profiler.runcall(run_calls, calls)
    finally:
        backend.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"# cProfile of cross-auth-lite `{name}`: {plan.repeats} x {count} calls\n\n")
    out.write("## Own time (tottime), top 25\n")
    stats.sort_stats("tottime").print_stats(25)
    out.write("## cross_auth_lite functions by cumulative time\n")
    stats.sort_stats("cumulative").print_stats("cross_auth_lite", 25)
    return out.getvalue()
