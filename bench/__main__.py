"""``python -m bench``: the comparison, then the scale run; markdown on stdout.

Options: ``--quick`` (a smoke run of a few seconds), ``--no-end-to-end``
(skip the full sign-ins and their profile), ``--no-scale`` (skip the scale run), ``--chart DIR``
(draw the scale run into ``DIR/bench-scale.svg``; ``make bench`` writes
``bench-results``, ``make bench CHART=docs/images`` the docs' chart),
``--repeats N``, ``--json FILE`` (also write every result as JSON),
``--profile OP`` (cProfile one cross-auth-lite operation instead),
``--busy-neighbour [N]`` (time the comparison beside N CPU-bound processes).
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

from bench import fresh_store, report, sign_in_profile
from bench.chart import write_chart
from bench.compare import run_comparison
from bench.end_to_end import run_end_to_end
from bench.machine import machine_info, peak_rss_mib
from bench.neighbour import busy_neighbours
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
    parser.add_argument(
        "--end-to-end",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time full browser sign-ins through Cross-Auth's router (default: on)",
    )
    parser.add_argument(
        "--chart",
        type=Path,
        metavar="DIR",
        help="draw the scale run into DIR/bench-scale.svg (make bench: bench-results)",
    )
    parser.add_argument("--repeats", type=int, help="timed batches per operation (default 7)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write results as JSON")
    parser.add_argument(
        "--profile",
        choices=[op.name for op in OPERATIONS],
        metavar="OP",
        help="cProfile one cross-auth-lite operation and print the statistics instead",
    )
    parser.add_argument(
        "--busy-neighbour",
        type=int,
        nargs="?",
        const=1,
        default=0,
        metavar="N",
        help="run the comparison beside N CPU-bound processes (default N: 1)",
    )
    args = parser.parse_args(argv)
    if args.busy_neighbour < 0:
        parser.error("--busy-neighbour must be at least 0")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.chart is not None and not args.scale:
        parser.error("--chart draws the scale run: it needs --scale")
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
    sizes: tuple[int, ...]
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
        with busy_neighbours(args.busy_neighbour):
            comparison = run_comparison(root / "compare", workload, plan)
        end_to_end = profile = None
        if args.end_to_end:
            (root / "end_to_end").mkdir()
            end_to_end = run_end_to_end(root / "end_to_end", plan)
            (root / "sign_in_profile").mkdir()
            profile = sign_in_profile.profile_sign_ins(root / "sign_in_profile", plan)
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
    if args.busy_neighbour:
        machine["busy neighbours (CPU-bound processes)"] = str(args.busy_neighbour)
    charts = [] if scale is None or args.chart is None else write_chart(scale, machine, args.chart)
    for chart in charts:
        print(f"chart: {chart}", file=sys.stderr)
    sys.stdout.write(
        report.markdown(
            machine, workload, plan, comparison, scale, peak, seconds, end_to_end=end_to_end
        )
    )
    if profile is not None:
        sys.stdout.write("\n" + "\n".join(sign_in_profile.markdown_lines(profile)) + "\n")
    sys.stdout.write("\n" + "\n".join(fresh_store.markdown_lines(fresh)) + "\n")
    if args.json is not None:
        data = report.to_json(
            machine, workload, plan, comparison, scale, peak, seconds, end_to_end=end_to_end
        )
        data["charts"] = [str(chart) for chart in charts]
        data["fresh_store"] = fresh_store.to_json(fresh)
        data["sign_in_profile"] = None if profile is None else sign_in_profile.to_json(profile)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
