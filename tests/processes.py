"""Real processes for race tests: spawned, released together, their reports collected.

No tests here; the race modules import from it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
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
