"""Every reach past diskcache's public API, and the check that they still work.

Two fast paths of ``DiskCacheStorage`` need what diskcache does not publish:

- ``execute``: one statement on the cache's own per-thread connection
  (``Cache._local.con``, opened by ``connection`` with the cache's pragmas
  set directly), so ``set``, ``get``, ``pop`` and ``delete`` are one
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
import sqlite3
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import diskcache
from diskcache.core import DBNAME, DEFAULT_SETTINGS, METADATA, MODE_RAW

from cross_auth_lite.adapters import portable

__all__ = ["cache_like", "execute", "fast_paths_usable"]

#: What a ``Cache`` holds besides the settings it read from its file.
_CACHE_STATE: Final = frozenset(
    {"_directory", "_disk", "_local", "_page_size", "_timeout", "_txn_id"}
)
#: What a ``Disk`` holds.
_DISK_STATE: Final = frozenset({"_directory", "min_file_size", "pickle_protocol"})


def execute(cache: diskcache.Cache, statement: str, parameters: Sequence[Any] = ()) -> Any:
    """Run one statement on ``cache``'s connection for this thread (autocommit); its cursor.

    The connection is diskcache's own (``Cache._local.con``, which its
    methods and ``close()`` use too); this thread's first statement opens it
    (``connection``).
    """
    local = cache._local
    con = getattr(local, "con", None)
    if con is None or local.pid != _process[0]:
        con = connection(cache)
    return con.execute(statement, parameters)


def connection(cache: diskcache.Cache) -> sqlite3.Connection:
    """``cache``'s connection for this thread, opened if it has none.

    Opened as diskcache opens one (``Cache._con``), with the ``sqlite_*``
    pragmas the cache holds set directly (the two the file keeps only if
    they differ): diskcache would first read them back from the file's
    ``Settings`` table, then read each pragma before setting it, statements
    that change nothing here,
    where the cache's settings are the ones it opened the file with. A
    process forked since this thread connected, or a pragma the database
    refuses, is left to diskcache's own ``_con``.
    """
    local = cache._local
    pid = getattr(local, "pid", None)
    if getattr(local, "con", None) is not None or (pid is not None and pid != os.getpid()):
        con: sqlite3.Connection = cache._con
        return con
    con = sqlite3.connect(
        os.path.join(cache._directory, DBNAME), timeout=cache._timeout, isolation_level=None
    )
    try:
        for name, value in sqlite_pragmas(cache):
            # Setting a pragma the file keeps (auto_vacuum, journal_mode) is a
            # write that waits for any writer: those are set only if they differ.
            if name in _KEPT_IN_FILE and con.execute(f"PRAGMA {name}").fetchone()[0] == value:
                continue
            con.execute(f"PRAGMA {name} = {value}").fetchall()
    except sqlite3.Error:
        con.close()
        fallback: sqlite3.Connection = cache._con
        return fallback
    local.pid, local.con = os.getpid(), con
    return con


def sqlite_pragmas(cache: diskcache.Cache) -> list[tuple[str, Any]]:
    """The pragmas diskcache sets on each of ``cache``'s connections: its ``sqlite_*`` settings."""
    return [
        (name.removeprefix("sqlite_"), value)
        for name, value in sorted(vars(cache).items())
        if name.startswith("sqlite_")
    ]


#: The pragmas a database file keeps, not each connection.
_KEPT_IN_FILE: Final = frozenset({"auto_vacuum", "journal_mode"})

#: This process's id, kept up to date in a forked child: a connection made
#: by another process is not this one's (diskcache then reconnects).
_process = [os.getpid()]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _process.__setitem__(0, os.getpid()))


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


def _connection_problem(cache: diskcache.Cache) -> str | None:
    """What differs between a connection ``connection`` opens and one diskcache opens itself."""
    pragmas = sqlite_pragmas(cache)
    if not {"journal_mode", "synchronous", "mmap_size"} <= {name for name, _ in pragmas}:
        return "a Cache holds other sqlite settings than expected"
    found: dict[str, Any] = {}

    def read(label: str, connect: Any) -> None:  # a thread of its own: a connection per thread
        try:
            con = connect()
            found[label] = [con.execute(f"PRAGMA {name}").fetchone()[0] for name, _ in pragmas]
            found[label].append(con is cache._con)  # the one diskcache's methods then use
        finally:
            cache.close()

    for label, connect in (("own", lambda: connection(cache)), ("diskcache", lambda: cache._con)):
        worker = threading.Thread(target=read, args=(label, connect))
        worker.start()
        worker.join()
    if found.get("own") is None or found.get("own") != found.get("diskcache"):
        return "a connection opened directly differs from one diskcache opens"
    return None


def _probe_in(scratch: Path) -> str | None:
    if not isinstance(getattr(diskcache.Cache, "_con", None), property):
        return "diskcache.Cache._con is not a property"
    first = diskcache.Cache(str(scratch / "first"), eviction_policy="none", statistics=False)
    try:
        if not set(vars(first)) >= _CACHE_STATE or set(vars(first.disk)) != _DISK_STATE:
            return "a Cache or Disk holds other state than expected"
        local = first._local
        if not isinstance(local, threading.local) or first._con is not getattr(local, "con", None):
            return "a Cache keeps its connection elsewhere than expected"
        problem = _connection_problem(first)
        if problem is not None:
            return problem
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
