"""The housekeeping thread of a store: wait, make a pass when due, until stopped."""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from typing import TYPE_CHECKING

import peewee

from cross_auth_lite.errors import LiteError, StoreClosedError, StoreUnavailableError
from cross_auth_lite.housekeeping.lease import RETRY_DELAY

if TYPE_CHECKING:
    from cross_auth_lite.housekeeping.housekeeper import Housekeeper

__all__ = ["attempt_in_thread", "halt", "run_thread"]

log = logging.getLogger("cross_auth_lite.housekeeping")


def halt(stopping: threading.Event, wake: threading.Event) -> None:
    """Tell a housekeeping thread to end, waking it if it waits."""
    stopping.set()
    wake.set()


def run_thread(
    ref: weakref.ref[Housekeeper],
    wake: threading.Event,
    stopping: threading.Event,
    first_delay: float,
) -> None:
    """The housekeeping thread: wait, make a pass if due, repeat, until stopped.

    It holds its housekeeper only weakly between passes, so a store dropped
    without ``close()`` is collected and the thread ends.
    """
    delay = first_delay
    while True:
        wake.wait(delay)
        wake.clear()
        if stopping.is_set():
            return
        housekeeper = ref()
        if housekeeper is None:
            return
        delay = attempt_in_thread(housekeeper)
        del housekeeper
        if stopping.is_set():
            return


def attempt_in_thread(housekeeper: Housekeeper) -> float:
    """One attempt from the thread: the seconds to wait before the next; never raises."""
    location = housekeeper._location
    try:
        _, delay = housekeeper._attempt(force=False)
    except StoreClosedError:
        housekeeper._stopping.set()
        return 0.0
    except StoreUnavailableError as error:
        log.debug("housekeeping of %s skipped: %s", location, error.reason)
        return RETRY_DELAY
    except (LiteError, peewee.PeeweeException, sqlite3.Error, OSError) as error:
        if housekeeper._stopping.is_set():
            return 0.0  # closing underneath a statement
        if getattr(housekeeper._database, "shut", False):
            # The store's connections were closed underneath a statement
            # (closing without close(), dropping the store): housekeeping ends.
            housekeeper._stopping.set()
            return 0.0
        log.warning(
            "housekeeping of %s failed (%s: %s); trying again in %gs",
            location,
            type(error).__name__,
            error,
            RETRY_DELAY,
        )
        return RETRY_DELAY
    except Exception:
        log.exception("housekeeping of %s failed; trying again in %gs", location, RETRY_DELAY)
        return RETRY_DELAY
    return delay
