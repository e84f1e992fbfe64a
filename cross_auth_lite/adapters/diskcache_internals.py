"""Every reach past diskcache's public API, and the check that they still work.

Two fast paths of ``DiskCacheStorage`` need what diskcache does not publish:

- ``execute``: one statement on the cache's own per-thread connection
  (``Cache._sql``), so ``set``, ``get``, ``pop`` and ``delete`` are one
  statement each instead of diskcache's transactions (see ``cache/rows.py``);
- ``cache_like``: a ``Cache`` for a byte copy of another cache's file, made
  from that cache's state (``_directory``, ``_disk``, ``_local``,
  ``_timeout``, ``_txn_id``, ...) instead of ``Cache()``'s thirty statements.

``fast_paths_usable()`` says whether to take them: not when
``$CROSS_AUTH_LITE_PORTABLE`` asks for portable mode, nor when the probe
made once per process (a real cache in a temporary directory, written and
read both ways) finds the internals missing or behaving otherwise; that
case warns once (``portable.fall_back``). A storage then runs on
``Cache.set``/``get``/``pop``/``delete``/``expire`` and ``iterkeys`` only.
"""

from __future__ import annotations

import copy
import functools
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import diskcache
from diskcache.core import DEFAULT_SETTINGS, METADATA, MODE_RAW

from cross_auth_lite.adapters import portable

__all__ = ["cache_like", "execute", "fast_paths_usable"]

#: What a ``Cache`` holds besides the settings it read from its file.
_CACHE_STATE: Final = frozenset(
    {"_directory", "_disk", "_local", "_page_size", "_timeout", "_txn_id"}
)
#: What a ``Disk`` holds.
_DISK_STATE: Final = frozenset({"_directory", "min_file_size", "pickle_protocol"})


def execute(cache: diskcache.Cache, statement: str, parameters: Sequence[Any] = ()) -> Any:
    """Run one statement on ``cache``'s connection for this thread (autocommit); its cursor."""
    return cache._sql(statement, parameters)


def fast_paths_usable() -> bool:
    """Whether a cache opening now may take the fast paths.

    False in portable mode (asked for, no warning) or when this process's
    probe failed (one ``RuntimeWarning`` naming diskcache, its version and
    what failed).
    """
    if portable.portable_requested():
        return False
    problem = _probe()
    if problem is not None:
        portable.fall_back("diskcache", problem)
        return False
    return True


def cache_like(
    prototype: diskcache.Cache, directory: Path, busy_timeout: float, settings: frozenset[str]
) -> diskcache.Cache | None:
    """A ``Cache`` on ``directory``, whose database is a byte copy of ``prototype``'s.

    ``settings`` names the settings attributes the caller opened ``prototype``
    with (beyond diskcache's defaults). ``None`` when the fast paths are off or
    ``prototype`` keeps state not known here: the caller opens ``Cache()`` then.
    """
    location = str(directory)
    if (
        not fast_paths_usable()
        or set(vars(prototype)) != {*_CACHE_STATE, *DEFAULT_SETTINGS, *METADATA, *settings}
        or set(vars(prototype.disk)) != _DISK_STATE
        # diskcache would expand "~" and "$NAME" in the path, and open another directory
        or os.path.expanduser(os.path.expandvars(location)) != location
    ):
        return None
    return _clone(prototype, location, busy_timeout)


def _clone(prototype: diskcache.Cache, location: str, busy_timeout: float) -> diskcache.Cache:
    cache: diskcache.Cache = object.__new__(type(prototype))
    vars(cache).update(vars(prototype))
    disk = copy.copy(prototype.disk)
    disk._directory = location
    vars(cache).update(
        _directory=location,
        _disk=disk,
        _local=threading.local(),
        _timeout=busy_timeout,
        _txn_id=None,
    )
    return cache


@functools.cache
def _probe() -> str | None:
    """What does not work as the fast paths expect, or ``None``; made once per process."""
    try:
        with tempfile.TemporaryDirectory(
            prefix="cross-auth-lite-probe-", dir=_memory()
        ) as scratch:
            return _probe_in(Path(scratch))
    except Exception as error:  # whatever a changed diskcache raises here
        return f"probe failed: {type(error).__name__}: {error}"


def _memory() -> str | None:
    """A memory-backed directory for the probe's scratch caches, where there is one.

    On a disk every new cache pays for its file syncs (tens of milliseconds
    at a process's first store); in memory the probe takes a few.
    """
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _probe_in(scratch: Path) -> str | None:
    for name in ("_sql", "_con"):
        if not isinstance(getattr(diskcache.Cache, name, None), property):
            return f"diskcache.Cache.{name} is not a property"
    first = diskcache.Cache(str(scratch / "first"), eviction_policy="none", statistics=False)
    try:
        if not set(vars(first)) >= _CACHE_STATE or set(vars(first.disk)) != _DISK_STATE:
            return "a Cache or Disk holds other state than expected"
        now = time.time()
        first.set("public", "written by set", expire=60)
        row = execute(
            first,
            "SELECT raw, mode, filename, value, expire_time > ? FROM Cache WHERE key = ?",
            (now, "public"),
        ).fetchone()
        if tuple(row) != (1, MODE_RAW, None, "written by set", 1):
            return "Cache.set wrote a row of another shape"
        execute(
            first,
            "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count,"
            f" tag, size, mode, filename, value) VALUES (?, 1, ?, NULL, ?, 0, NULL, 0, {MODE_RAW},"
            " NULL, ?)",
            ("direct", now, now, "written by a statement"),
        )
        if first.get("direct") != "written by a statement" or len(first) != 2:
            return "Cache.get did not read a row written by a statement"
        clone = _clone(first, str(scratch / "second"), first.timeout)
        os.makedirs(clone.directory)
        first.close()
        Path(clone.directory, diskcache.core.DBNAME).write_bytes(
            Path(first.directory, diskcache.core.DBNAME).read_bytes()
        )
        try:
            clone.set("cloned", "v")
            if clone.pop("direct") != "written by a statement" or clone.get("cloned") != "v":
                return "a cloned Cache did not read and write its copy"
            if clone.check() or Path(first.directory) == Path(clone.directory):
                return "a cloned Cache did not keep to its own directory"
        finally:
            clone.close()
    finally:
        first.close()
    return None
