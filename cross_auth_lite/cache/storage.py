"""Short-lived state for Cross-Auth (OAuth state, authorization and link codes) on diskcache.

``DiskCacheStorage`` implements Cross-Auth's ``SecondaryStorage`` protocol on a
``diskcache.Cache``. Keys and values are ``str`` only; expiry is enforced on
every read, so an expired code is never returned even before cleanup runs;
``pop`` is one SQLite write transaction, so a value is popped exactly once
across threads and processes sharing the directory.

diskcache pickles anything that is not a plain value and unpickles whatever
it finds in its file. An authorization store must not run code planted in a
cache file, so the cache is opened with ``TextDisk``, which stores only text
and never unpickles: a pickled row, whoever wrote it, reads as absent.

``set``, ``get``, ``pop`` and ``delete`` run one statement each on diskcache's
own ``Cache`` table (see ``cache_rows``), writing every row exactly as
diskcache's ``Cache.set`` would; a cache whose settings need more than that
(statistics, an eviction policy, values kept in files) goes through
diskcache's methods instead, as does every cache in portable mode (see
``adapters.diskcache_internals``).
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Self

import diskcache
from diskcache.core import DBNAME, MODE_PICKLE, MODE_RAW, MODE_TEXT

from cross_auth_lite.adapters.diskcache_internals import execute, fast_paths_usable
from cross_auth_lite.cache import rows as cache_rows
from cross_auth_lite.cache.errors import CacheErrors, ClosedCache
from cross_auth_lite.database.sqlite import BUSY_TIMEOUT_SECONDS, JOURNAL_SIZE_LIMIT
from cross_auth_lite.errors import (
    StoreLocationError,
    UnsafeCacheValue,
    damaged,
    unavailable,
)
from cross_auth_lite.private_files import private_directory, private_file

__all__ = [
    "CACHE_SETTINGS",
    "DiskCacheStorage",
    "TextDisk",
    "UnsafeCacheValue",
]

log = logging.getLogger("cross_auth_lite.secondary")

# Values live inside cache.db rather than in separate files: every write is then
# one SQLite transaction (nothing half-written after a crash) and there are no
# extra files whose permissions would need care. SQLite rows hold up to 1 GB.
_VALUES_IN_DATABASE: Final = 2**31 - 1

# What the cache directory is opened with. Nothing is ever evicted for size:
# an auth code disappears when it expires or is popped, never earlier. The
# -wal file is cut back to 4 MiB after a checkpoint, as the accounts file's is
# (diskcache records the pragma and sets it on every connection it makes).
CACHE_SETTINGS: Final[dict[str, Any]] = {
    "eviction_policy": "none",
    "disk_min_file_size": _VALUES_IN_DATABASE,
    "statistics": False,
    "sqlite_journal_size_limit": JOURNAL_SIZE_LIMIT,
}


# Rows that ``get`` returns as ``str``: a text key stored raw, holding text either
# inline or in a text file, and not expired (the one parameter is the current
# time). ``keys`` and ``__len__`` list and count exactly these, so a row that
# reads as absent (a pickle, bytes or a number written by another tool, or a
# non-text key) is neither listed nor counted.
_READABLE_LIVE_ROW: Final = (
    "raw = 1 AND typeof(key) = 'text'"
    f" AND ((mode = {MODE_RAW} AND typeof(value) = 'text') OR mode = {MODE_TEXT})"
    " AND (expire_time IS NULL OR expire_time > ?)"
)


class TextDisk(diskcache.Disk):  # type: ignore[misc]
    """A diskcache ``Disk`` that stores text and refuses to unpickle anything.

    ``store`` accepts ``str`` values only. ``fetch`` and ``get`` raise
    ``UnsafeCacheValue`` instead of unpickling a row written by another tool.
    """

    def store(self, value: object, read: bool, key: object = diskcache.core.UNKNOWN) -> Any:
        if type(value) is not str or read:
            raise TypeError(f"cache values must be str, not {type(value).__name__}")
        return super().store(value, read, key)

    def fetch(self, mode: int, filename: str | None, value: object, read: bool) -> Any:
        if mode == MODE_PICKLE:
            raise UnsafeCacheValue("refusing to unpickle a cache value")
        return super().fetch(mode, filename, value, read)

    def get(self, key: object, raw: bool) -> Any:
        if not raw:
            raise UnsafeCacheValue("refusing to unpickle a cache key")
        return super().get(key, raw)


def loggable_key(key: str) -> str:
    """``key`` as a log line may show it: its namespace only, ``oauth:code:…``.

    Cross-Auth puts the secret last (a state, a code, a link code), so
    everything after the last ``:`` is hidden, and a key without one entirely.
    """
    namespace, colon, _ = key.rpartition(":")
    return f"{namespace}:…" if colon else "…"


def _check_key(key: object) -> str:
    if type(key) is not str:
        raise TypeError(f"secondary storage keys must be str, not {type(key).__name__}")
    return key


def _check_ttl(ttl: object, name: str = "ttl") -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(ttl).__name__}")
    try:
        seconds = float(ttl)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"{name} is too large to be a number of seconds") from None
    if math.isnan(seconds):
        raise ValueError(f"{name} must be a number of seconds, not NaN")
    return seconds


class DiskCacheStorage:
    """Cross-Auth ``SecondaryStorage`` on a ``diskcache.Cache``.

    ``DiskCacheStorage("var/auth/cache")`` opens (and owns) a cache in that
    directory, created 0700 with a 0600 database file.
    ``DiskCacheStorage(cache)`` uses a ``diskcache.Cache`` the caller opened
    with ``disk=TextDisk`` and leaves it open on ``close()``. Such a cache keeps
    the settings it was opened with: pass ``**CACHE_SETTINGS`` too, or size
    eviction may drop live codes and large values land in separate files.

    ``default_ttl`` (seconds) applies to ``set`` calls that give no TTL;
    ``None`` keeps such values until they are popped or deleted.
    ``busy_timeout`` (seconds, for a cache it opens) is how long a write waits
    for another process before ``StoreUnavailableError``.
    """

    def __init__(
        self,
        directory_or_cache: str | os.PathLike[str] | diskcache.Cache,
        *,
        default_ttl: int | float | None = None,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        default = _check_ttl(default_ttl, "default_ttl")
        if default is not None and default <= 0:
            raise ValueError("default_ttl must be positive (or None for no expiry)")
        self.default_ttl = default
        if isinstance(directory_or_cache, diskcache.Cache):
            if not isinstance(directory_or_cache.disk, TextDisk):
                raise TypeError(
                    "DiskCacheStorage needs a Cache opened with "
                    "disk=cross_auth_lite.TextDisk: the default Disk unpickles "
                    "whatever it finds in the cache file"
                )
            self._cache = directory_or_cache
            self._owns_cache = False
        elif isinstance(directory_or_cache, str | os.PathLike):
            self._cache = _open_cache(Path(directory_or_cache), busy_timeout)
            self._owns_cache = True
        else:
            raise TypeError(
                "DiskCacheStorage needs a directory path or a diskcache.Cache, "
                f"not {type(directory_or_cache).__name__}"
            )
        self._location: str = self._cache.directory
        self._errors = CacheErrors(os.path.join(self._location, DBNAME))
        self._sets = 0  # since the last cull (see cache_rows.CULL_EVERY)
        self._fast = fast_paths_usable()

    @classmethod
    def from_path(
        cls, path: str | os.PathLike[str], *, default_ttl: int | float | None = None
    ) -> Self:
        """Open a cache in directory ``path``, owned by the storage: ``close()`` closes it."""
        return cls(Path(path), default_ttl=default_ttl)

    @property
    def cache(self) -> diskcache.Cache:
        """The underlying ``diskcache.Cache``."""
        return self._cache

    @property
    def fast_paths(self) -> bool:
        """False when this cache runs on diskcache's public API only (portable mode)."""
        return self._fast

    @property
    def directory(self) -> Path:
        """The cache directory."""
        return Path(self._location)

    # SecondaryStorage protocol

    def set(self, key: str, value: str, ttl: int | float | None = None) -> None:
        """Store ``value`` under ``key``, replacing any value and TTL it had.

        ``ttl`` is in seconds; ``None`` uses ``default_ttl``; zero or less
        means already expired, so the key is deleted instead.
        """
        if type(key) is not str:
            _check_key(key)
        if type(value) is not str:
            raise TypeError(f"secondary storage values must be str, not {type(value).__name__}")
        expire = _check_ttl(ttl) if ttl is not None else self.default_ttl
        if expire is not None and expire <= 0:
            self.delete(key)
            return
        cache = self._cache
        if not (
            self._fast and cache_rows.fast_path(cache) and len(value) < cache.disk.min_file_size
        ):
            with self._errors:
                cache.set(key, value, expire=expire, retry=False)
            return
        now = time.time()
        expire_time = None if expire is None else now + expire
        with self._errors:
            row = (key, now, expire_time, now, value)
            changed = execute(cache, cache_rows.UPSERT, row).rowcount
        self._sets += 1
        if self._sets >= cache_rows.CULL_EVERY:
            self._sets = 0
            self.purge_expired(limit=cache_rows.CULL_LIMIT, now=now)
        if not changed:  # the old row holds a file: diskcache replaces it and removes the file
            with self._errors:
                cache.set(key, value, expire=expire, retry=False)

    def get(self, key: str) -> str | None:
        """The live value of ``key``, or ``None`` when it is missing or expired."""
        if type(key) is not str:
            _check_key(key)
        cache = self._cache
        if not (self._fast and cache_rows.fast_path(cache)):
            return self._read(key, cache.get, "ignoring")
        with self._errors:
            row = execute(cache, cache_rows.SELECT, (key, time.time())).fetchone()
        if row is None:
            return None
        mode, filename, value = row
        if mode == MODE_RAW and filename is None:
            return value if type(value) is str else None
        return self._read(key, cache.get, "ignoring")  # a file, or a row diskcache must decode

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        _check_key(key)
        cache = self._cache
        if not (self._fast and cache_rows.fast_path(cache)):
            with self._errors:
                cache.delete(key, retry=False)
            return
        with self._errors:
            rows = execute(cache, cache_rows.DELETE, (key,)).fetchall()
        for (filename,) in rows:
            if filename is not None:
                cache.disk.remove(filename)

    def pop(self, key: str) -> str | None:
        """Return the live value of ``key`` and remove it, atomically.

        Of any number of threads or processes popping the same key at once,
        exactly one gets the value.
        """
        if type(key) is not str:
            _check_key(key)
        cache = self._cache
        if not (self._fast and cache_rows.fast_path(cache)):
            return self._read(key, cache.pop, "discarded")
        with self._errors:
            # One DELETE ... RETURNING: the row goes to whichever statement deletes it.
            rows = execute(cache, cache_rows.POP, (key, time.time())).fetchall()
        if not rows:
            return None
        ((mode, filename, value),) = rows
        if mode == MODE_RAW and filename is None:
            return value if type(value) is str else None
        try:
            value = cache.disk.fetch(mode, filename, value, False)
        except UnsafeCacheValue:
            log.warning("discarded a pickled cache row for key %s", loggable_key(key))
            return None
        except OSError:
            return None  # the file went with another process's pop
        finally:
            if filename is not None:
                cache.disk.remove(filename)
        return value if type(value) is str else None

    def _read(self, key: str, read: Callable[..., Any], outcome: str) -> str | None:
        """``read(key)`` through diskcache (``get`` or ``pop``), refusing pickles."""
        try:
            with self._errors:
                value = read(key, retry=False)
        except UnsafeCacheValue:
            # A pop deleted the row before refusing it: nothing is left behind.
            log.warning("%s a pickled cache row for key %s", outcome, loggable_key(key))
            return None
        return value if type(value) is str else None

    # Beyond the protocol

    def keys(self, prefix: str = "") -> list[str]:
        """Live (unexpired) keys starting with ``prefix``, sorted.

        Rows that ``get`` would not return (a pickle or non-text value written
        by another tool) are left out.
        """
        if type(prefix) is not str:
            raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
        cache = self._cache
        if not self._fast:
            return self._public_keys(prefix)
        with self._errors:
            rows = execute(
                cache,
                f"SELECT key FROM Cache WHERE {_READABLE_LIVE_ROW} AND key >= ? ORDER BY key",
                (time.time(), prefix),
            ).fetchall()
        keys: list[str] = []
        for (key,) in rows:
            if not key.startswith(prefix):
                break  # keys sharing a prefix sort together
            keys.append(key)
        return keys

    def _public_keys(self, prefix: str) -> list[str]:
        """``keys(prefix)`` on diskcache's public API: every key read back with ``get``."""
        cache = self._cache
        keys: list[str] = []
        with self._errors:
            try:
                for key in cache.iterkeys():
                    if type(key) is str and key.startswith(prefix):
                        keys.append(key)
            except UnsafeCacheValue:
                # A pickled key is a BLOB, and SQLite sorts BLOBs after every
                # text key: all the text keys were listed already.
                pass
        return [key for key in keys if self._read(key, cache.get, "ignoring") is not None]

    def purge_expired(self, *, limit: int | None = None, now: float | None = None) -> int:
        """Delete entries expired before ``now`` (default: now); return how many went.

        Reads never return expired entries anyway; this only reclaims space.
        ``limit`` stops after about that many (housekeeping goes in batches);
        in portable mode diskcache's ``expire`` removes them all, a hundred
        per transaction.
        """
        moment = time.time() if now is None else now
        cache = self._cache
        total = 0
        with self._errors:
            if not (self._fast and cache_rows.fast_path(cache)):
                # diskcache's expire() pages through rows and can pass over rows that
                # share an expiry time with a page boundary; repeat until none are left.
                while removed := int(cache.expire(moment, retry=False)):
                    total += removed
                return total
            while limit is None or total < limit:
                batch = cache_rows.CULL_LIMIT if limit is None else limit - total
                rows = execute(cache, cache_rows.EXPIRE, (moment, batch)).fetchall()
                for (filename,) in rows:
                    if filename is not None:
                        cache.disk.remove(filename)
                total += len(rows)
                if len(rows) < batch:
                    break
        return total

    def __len__(self) -> int:
        """Number of live entries: the length of ``keys()``."""
        if not self._fast:
            return len(self._public_keys(""))
        with self._errors:
            (count,) = execute(
                self._cache,
                f"SELECT COUNT(*) FROM Cache WHERE {_READABLE_LIVE_ROW}",
                (time.time(),),
            ).fetchone()
        return int(count)

    def close(self) -> None:
        """Close the cache if this storage opened it; a caller's cache stays open.

        Either way the storage is done: later calls raise ``StoreClosedError``.
        Closing twice is harmless.
        """
        cache, self._cache = self._cache, ClosedCache(self._location)
        if self._owns_cache and not isinstance(cache, ClosedCache):
            cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._location}>"


def _open_cache(directory: Path, busy_timeout: float) -> diskcache.Cache:
    directory = private_directory(directory, role="cache directory")
    database = private_file(directory / DBNAME)
    try:
        return diskcache.Cache(
            str(directory), timeout=busy_timeout, disk=TextDisk, **CACHE_SETTINGS
        )
    except sqlite3.DatabaseError as error:
        problem = unavailable(str(database), error) or damaged(str(database), error, opening=True)
        if problem is not None:
            raise problem from error
        raise StoreLocationError(f"{database} is not a usable cache database: {error}") from None
