"""Real processes for race tests: spawned, released together, their reports collected.

No tests here; the race modules import from it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

#: Spawned, not forked: each process opens its store from scratch, as an app's would.
SPAWN = multiprocessing.get_context("spawn")


def run_released(
    jobs: list[tuple[Callable[..., None], tuple[Any, ...]]], *shared: Any
) -> list[tuple[Any, ...]]:
    """Run each ``(target, args)`` in a spawned process, released together; collect reports.

    Every target gets ``args``, then ``(ready, go)`` (it releases the
    Semaphore once its store is open and waits for the Event), then
    ``shared`` (made by the caller from ``SPAWN``), then the results Queue.
    """
    ready, go, results = SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=target, args=(*args, (ready, go), *shared, results))
        for target, args in jobs
    ]
    for process in processes:
        process.start()
    # A real barrier: every process has its store open before any starts.
    for _ in processes:
        assert ready.acquire(timeout=60), "a process never got ready"
    go.set()
    reports = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    errors = [report[1] for report in reports if report[0] == "error"]
    assert not errors, errors
    return reports


# Processes spawned once, for modules that run several races.

#: What ``tests/conftest.py`` takes out of each test's environment: the shell's
#: settings, and the portable mode (each test asks for it or not).
SHELL_SETTINGS = (
    "CROSS_AUTH_LITE_ENCRYPTION_KEY",
    "CROSS_AUTH_LITE_DATA",
    "CROSS_AUTH_LITE_DEBUG",
    "CROSS_AUTH_LITE_PORTABLE",
)


@contextlib.contextmanager
def environment_of_a_test() -> Iterator[None]:
    """Within the block, the environment a test sees: for processes spawned outside any test."""
    saved = {name: os.environ.pop(name) for name in SHELL_SETTINGS if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


#: What a process of a ``ReleasedPool`` inherited: its start, results and shared objects.
_INHERITED: dict[str, Any] = {}


def _inherit(ready: Any, go: Any, results: Any, events: list[Any], values: list[Any]) -> None:
    _INHERITED.update(ready=ready, go=go, results=results, events=events, values=values)


def _run_job(
    target: Callable[..., None], args: tuple[Any, ...], shared: tuple[tuple[str, int], ...]
) -> None:
    objects = [_INHERITED[f"{kind}s"][index] for kind, index in shared]
    start = (_INHERITED["ready"], _INHERITED["go"])
    target(*args, start, *objects, _INHERITED["results"])


class ReleasedPool:
    """``run_released``, in ``size`` processes spawned once instead of new ones each time.

    Each job still runs in a process of its own (a process waiting for the
    others' release takes no second job), opens its store there and is
    released with the others. The Events and Values a target is given are
    made here, since a spawned process gets them only by inheritance:
    ``shared`` names them, ``("event", 0)`` or ``("value", 0)``, and they are
    cleared (set to 0) before each run.
    """

    def __init__(self, size: int, *, events: int = 0, values: int = 0) -> None:
        self.size = size
        self._ready, self._go, self._results = SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
        self._events = [SPAWN.Event() for _ in range(events)]
        self._values = [SPAWN.Value("i", 0) for _ in range(values)]
        with environment_of_a_test():  # spawned once for a module, not inside a test
            self._pool = SPAWN.Pool(
                size,
                initializer=_inherit,
                initargs=(self._ready, self._go, self._results, self._events, self._values),
            )

    def run(
        self, jobs: list[tuple[Callable[..., None], tuple[Any, ...]]], *shared: tuple[str, int]
    ) -> list[tuple[Any, ...]]:
        """What ``run_released(jobs, *objects)`` returns, ``shared`` naming the objects."""
        assert len(jobs) <= self.size, "more jobs than processes: they would not all race"
        self._go.clear()
        for event in self._events:
            event.clear()
        for value in self._values:
            value.value = 0
        pending = [
            self._pool.apply_async(_run_job, (target, args, shared)) for target, args in jobs
        ]
        # A real barrier: every process has its store open before any starts.
        for _ in pending:
            assert self._ready.acquire(timeout=60), "a process never got ready"
        self._go.set()
        reports = [self._results.get(timeout=60) for _ in pending]
        for job in pending:
            job.get(timeout=60)  # ended without raising
        errors = [report[1] for report in reports if report[0] == "error"]
        assert not errors, errors
        return reports

    def close(self) -> None:
        """Stop the processes."""
        self._pool.terminate()
        self._pool.join()
