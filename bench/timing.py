"""How every operation is timed: warm up, then repeats of N calls, median µs per call.

An operation is prepared outside the timed region as a list of zero-argument
calls (``functools.partial`` objects), so building arguments, and any setup
such as storing the keys a ``pop`` will take, is never timed. The timed
region is only ``for call in calls: call()``, measured with
``time.perf_counter_ns``. The garbage collector stays enabled (allocation
cost is part of an ORM's cost), but is run before each batch so that one
batch does not pay for the garbage of the previous one.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Call", "Measurement", "Plan", "run_calls", "time_calls"]

Call = Callable[[], object]


@dataclass(frozen=True)
class Plan:
    """How much to run: ``scale`` multiplies each operation's iteration count."""

    repeats: int = 7
    scale: float = 1.0
    warmup_fraction: float = 0.25

    def iterations(self, base: int) -> int:
        """The number of calls per timed batch for an operation whose default is ``base``."""
        return max(5, round(base * self.scale))

    def warmup(self, base: int) -> int:
        """The number of untimed calls made before the first batch."""
        return max(3, round(self.iterations(base) * self.warmup_fraction))


@dataclass
class Measurement:
    """The batches of one operation on one backend, in µs per call."""

    samples: list[float] = field(default_factory=list)
    iterations: int = 0

    @property
    def median(self) -> float:
        """Median µs per call over the batches."""
        return statistics.median(self.samples)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "median_us": self.median,
            "samples_us": self.samples,
            "iterations": self.iterations,
            "repeats": len(self.samples),
        }


def run_calls(calls: Sequence[Call]) -> None:
    """Make the calls, untimed (warm-up)."""
    for call in calls:
        call()


def time_calls(calls: Sequence[Call]) -> float:
    """Make the calls and return the mean µs per call of this batch."""
    gc.collect()
    clock = time.perf_counter_ns
    start = clock()
    for call in calls:
        call()
    elapsed = clock() - start
    return elapsed / len(calls) / 1000.0
