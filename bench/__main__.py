"""``python -m bench``: the comparison, then the scale run; markdown on stdout.

Options: ``--quick`` (a smoke run of a few seconds), ``--no-scale`` (skip
the scale run), ``--repeats N``, ``--json FILE`` (also write every result as
JSON), ``--profile OP`` (cProfile one cross-auth-lite operation instead).
Everything is written to a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import fresh_store, report
from bench.compare import run_comparison
from bench.machine import machine_info, peak_rss_mib
from bench.operations import OPERATIONS
from bench.profiling import profile_operation
from bench.scale import DEFAULT_SIZES, QUICK_SIZES, run_scale
from bench.timing import Plan
from bench.workload import PopulationSize, Workload


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time cross-auth-lite against SQLModel, Redis and raw sqlite3.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run lite at 1k/100k/1M users and page 10k sessions (default: on)",
    )
    parser.add_argument("--repeats", type=int, help="timed batches per operation (default 7)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write results as JSON")
    parser.add_argument(
        "--profile",
        choices=[op.name for op in OPERATIONS],
        metavar="OP",
        help="cProfile one cross-auth-lite operation and print the statistics instead",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    started = time.perf_counter()
    load_before = _load()
    if args.quick:
        plan = Plan(repeats=args.repeats or 3, scale=0.05)
        size = PopulationSize(users=200, heavy_user_sessions=50, secondary_keys=200)
        sizes, session_count = QUICK_SIZES, 1_000
    else:
        plan = Plan(repeats=args.repeats or 7)
        size = PopulationSize()
        sizes, session_count = DEFAULT_SIZES, 10_000
    workload = Workload(size=size, now=datetime.now(UTC))
    with tempfile.TemporaryDirectory(prefix="cross-auth-lite-bench-") as temporary:
        root = Path(temporary)
        if args.profile:
            sys.stdout.write(profile_operation(args.profile, root / "profile", workload, plan))
            return 0
        (root / "compare").mkdir()
        comparison = run_comparison(root / "compare", workload, plan)
        scale = (
            run_scale(root / "scale", sizes, session_count, plan, workload.now)
            if args.scale
            else None
        )
        fresh = fresh_store.run_fresh_stores(root / "fresh", plan)
    seconds = time.perf_counter() - started
    machine, peak = machine_info(), peak_rss_mib()
    # Other work on the machine shows up as noise: say how busy it was.
    machine["load average (1 min, start -> end)"] = f"{load_before} -> {_load()}"
    sys.stdout.write(report.markdown(machine, workload, plan, comparison, scale, peak, seconds))
    sys.stdout.write("\n" + "\n".join(fresh_store.markdown_lines(fresh)) + "\n")
    if args.json is not None:
        data = report.to_json(machine, workload, plan, comparison, scale, peak, seconds)
        data["fresh_store"] = fresh_store.to_json(fresh)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
