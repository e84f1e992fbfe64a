"""Turning results into the markdown report (stdout) and the JSON file.

Ratios are per operation: ``SQLModel/lite`` and ``Redis/lite`` say how many
times faster lite is (higher is better); ``lite/raw`` says how many times
slower lite is than bare ``sqlite3`` (lower is better); ``portable/lite`` how
many times slower portable mode is, what the fast paths buy. Each target is
judged on the geometric mean of its ratio over the operations it covers,
or, for an ``each`` target, on every one of those operations (its worst).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench import end_to_end as e2e
from bench.compare import BACKEND_ORDER, Comparison
from bench.scale import ScaleResult
from bench.timing import Plan
from bench.workload import Workload

__all__ = ["LABELS", "RATIOS", "TARGETS", "markdown", "summary", "to_json"]

LABELS = {
    "lite": "cross-auth-lite",
    "portable": "lite, portable",
    "sqlmodel": "SQLModel",
    "redis": "Redis",
    "raw": "raw sqlite3",
}
#: Ratio columns: name -> (numerator backend, denominator backend).
RATIOS = {
    "SQLModel/lite": ("sqlmodel", "lite"),
    "Redis/lite": ("redis", "lite"),
    "lite/raw": ("lite", "raw"),
    # What the fast paths buy: the portable store's time over the default's.
    "portable/lite": ("portable", "lite"),
}
DASH = "—"


@dataclass(frozen=True)
class Target:
    """A goal on the geometric mean of one ratio over some operation groups."""

    ratio: str
    groups: tuple[str, ...]
    threshold: float
    at_least: bool  # True: the mean must be >= threshold; False: <= threshold
    text: str
    each: bool = False  # judge every covered operation, not the geometric mean
    operations: tuple[str, ...] = ()  # only these operations of the groups (all if empty)

    def covers(self, name: str, group: str) -> bool:
        """Whether operation ``name`` of ``group`` counts towards this target."""
        return group in self.groups and (not self.operations or name in self.operations)

    def verdict(self, value: float | None) -> str:
        """PASS, MISS, or SKIP when the ratio could not be measured."""
        if value is None:
            return "SKIP"
        ok = value >= self.threshold if self.at_least else value <= self.threshold
        return "PASS" if ok else "MISS"


_ALL = ("accounts", "sessions", "secondary")
#: How close to its floor each hot path must be, and the cache against Redis.
#: The SQLModel ratio is reported, not judged: it is bounded by the floor.
TARGETS = (
    Target("lite/raw", _ALL, 1.3, False, "within 1.3x of raw sqlite3"),
    Target("lite/raw", _ALL, 1.5, False, "within 1.5x of raw sqlite3", each=True),
    Target("Redis/lite", ("secondary",), 3.0, True, ">= 3x faster than RedisStorage"),
    Target("Redis/lite", ("secondary",), 1.0, True, "faster than RedisStorage", each=True),
)


def _us(value: float | None) -> str:
    if value is None:
        return DASH
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def _x(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}x"


def _geomean(values: list[float]) -> float | None:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def summary(comparison: Comparison) -> dict[str, Any]:
    """Per-operation medians and ratios, and each target's geometric mean and verdict."""
    operations: dict[str, Any] = {}
    for name, results in comparison.results.items():
        medians = {key: m.median for key, m in results.items()}
        ratios = {
            ratio: medians[top] / medians[bottom]
            for ratio, (top, bottom) in RATIOS.items()
            if top in medians and bottom in medians
        }
        operations[name] = {
            "group": comparison.groups[name],
            "median_us": medians,
            "ratios": ratios,
        }
    targets = []
    for target in TARGETS:
        covered = {
            name: op["ratios"][target.ratio]
            for name, op in operations.items()
            if target.covers(name, op["group"]) and target.ratio in op["ratios"]
        }
        mean = _geomean(list(covered.values()))
        top, bottom = RATIOS[target.ratio]
        # What bare sqlite3 would score in lite's place: the best lite could do.
        ceiling = _geomean(
            [
                op["median_us"][top] / op["median_us"]["raw"]
                for name, op in operations.items()
                if name in covered and bottom == "lite" and "raw" in op["median_us"]
            ]
        )
        worst = (min if target.at_least else max)(covered, key=covered.__getitem__, default=None)
        targets.append(
            {
                "target": target.text,
                "ratio": target.ratio,
                "groups": list(target.groups),
                "threshold": target.threshold,
                "geomean": mean,
                "operations": len(covered),
                "worst_operation": worst,
                "worst_ratio": covered.get(worst) if worst else None,
                "raw_sqlite3_ceiling": ceiling,
                "each": target.each,
                "verdict": target.verdict(covered.get(worst) if target.each and worst else mean),
            }
        )
    return {"operations": operations, "targets": targets}


