"""DiskCacheStorage's own statements write the rows diskcache writes, and read diskcache's.

Real cache directories; rows are compared with what ``diskcache.Cache.set``
itself writes, and diskcache's bookkeeping (``Settings`` count, ``check()``)
is read back after lite's statements ran.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest
from diskcache.core import DBNAME

from cross_auth_lite.cache import rows as cache_rows
from cross_auth_lite.cache.storage import CACHE_SETTINGS, DiskCacheStorage, TextDisk

# What a row says about itself, leaving out the times (they differ by call).
COLUMNS = "key, raw, typeof(store_time), typeof(access_time), access_count, tag, size, mode"
COLUMNS += ", filename, value, expire_time IS NULL"


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[DiskCacheStorage]:
    with DiskCacheStorage.from_path(tmp_path / "cache") as opened:
        yield opened


def row(directory: Path, key: str) -> tuple[Any, ...]:
    with contextlib.closing(sqlite3.connect(directory / DBNAME)) as con:
        rows = con.execute(f"SELECT {COLUMNS} FROM Cache WHERE key = ?", (key,)).fetchall()
    assert len(rows) == 1, rows
    return tuple(rows[0])


def statements(storage: DiskCacheStorage) -> list[str]:
    """Trace every statement the storage's connection runs from now on (not its triggers').

    SQLite traces each trigger program a statement runs as that statement
    again, so a repeat of the statement just traced is not counted.
    """
    seen: list[str] = []

    def trace(sql: str) -> None:
        if not seen or seen[-1] != sql:
            seen.append(sql)

    storage.cache._con.set_trace_callback(trace)
    return seen


def test_set_writes_the_row_diskcache_writes(storage: DiskCacheStorage) -> None:
    storage.set("lite", "value", ttl=60)
    storage.set("lite:forever", "value")
    with contextlib.closing(diskcache.Cache(str(storage.directory), disk=TextDisk)) as plain:
        plain.set("diskcache", "value", expire=60)
        plain.set("diskcache:forever", "value")
    directory = storage.directory
    assert row(directory, "lite")[1:] == row(directory, "diskcache")[1:]
    assert row(directory, "lite:forever")[1:] == row(directory, "diskcache:forever")[1:]


def test_each_call_is_one_statement(storage: DiskCacheStorage) -> None:
    storage.set("k", "v", ttl=60)
    seen = statements(storage)
    storage.set("k", "v2", ttl=60)
    assert storage.get("k") == "v2"
    assert storage.pop("k") == "v2"
    storage.delete("k")
    assert len(seen) == 4, seen
    assert not any(sql.startswith(("BEGIN", "COMMIT")) for sql in seen)


def test_diskcache_reads_what_lite_wrote_and_lite_reads_what_diskcache_wrote(
    storage: DiskCacheStorage,
) -> None:
    storage.set("from-lite", "a", ttl=60)
    cache = diskcache.Cache(str(storage.directory), disk=TextDisk)
    with contextlib.closing(cache):
        assert cache.get("from-lite") == "a"
        assert cache.get("from-lite", expire_time=True)[1] == pytest.approx(
            time.time() + 60, abs=5
        )
        cache.set("from-diskcache", "b", expire=60)
        assert storage.get("from-diskcache") == "b"
        assert storage.pop("from-diskcache") == "b"
        assert cache.get("from-diskcache") is None
        assert cache.pop("from-lite") == "a"
        assert storage.get("from-lite") is None


def test_diskcache_bookkeeping_stays_in_step(storage: DiskCacheStorage) -> None:
    for i in range(20):
        storage.set(f"k{i}", "v", ttl=60)
    for i in range(5):
        storage.set(f"k{i}", "again", ttl=60)  # an update, not a second row
    for i in range(5, 10):
        assert storage.pop(f"k{i}") == "v"
    storage.delete("k10")
    storage.set("k11", "gone", ttl=0)  # deletes
    cache = storage.cache
    assert len(cache) == 13  # diskcache's own count, kept by its triggers
    assert cache.check() == []  # count and size agree with the table
    assert sorted(cache.iterkeys()) == sorted(storage.keys())


def test_an_existing_expired_row_is_replaced_and_reads_live(storage: DiskCacheStorage) -> None:
    storage.set("k", "old", ttl=60)
    storage.cache._sql("UPDATE Cache SET expire_time = 1.0 WHERE key = 'k'")
    assert storage.get("k") is None
    assert storage.pop("k") is None  # an expired row is not popped
    storage.set("k", "new", ttl=60)
    assert storage.get("k") == "new"
    assert len(storage.cache) == 1


def test_sets_cull_expired_rows_now_and_then(storage: DiskCacheStorage) -> None:
    for i in range(50):
        storage.set(f"old{i}", "v", ttl=60)
    storage.cache._sql("UPDATE Cache SET expire_time = 1.0")
    for i in range(cache_rows.CULL_EVERY):
        storage.set(f"new{i}", "v", ttl=60)
    (left,) = storage.cache._sql("SELECT COUNT(*) FROM Cache").fetchone()
    assert left == cache_rows.CULL_EVERY  # the expired rows went
    assert storage.cache.check() == []


def test_a_row_holding_a_file_is_replaced_and_its_file_removed(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with DiskCacheStorage.from_path(directory) as storage:
        with contextlib.closing(
            diskcache.Cache(str(directory), disk=TextDisk, disk_min_file_size=0)
        ) as small:
            small.set("filed", "in a file", expire=60)
            small.set("filed:pop", "in a file too", expire=60)
            small.set("filed:delete", "and this", expire=60)
        assert len(list(directory.rglob("*.val"))) == 3
        assert storage.get("filed") == "in a file"
        storage.set("filed", "inline now", ttl=60)
        assert storage.get("filed") == "inline now"
        assert row(directory, "filed")[8] is None  # no filename
        assert storage.pop("filed:pop") == "in a file too"
        storage.delete("filed:delete")
        assert list(directory.rglob("*.val")) == []
        assert storage.cache.check() == []


@pytest.mark.parametrize(
    "settings",
    [{"statistics": True}, {"eviction_policy": "least-frequently-used"}],
    ids=["statistics", "lfu"],
)
def test_a_caller_cache_that_counts_accesses_goes_through_diskcache(
    tmp_path: Path, settings: dict[str, Any]
) -> None:
    options = {**CACHE_SETTINGS, **settings}
    cache = diskcache.Cache(str(tmp_path / "own"), disk=TextDisk, **options)
    with contextlib.closing(cache):
        storage = DiskCacheStorage(cache)
        storage.set("k", "v", ttl=60)
        assert storage.get("k") == "v"
        assert storage.get("missing") is None
        if settings.get("statistics"):
            assert cache.stats() == (1, 1)  # diskcache counted the hit and the miss
        else:
            (count,) = cache._sql("SELECT access_count FROM Cache WHERE key = 'k'").fetchone()
            assert count == 1  # the LFU policy counted the read
        assert storage.pop("k") == "v"
        assert cache.check() == []
