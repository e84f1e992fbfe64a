"""``--busy-neighbour``: CPU-bound processes running beside the comparison.

A server shares its cores with other work. Each neighbour is a Python
process spinning in a loop for as long as the comparison runs, so every
backend (and the Redis server, a process of its own) competes for the
cores with it, the way it would on a busy machine.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["busy_neighbours"]

_SPIN = "while True: pass"


@contextlib.contextmanager
def busy_neighbours(count: int) -> Iterator[None]:
    """Run ``count`` spinning processes for the duration of the block (none for 0)."""
    processes = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait()
