"""The one statement behind each secondary-storage call, on diskcache's own ``Cache`` table.

diskcache's ``Cache.set`` runs ``BEGIN IMMEDIATE``, a ``SELECT``, an
``UPDATE`` or ``INSERT``, a cull ``SELECT`` and ``COMMIT``; ``pop`` a
transaction around a ``SELECT`` and a ``DELETE``. For text values kept
inside the database none of that is needed: an upsert, a ``SELECT`` and a
``DELETE ... RETURNING`` each do the job in one statement, atomic on its
own, so a popped value still goes to exactly one caller across threads and
processes.

The rows are the ones diskcache writes for a ``str`` key and an inline
``str`` value (``raw = 1``, ``mode = MODE_RAW``, ``size = 0``, no tag, no
file, ``store_time`` and ``access_time`` now, ``access_count = 0``), so
diskcache's own API, ``keys()``, ``purge_expired`` and housekeeping read and
expire them as theirs. diskcache's triggers keep its ``Settings`` count and
size in step: the upsert fires the insert trigger for a new key and the
update trigger for an existing one (never a delete and an insert, as
``INSERT OR REPLACE`` would without recursive triggers).

``set`` does not cull expired rows on the way, as diskcache's does (ten per
call); every ``CULL_EVERY`` sets, one ``EXPIRE`` makes up for it, and
housekeeping reclaims the rest. Rows that hold a file (written by another
tool, or by a cache with a small ``disk_min_file_size``) are left to
diskcache's methods, which also remove the file.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

from diskcache.core import MODE_RAW

__all__ = [
    "CULL_EVERY",
    "CULL_LIMIT",
    "DELETE",
    "EXPIRE",
    "POP",
    "SELECT",
    "UPSERT",
    "fast_path",
]

#: Both statements need SQLite 3.35 (``RETURNING``; upserts came in 3.24).
SUPPORTED: Final = sqlite3.sqlite_version_info >= (3, 35, 0)

#: Store or replace one inline text value. Parameters: key, now, expire_time,
#: now, value. An existing row holding a file is not touched (no row changes):
#: the caller then goes through diskcache, which removes the file.
UPSERT: Final = (
    "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count,"
    f" tag, size, mode, filename, value) VALUES (?, 1, ?, ?, ?, 0, NULL, 0, {MODE_RAW}, NULL, ?)"
    " ON CONFLICT (key, raw) DO UPDATE SET store_time = excluded.store_time,"
    " expire_time = excluded.expire_time, access_time = excluded.access_time,"
    f" access_count = 0, tag = NULL, size = 0, mode = {MODE_RAW}, value = excluded.value"
    " WHERE filename IS NULL"
)

#: The live row of a key. Parameters: key, now.
SELECT: Final = (
    "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1"
    " AND (expire_time IS NULL OR expire_time > ?)"
)

#: Take the live row of a key. Parameters: key, now.
POP: Final = (
    "DELETE FROM Cache WHERE key = ? AND raw = 1"
    " AND (expire_time IS NULL OR expire_time > ?) RETURNING mode, filename, value"
)

#: Remove a key, live or expired. Parameter: key.
DELETE: Final = "DELETE FROM Cache WHERE key = ? AND raw = 1 RETURNING filename"

#: How many ``set`` calls pass between two culls, and the most one cull removes:
#: on average the ten per ``set`` diskcache's own cull allows.
CULL_EVERY: Final = 100
CULL_LIMIT: Final = 10 * CULL_EVERY

#: Remove expired rows, the oldest first; the caller removes the files returned.
#: Parameters: now, the most rows to remove. The one statement behind
#: ``DiskCacheStorage.purge_expired``, housekeeping and the cull of ``set``.
EXPIRE: Final = (
    "DELETE FROM Cache WHERE rowid IN (SELECT rowid FROM Cache"
    " WHERE expire_time IS NOT NULL AND expire_time < ? ORDER BY expire_time LIMIT ?)"
    " RETURNING filename"
)


def fast_path(cache: Any) -> bool:
    """Whether ``cache`` keeps nothing per call that these statements would skip.

    Statistics count hits and misses, and every eviction policy but ``none``
    records accesses or sizes: such a cache goes through diskcache's methods.
    """
    return SUPPORTED and cache.eviction_policy == "none" and not cache.statistics
