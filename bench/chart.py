"""A chart of the scale run, so that "flat" is visible at a glance.

Two panels, both with the y axis from zero: the lookups' µs per call
against the number of users (log scale), and the µs per page of
``list_for_user(limit=50)`` against the page's position in one user's
sessions, with the whole walk's mean per page as a dashed line. Each point
is the median of the batches, each batch a faint dot; the legend carries
the numbers. The title names the machine. matplotlib draws it with the
non-interactive Agg backend, never a window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.scale import PAGE_LIMIT, ScaleResult
from bench.timing import Measurement

__all__ = ["CHART_NAME", "machine_line", "write_chart"]

#: The file name, without suffix, written into the chart directory.
CHART_NAME = "bench-scale"


def machine_line(machine: dict[str, str]) -> str:
    """``AMD EPYC ..., 2 cores, CPython 3.11.7, SQLite 3.40.1``: what the chart's title names."""
    return (
        f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('python', '?')}, SQLite {machine.get('sqlite', '?')}"
    )


def _batches(axes: Any, xs: list[int], measurements: list[Measurement], color: str) -> None:
    """Every batch of every point as a faint dot: the spread behind each median."""
    points = [(x, sample) for x, m in zip(xs, measurements, strict=True) for sample in m.samples]
    axes.scatter(*zip(*points, strict=True), s=10, color=color, alpha=0.35, linewidths=0)


def _page_number(label: str, pages: int) -> int:
    return {"first": 1, "middle": pages // 2 + 1, "last": pages}[label]


def write_chart(
    scale: ScaleResult,
    machine: dict[str, str],
    directory: Path,
    formats: tuple[str, ...] = ("svg",),
) -> list[Path]:
    """Draw the scale run into ``directory/bench-scale.<suffix>`` per format; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # A stable file: no timestamp, the same element ids every run.
    matplotlib.rcParams["svg.hashsalt"] = CHART_NAME
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, searchable

    figure = Figure(figsize=(11, 4.6), layout="constrained")
    lookups, paging = figure.subplots(1, 2)
    users = list(scale.lookups)
    for name in next(iter(scale.lookups.values()), {}):
        measurements = [scale.lookups[count][name] for count in users]
        medians = [m.median for m in measurements]
        label = f"{name}: " + " → ".join(f"{median:.1f}" for median in medians) + " µs"
        (line,) = lookups.plot(users, medians, marker="o", label=label)
        _batches(lookups, users, measurements, line.get_color())
    lookups.set_xscale("log")
    lookups.set_xticks(users, [f"{count:,}" for count in users])
    lookups.minorticks_off()
    lookups.set_ylim(0, _top([m for r in scale.lookups.values() for m in r.values()]))
    lookups.set_xlabel("users in the store (log scale)")
    lookups.set_ylabel("µs per call")
    lookups.set_title("Lookups as the store grows")
    lookups.legend(loc="upper left", fontsize=9)
    lookups.grid(True, alpha=0.3)

    pages = {k: m for k, m in scale.page_times.items() if k in ("first", "middle", "last")}
    numbers = [_page_number(label, scale.pages) for label in pages]
    medians = [m.median for m in pages.values()]
    label = "one page alone: " + " → ".join(f"{median:.0f}" for median in medians) + " µs"
    (line,) = paging.plot(numbers, medians, marker="o", label=label)
    _batches(paging, numbers, list(pages.values()), line.get_color())
    whole = scale.page_times.get("whole walk (per page)")
    if whole is not None:
        paging.axhline(
            whole.median,
            linestyle="--",
            color="gray",
            label=f"mean per page over the whole walk: {whole.median:.0f} µs",
        )
    margin = max(1.0, 0.04 * scale.pages)  # room for the end ticks' labels
    paging.set_xlim(1 - margin, scale.pages + margin)
    ticks = [f"{label}\n{number:,}" for label, number in zip(pages, numbers, strict=True)]
    paging.set_xticks(numbers, ticks)
    paging.set_ylim(0, _top([*pages.values(), *([whole] if whole else [])]))
    paging.set_xlabel(f"page of {PAGE_LIMIT} sessions (of {scale.pages:,} pages, newest first)")
    paging.set_ylabel("µs per page")
    paging.set_title(f"Paging one user's {scale.sessions:,} sessions to the end")
    paging.legend(loc="upper left", fontsize=9)
    paging.grid(True, alpha=0.3)

    figure.suptitle(
        f"cross-auth-lite scale run — {machine_line(machine)}\n"
        "lines: median of the timed batches; dots: each batch",
        fontsize=11,
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in formats:
        path = directory / f"{CHART_NAME}.{suffix}"
        metadata = {"Date": None} if suffix == "svg" else {}
        figure.savefig(path, format=suffix, metadata=metadata, dpi=110)
        paths.append(path)
    return paths


def _top(measurements: list[Measurement]) -> float:
    """The y axis's top: room above the slowest median for the legend; outlier batches may clip."""
    return 1.6 * max((m.median for m in measurements), default=1.0)