def _comparison_table(comparison: Comparison, data: dict[str, Any]) -> list[str]:
    columns = [LABELS[key] for key in BACKEND_ORDER] + list(RATIOS)
    lines = [
        "| operation | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, op in data["operations"].items():
        cells = [_us(op["median_us"].get(key)) for key in BACKEND_ORDER]
        cells += [_x(op["ratios"].get(ratio)) for ratio in RATIOS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    means = {t["ratio"]: t["geomean"] for t in data["targets"] if not t["each"]}
    for ratio in RATIOS:  # a ratio no target judges: its mean over every operation
        if ratio not in means:
            operations = data["operations"].values()
            means[ratio] = _geomean(
                [op["ratios"][ratio] for op in operations if ratio in op["ratios"]]
            )
    cells = [""] * len(BACKEND_ORDER) + [f"**{_x(means.get(ratio))}**" for ratio in RATIOS]
    lines.append("| **geometric mean** | " + " | ".join(cells) + " |")
    return lines


def _target_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for t in data["targets"]:
        scope = " + ".join(t["groups"]) if len(t["groups"]) < 3 else "all"
        mean = _x(t["geomean"])
        worst = ""
        if t["worst_operation"]:
            worst = f"; worst: {t['worst_operation']} {_x(t['worst_ratio'])}"
        if t["raw_sqlite3_ceiling"] is not None:
            worst += f"; raw sqlite3 in lite's place would score {_x(t['raw_sqlite3_ceiling'])}"
        if t["each"]:
            lines.append(
                f"- {t['target']} on each of {t['operations']} {scope} ops ({t['ratio']}): "
                f"worst {_x(t['worst_ratio'])} ({t['worst_operation']}) -> **{t['verdict']}**"
            )
            continue
        lines.append(
            f"- {t['target']} ({scope} ops, geomean of {t['ratio']} over {t['operations']} ops): "
            f"{mean} -> **{t['verdict']}**{worst}"
        )
    operations = [op for op in data["operations"].values() if "SQLModel/lite" in op["ratios"]]
    if operations:
        sqlmodel = _geomean([op["ratios"]["SQLModel/lite"] for op in operations])
        ceiling = _geomean(
            [op["median_us"]["sqlmodel"] / op["median_us"]["raw"] for op in operations]
        )
        lines.append(
            f"- reported, not judged: geomean of SQLModel/lite over {len(operations)} ops "
            f"{_x(sqlmodel)}; raw sqlite3 in lite's place would score {_x(ceiling)}"
        )
    return lines


def _scale_lines(scale: ScaleResult) -> list[str]:
    names = list(next(iter(scale.lookups.values())))
    lines = [
        "## Scale (cross-auth-lite alone, µs per operation)",
        "",
        "| users | " + " | ".join(names) + " | bulk load (s) | database size |",
        "|---:|" + "---:|" * (len(names) + 2),
    ]
    for users, results in scale.lookups.items():
        cells = [_us(results[name].median) for name in names]
        cells.append(f"{scale.load_seconds[users]:.2f}")
        cells.append(f"{scale.database_bytes[users] / 1024 / 1024:.1f} MiB")
        lines.append(f"| {users:,} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"One user with {scale.sessions:,} sessions, `list_for_user(limit=50)` paged to the end "
        f"({scale.pages} pages):",
        "",
        "| page | µs per page |",
        "|---|---:|",
    ]
    lines += [f"| {label} | {_us(m.median)} |" for label, m in scale.page_times.items()]
    return lines


def _batch_sizes(comparison: Comparison) -> list[int]:
    return sorted({m.iterations for r in comparison.results.values() for m in r.values()})


def markdown(
    machine: dict[str, str],
    workload: Workload,
    plan: Plan,
    comparison: Comparison,
    scale: ScaleResult | None,
    peak_mib: float,
    seconds: float,
    *,
    end_to_end: e2e.EndToEndResult | None = None,
) -> str:
    """The whole report."""
    data = summary(comparison)
    size = workload.size
    lines = ["# cross-auth-lite benchmark", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += [f"- {key}: {value}" for key, value in comparison.versions.items()]
    lines += [
        "",
        "## Comparison (µs per operation, median of batches)",
        "",
        f"Each backend holds {size.users:,} users with a GitHub identity and a session each, "
        f"one of them with {size.heavy_user_sessions} sessions, and "
        f"{size.secondary_keys:,} secondary keys. Each operation: a warm-up, then "
        f"{plan.repeats} batches of N calls per backend (interleaved); N is "
        f"{', '.join(map(str, _batch_sizes(comparison)))} "
        "depending on the operation. `secondary pop` takes keys stored by `set` outside the "
        "timed region.",
        "",
        *_comparison_table(comparison, data),
        "",
        "Targets:",
        "",
        *_target_lines(data),
    ]
    if plan.scale < 1:
        lines += [
            "",
            "A quick run (small batches on a small population) is a smoke test: its "
            "ratios are noisy and its PASS/MISS lines are not a verdict; run the full "
            "`make bench` to judge the targets.",
        ]
    if comparison.skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {LABELS[key]}: {reason}" for key, reason in comparison.skipped.items()]
    if end_to_end is not None:
        lines += ["", *e2e.markdown_lines(end_to_end)]
    if scale is not None:
        lines += ["", *_scale_lines(scale)]
    lines += [
        "",
        f"Peak memory (ru_maxrss): {peak_mib:.0f} MiB. Total time: {seconds:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def to_json(
    machine: dict[str, str],
    workload: Workload,
    plan: Plan,
    comparison: Comparison,
    scale: ScaleResult | None,
    peak_mib: float,
    seconds: float,
    *,
    end_to_end: e2e.EndToEndResult | None = None,
) -> dict[str, Any]:
    """Everything in the report, with every batch's time, as JSON-ready data."""
    data = summary(comparison)
    return {
        "machine": {**machine, **comparison.versions},
        "settings": {
            "repeats": plan.repeats,
            "iteration_scale": plan.scale,
            "population": vars(workload.size),
        },
        "comparison": {
            name: {
                **data["operations"][name],
                "backends": {key: m.as_dict() for key, m in results.items()},
            }
            for name, results in comparison.results.items()
        },
        "targets": data["targets"],
        "skipped": comparison.skipped,
        "end_to_end": None if end_to_end is None else e2e.to_json(end_to_end),
        "scale": None
        if scale is None
        else {
            "lookups": {
                str(users): {name: m.as_dict() for name, m in results.items()}
                for users, results in scale.lookups.items()
            },
            "load_seconds": {str(k): v for k, v in scale.load_seconds.items()},
            "database_bytes": {str(k): v for k, v in scale.database_bytes.items()},
            "sessions": scale.sessions,
            "pages": scale.pages,
            "page_times": {label: m.as_dict() for label, m in scale.page_times.items()},
        },
        "peak_rss_mib": peak_mib,
        "seconds": seconds,
    }
