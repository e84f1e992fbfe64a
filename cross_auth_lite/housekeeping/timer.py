"""When a store's housekeeping thread starts: once its first pass is due, not at open.

A store's first pass comes two seconds after ``lite.open()``; most stores of a
test suite are closed long before. Starting a thread per store at open would
cost every one of them a thread start and a join at ``close()`` for nothing.
Instead one daemon thread per process (``housekeeping timer``) waits for the
earliest due time among the open stores and calls their housekeeper then, which
starts its own thread for the pass. Scheduling and cancelling are a list
operation under a lock.

The timer holds each callback weakly (``weakref.WeakMethod``): a store dropped
without ``close()`` is not kept alive by its pending start, which then does
nothing.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable

__all__ = ["Pending", "call_later"]

log = logging.getLogger("cross_auth_lite.housekeeping")

_Entry = tuple[float, int, "weakref.WeakMethod[Callable[[], None]]"]


class Pending:
    """A callback waiting for its time: ``cancel()`` it, or ``fire()`` it at once."""

    def __init__(self, timer: _Timer, entry: _Entry) -> None:
        self._timer = timer
        self._entry = entry

    def cancel(self) -> bool:
        """Forget the callback; False when it already ran (or is running)."""
        return self._timer.remove(self._entry)

    def fire(self) -> None:
        """Run the callback now, in this thread, unless it ran or was cancelled."""
        if self.cancel():
            callback = self._entry[2]()
            if callback is not None:
                callback()


class _Timer:
    """One thread calling each scheduled callback once its time has come."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._heap: list[_Entry] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        # When the thread wakes next by itself (``inf``: not before it is notified).
        self._wakes_at = float("inf")

    def schedule(self, delay: float, method: Callable[[], None]) -> Pending:
        entry: _Entry = (time.monotonic() + delay, next(self._order), weakref.WeakMethod(method))
        with self._changed:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="cross-auth-lite housekeeping timer", daemon=True
                )
                self._thread.start()
            elif entry[0] < self._wakes_at:
                self._changed.notify()  # the thread sleeps until a later time
            # Else it wakes in time anyway: stores opened and closed in a row
            # (a test suite) do not wake it each time.
        return Pending(self, entry)

    def remove(self, entry: _Entry) -> bool:
        with self._changed:
            try:
                self._heap.remove(entry)
            except ValueError:
                return False
            heapq.heapify(self._heap)
            return True

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wakes_at = self._heap[0][0] if self._heap else float("inf")
                    timeout = self._wakes_at - time.monotonic() if self._heap else None
                    self._changed.wait(timeout)
                self._wakes_at = float("-inf")  # busy: a new entry need not notify
                _, _, method = heapq.heappop(self._heap)
            callback = method()
            try:
                if callback is not None:
                    callback()  # starts a thread: quick
            except Exception as error:  # the timer serves every store: it carries on
                log.warning("housekeeping could not start: %s", error)
            del callback


_timer = _Timer()


def call_later(delay: float, method: Callable[[], None]) -> Pending:
    """Call the bound ``method`` in ``delay`` seconds, on the timer thread, if its object lives."""
    return _timer.schedule(delay, method)


def _forget_after_fork() -> None:
    """A forked child has no timer thread: it starts one of its own when needed."""
    global _timer
    _timer = _Timer()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
