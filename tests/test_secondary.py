"""DiskCacheStorage: Cross-Auth's SecondaryStorage on a real diskcache directory.

Every test works on real cache directories under ``tmp_path``; nothing is
mocked. Expiry tests sleep for well under a second, and the race tests use real
threads and real processes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shlex
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest
from cross_auth import SecondaryStorage
from diskcache.core import DBNAME

import cross_auth_lite
from cross_auth_lite.cache.storage import DiskCacheStorage, TextDisk, UnsafeCacheValue
from cross_auth_lite.private_files import StoreLocationError

HELPERS = Path(__file__).parent / "secondary_helpers"
POP_WORKER = HELPERS / "pop_worker.py"
PROJECT_ROOT = Path(cross_auth_lite.__file__).resolve().parent.parent

pytestmark = pytest.mark.contract

# Short real TTL and the sleep that outlasts it.
SHORT_TTL = 0.3
PAST_SHORT_TTL = 0.45


# Helpers


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def storage(cache_dir: Path) -> Iterator[DiskCacheStorage]:
    with DiskCacheStorage.from_path(cache_dir) as opened:
        yield opened


def stored_rows(directory: Path) -> int:
    """Rows physically in the Cache table, expired or not, read over a separate connection."""
    with contextlib.closing(sqlite3.connect(directory / DBNAME)) as con:
        (count,) = con.execute("SELECT COUNT(*) FROM Cache").fetchone()
    return int(count)


def expire_time(storage: DiskCacheStorage, key: str) -> float | None:
    """The absolute expiry time diskcache recorded for ``key`` (None: never)."""
    with contextlib.closing(sqlite3.connect(storage.directory / DBNAME)) as con:
        rows = con.execute(
            "SELECT expire_time FROM Cache WHERE key = ? AND raw = 1", (key,)
        ).fetchall()
    assert len(rows) == 1, f"expected one row for {key!r}, found {len(rows)}"
    value = rows[0][0]
    return None if value is None else float(value)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# Protocol: set / get / delete / pop


def test_usable_as_cross_auth_secondary_storage(storage: DiskCacheStorage) -> None:
    secondary: SecondaryStorage = storage  # also checked statically by mypy
    secondary.set("k", "v", 60)
    secondary.set("plain", "w")
    assert secondary.get("k") == "v"
    assert secondary.pop("k") == "v"
    secondary.delete("plain")
    assert secondary.get("plain") is None


def test_set_then_get_returns_the_value(storage: DiskCacheStorage) -> None:
    storage.set("oauth:state:abc", "payload")

    assert storage.get("oauth:state:abc") == "payload"
    assert storage.get("oauth:state:abc") == "payload"  # get does not consume


def test_missing_key_reads_as_none(storage: DiskCacheStorage) -> None:
    assert storage.get("missing") is None
    assert storage.pop("missing") is None
    assert len(storage) == 0


def test_empty_string_value_and_key_are_values_not_absence(
    storage: DiskCacheStorage,
) -> None:
    storage.set("empty", "")
    storage.set("", "under the empty key")

    assert storage.get("empty") == ""
    assert storage.get("") == "under the empty key"
    assert storage.keys() == ["", "empty"]
    assert storage.pop("empty") == ""
    assert storage.get("empty") is None


def test_set_overwrites_the_value(storage: DiskCacheStorage) -> None:
    storage.set("k", "first")
    storage.set("k", "second")

    assert storage.get("k") == "second"
    assert len(storage) == 1
    assert stored_rows(storage.directory) == 1


def test_delete_removes_the_key_and_missing_key_is_fine(
    storage: DiskCacheStorage,
) -> None:
    storage.set("k", "v")
    storage.set("other", "stays")

    storage.delete("k")
    storage.delete("k")
    storage.delete("never-set")

    assert storage.get("k") is None
    assert storage.get("other") == "stays"
    assert storage.keys() == ["other"]


def test_pop_returns_the_value_once_and_removes_it(storage: DiskCacheStorage) -> None:
    storage.set("code", "secret")
    storage.set("other", "stays")

    assert storage.pop("code") == "secret"
    assert storage.pop("code") is None
    assert storage.get("code") is None
    assert storage.get("other") == "stays"
    assert stored_rows(storage.directory) == 1


def test_overwrite_without_ttl_drops_the_old_ttl(storage: DiskCacheStorage) -> None:
    before = time.time()
    storage.set("k", "short-lived", ttl=100)
    recorded = expire_time(storage, "k")
    assert recorded is not None
    assert before + 100 <= recorded <= time.time() + 100

    storage.set("k", "forever")

    assert expire_time(storage, "k") is None
    assert storage.get("k") == "forever"


def test_overwrite_with_ttl_replaces_no_expiry_and_earlier_ttl(
    storage: DiskCacheStorage,
) -> None:
    storage.set("k", "forever")
    assert expire_time(storage, "k") is None

    before = time.time()
    storage.set("k", "a", ttl=50)
    first = expire_time(storage, "k")
    assert first is not None
    assert before + 50 <= first <= time.time() + 50

    before = time.time()
    storage.set("k", "b", ttl=5)
    second = expire_time(storage, "k")
    assert second is not None
    assert before + 5 <= second <= time.time() + 5
    assert storage.get("k") == "b"


def test_default_ttl_applies_when_ttl_is_none(tmp_path: Path) -> None:
    with DiskCacheStorage.from_path(tmp_path / "c", default_ttl=100) as storage:
        before = time.time()
        storage.set("k", "v")
        recorded = expire_time(storage, "k")
        assert recorded is not None
        assert before + 100 <= recorded <= time.time() + 100

        storage.set("k", "v", ttl=5)
        recorded = expire_time(storage, "k")
        assert recorded is not None
        assert recorded <= time.time() + 5

        # ttl=None means "the default", not "keep the previous TTL".
        before = time.time()
        storage.set("k", "v", ttl=None)
        recorded = expire_time(storage, "k")
        assert recorded is not None
        assert before + 100 <= recorded <= time.time() + 100
        assert storage.default_ttl == 100


@pytest.mark.parametrize("ttl", [0, -1, -0.5, -(10**6), float("-inf")])
def test_non_positive_ttl_deletes_an_existing_key(tmp_path: Path, ttl: float) -> None:
    # default_ttl must not turn an explicit "already expired" into a live value.
    with DiskCacheStorage.from_path(tmp_path / "c", default_ttl=60) as storage:
        storage.set("k", "live")
        storage.set("other", "stays")

        storage.set("k", "replacement", ttl=ttl)
        storage.set("never-set", "v", ttl=ttl)

        assert storage.get("k") is None
        assert storage.get("never-set") is None
        assert storage.keys() == ["other"]
        # Deleted outright, not stored as an expired row.
        assert stored_rows(storage.directory) == 1


def test_infinite_ttl_never_expires(storage: DiskCacheStorage) -> None:
    storage.set("k", "v", ttl=math.inf)

    assert storage.get("k") == "v"
    assert storage.keys() == ["k"]
    assert storage.purge_expired() == 0


# TTL expiry in real time


def test_expiry_is_enforced_on_every_read_before_any_cleanup(
    storage: DiskCacheStorage,
) -> None:
    for name in ("exp:a", "exp:b", "exp:c", "exp:d"):
        storage.set(name, f"value of {name}", ttl=SHORT_TTL)
    storage.set("keep:forever", "1")
    storage.set("keep:long", "2", ttl=60)
    storage.set("keep:overwritten", "3", ttl=SHORT_TTL)
    storage.set("keep:overwritten", "4")  # no TTL any more
    assert len(storage) == 7
    assert storage.get("exp:a") == "value of exp:a"

    time.sleep(PAST_SHORT_TTL)

    assert storage.get("exp:a") is None
    assert storage.pop("exp:b") is None
    assert storage.keys() == ["keep:forever", "keep:long", "keep:overwritten"]
    assert storage.keys("exp:") == []
    assert len(storage) == 3
    assert storage.get("keep:overwritten") == "4"
    # The expired rows are still on disk: the reads above filtered them out.
    assert stored_rows(storage.directory) == 7

    assert storage.purge_expired() == 4
    assert stored_rows(storage.directory) == 3
    assert storage.purge_expired() == 0
    assert storage.keys() == ["keep:forever", "keep:long", "keep:overwritten"]


def test_default_ttl_expires_values_in_real_time(tmp_path: Path) -> None:
    with DiskCacheStorage.from_path(tmp_path / "c", default_ttl=SHORT_TTL) as storage:
        storage.set("by-default", "v")
        storage.set("explicit", "v", ttl=60)
        assert storage.get("by-default") == "v"

        time.sleep(PAST_SHORT_TTL)

        assert storage.get("by-default") is None
        assert storage.pop("by-default") is None
        assert storage.keys() == ["explicit"]
        assert len(storage) == 1
        assert storage.purge_expired() == 1


def test_values_and_ttls_persist_across_close_and_reopen(cache_dir: Path) -> None:
    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set("forever", "a")
        storage.set("short", "b", ttl=SHORT_TTL)
        storage.set("long", "c", ttl=60)
        long_expiry = expire_time(storage, "long")

    time.sleep(PAST_SHORT_TTL)

    with DiskCacheStorage(cache_dir) as reopened:
        assert reopened.get("forever") == "a"
        assert reopened.get("long") == "c"
        assert reopened.get("short") is None
        assert reopened.keys() == ["forever", "long"]
        assert expire_time(reopened, "long") == long_expiry
        assert reopened.pop("forever") == "a"

    with DiskCacheStorage(str(cache_dir)) as again:
        assert again.get("forever") is None
        assert again.keys() == ["long"]


# Keys and values must be str; TTLs must be numbers


BAD_KEYS_AND_VALUES = [1, 1.5, b"bytes", None, object(), ("tuple",), ["list"]]


@pytest.mark.parametrize("bad", BAD_KEYS_AND_VALUES, ids=lambda v: type(v).__name__)
def test_non_str_keys_are_refused_and_store_nothing(storage: DiskCacheStorage, bad: Any) -> None:
    storage.set("existing", "v")
    name = type(bad).__name__

    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.set(bad, "value")
    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.get(bad)
    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.pop(bad)
    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.delete(bad)

    assert len(storage) == 1
    assert storage.keys() == ["existing"]
    assert stored_rows(storage.directory) == 1
    assert storage.get("existing") == "v"


def test_str_lookalike_keys_do_not_alias_str_keys(storage: DiskCacheStorage) -> None:
    # b"k" and 1 would be distinct diskcache keys from "k" and "1"; refusing
    # them means no caller can end up with two entries for "the same" key.
    storage.set("k", "v")
    storage.set("1", "one")
    with pytest.raises(TypeError):
        storage.set(b"k", "other")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        storage.set(1, "other")  # type: ignore[arg-type]
    assert storage.get("k") == "v"
    assert storage.get("1") == "one"


@pytest.mark.parametrize("bad", BAD_KEYS_AND_VALUES, ids=lambda v: type(v).__name__)
def test_non_str_values_are_refused_and_store_nothing(storage: DiskCacheStorage, bad: Any) -> None:
    storage.set("existing", "old")
    name = type(bad).__name__

    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.set("new", bad)
    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.set("existing", bad)
    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        storage.set("existing", bad, ttl=0)  # even when it would only delete

    assert storage.get("new") is None
    assert storage.get("existing") == "old"
    assert len(storage) == 1
    assert stored_rows(storage.directory) == 1


@pytest.mark.parametrize("bad_ttl", ["10", True, False, b"1", [1], object()])
def test_ttl_of_wrong_type_is_a_type_error(storage: DiskCacheStorage, bad_ttl: Any) -> None:
    storage.set("existing", "old", ttl=60)
    old_expiry = expire_time(storage, "existing")

    with pytest.raises(TypeError, match=type(bad_ttl).__name__):
        storage.set("new", "v", ttl=bad_ttl)
    with pytest.raises(TypeError, match=type(bad_ttl).__name__):
        storage.set("existing", "replacement", ttl=bad_ttl)

    assert storage.get("new") is None
    assert storage.get("existing") == "old"
    assert expire_time(storage, "existing") == old_expiry
    assert stored_rows(storage.directory) == 1


@pytest.mark.parametrize("bad_ttl", [math.nan, 10**400], ids=["nan", "10**400"])
def test_ttl_that_is_not_a_usable_number_is_a_value_error(
    storage: DiskCacheStorage, bad_ttl: Any
) -> None:
    storage.set("existing", "old")

    with pytest.raises(ValueError, match="ttl"):
        storage.set("existing", "replacement", ttl=bad_ttl)
    with pytest.raises(ValueError, match="ttl"):
        storage.set("new", "v", ttl=bad_ttl)

    assert storage.get("existing") == "old"
    assert storage.get("new") is None
    assert stored_rows(storage.directory) == 1


@pytest.mark.parametrize(
    ("default_ttl", "error"),
    [
        ("10", TypeError),
        (True, TypeError),
        (b"1", TypeError),
        (math.nan, ValueError),
        (0, ValueError),
        (-1, ValueError),
        (10**400, ValueError),
    ],
    ids=["str", "bool", "bytes", "nan", "zero", "negative", "10**400"],
)
def test_default_ttl_is_validated(
    tmp_path: Path, default_ttl: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match="default_ttl"):
        DiskCacheStorage(tmp_path / "c", default_ttl=default_ttl)
    with pytest.raises(error, match="default_ttl"):
        DiskCacheStorage.from_path(tmp_path / "c", default_ttl=default_ttl)


def test_keys_prefix_must_be_str(storage: DiskCacheStorage) -> None:
    with pytest.raises(TypeError, match="bytes"):
        storage.keys(b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="NoneType"):
        storage.keys(None)  # type: ignore[arg-type]


# Arbitrary text and large values

UNICODE_TEXTS = [
    "\x00",
    "nul\x00in\x00the\x00middle\x00",
    "emoji 🔑🎉👩\u200d💻 flags 🇫🇷",
    "astral \U0001d518\U0001d52b\U0001d526 \U00010000 \U0010ffff",
    "bmp edge \ufffe\uffff\ufeff",
    "combining e\u0301 vs \u00e9, rtl \u05e9\u05dc\u05d5\u05dd",
    "controls \r\n\t\x1b\x7f",
    "  leading and trailing space  ",
]


@pytest.mark.parametrize("text", UNICODE_TEXTS)
def test_arbitrary_unicode_round_trips_exactly(cache_dir: Path, text: str) -> None:
    key = f"key:{text}"
    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set(key, text)
        assert storage.get(key) == text
        assert storage.keys("key:") == [key]

    with DiskCacheStorage.from_path(cache_dir) as reopened:
        got = reopened.pop(key)
    assert got == text
    assert type(got) is str


@pytest.mark.parametrize(
    "big",
    [
        "x" * (5 * 2**20),
        "🔑" * 2**20,  # 1 Mi astral characters, 4 MiB of UTF-8
        "a\x00é🎉" * (2**19),
    ],
    ids=["ascii-5MiB", "emoji-4MiB", "mixed"],
)
def test_large_values_round_trip_and_stay_inside_the_database(cache_dir: Path, big: str) -> None:
    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set("big", big)
        assert storage.get("big") == big

    with DiskCacheStorage.from_path(cache_dir) as reopened:
        assert reopened.get("big") == big
        # No separate value files: everything lives in the 0600 database.
        extra = [
            p.name
            for p in cache_dir.iterdir()
            if not p.name.startswith(DBNAME)  # cache.db, -wal, -shm
        ]
        assert extra == []
        assert reopened.pop("big") == big
        assert reopened.get("big") is None


# keys(), len, independence


def test_keys_returns_live_keys_with_the_prefix_sorted(
    storage: DiskCacheStorage,
) -> None:
    names = [
        "b:2",
        "a:1",
        "a:10",
        "a:2",
        "ab",
        "a",
        "b:1",
        "a:\x00",
        "a:🔑",  # U+1F511: after U+FF5E by code point, before it in UTF-16
        "a:\uff5e",
        "a;",
        "A:upper",
        "",
    ]
    for name in names:
        storage.set(name, "v")
    storage.set("a:gone", "v", ttl=0)

    assert storage.keys() == sorted(names)
    assert storage.keys("a:") == sorted(n for n in names if n.startswith("a:"))
    assert storage.keys("a") == sorted(n for n in names if n.startswith("a"))
    assert storage.keys("a:1") == ["a:1", "a:10"]
    assert storage.keys("b:") == ["b:1", "b:2"]
    assert storage.keys("zzz") == []
    assert storage.keys("a:gone") == []
    assert len(storage) == len(names)


def test_keys_and_len_leave_out_rows_get_would_not_return(cache_dir: Path) -> None:
    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set("mine", "v")
        with contextlib.closing(diskcache.Cache(str(cache_dir))) as plain:
            plain.set(("tuple", "key"), "pickled key")
            plain.set(7, "int key")
            plain.set(b"bytes-key", "bytes key")
            plain.set("foreign:bytes", b"bytes value")
            plain.set("foreign:int", 42)
            plain.set("foreign:pickle", {"a": 1})
            plain.set("foreign:str", "plain text")

        readable = ["foreign:str", "mine"]
        assert storage.keys() == readable
        assert len(storage) == len(readable)
        listed = storage.keys()
        assert [k for k in listed if storage.get(k) is not None] == readable
        for unreadable in ("foreign:bytes", "foreign:int", "foreign:pickle"):
            assert storage.get(unreadable) is None
        assert storage.get("foreign:str") == "plain text"


def test_two_storages_on_two_directories_are_independent(tmp_path: Path) -> None:
    with (
        DiskCacheStorage.from_path(tmp_path / "one") as one,
        DiskCacheStorage.from_path(tmp_path / "two") as two,
    ):
        one.set("shared-name", "in one")
        two.set("shared-name", "in two")
        one.set("only-one", "x", ttl=60)

        assert one.pop("shared-name") == "in one"
        assert two.get("shared-name") == "in two"
        assert two.get("only-one") is None
        assert one.keys() == ["only-one"]
        assert two.keys() == ["shared-name"]
        assert len(one) == len(two) == 1
        assert one.directory != two.directory


def test_two_storages_on_one_directory_share_state(cache_dir: Path) -> None:
    with (
        DiskCacheStorage.from_path(cache_dir) as writer,
        DiskCacheStorage.from_path(cache_dir) as reader,
    ):
        writer.set("k", "v")
        assert reader.get("k") == "v"
        assert reader.pop("k") == "v"
        assert writer.get("k") is None


# Never unpickle


UNPICKLED: list[str] = []


def _record_unpickling(tag: str) -> str:
    UNPICKLED.append(tag)
    return tag


class RecordsWhenUnpickled:
    """Unpickling this calls ``_record_unpickling`` in this process."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_record_unpickling, (self.tag,))


class RunsShellWhenUnpickled:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


@pytest.fixture
def unpickled() -> Iterator[list[str]]:
    UNPICKLED.clear()
    yield UNPICKLED
    UNPICKLED.clear()


@pytest.mark.parametrize("payload_kind", ["in-process", "shell"])
@pytest.mark.parametrize("where", ["inline", "value-file"])
def test_pickled_rows_read_as_absent_and_never_run(
    tmp_path: Path, unpickled: list[str], payload_kind: str, where: str
) -> None:
    cache_dir = tmp_path / "cache"
    marker = tmp_path / "pwned"
    tag = uuid.uuid4().hex

    def payload() -> object:
        if payload_kind == "shell":
            return RunsShellWhenUnpickled(marker)
        return RecordsWhenUnpickled(tag)

    def ran() -> bool:
        return marker.exists() if payload_kind == "shell" else tag in unpickled

    # A value file is what the default Disk uses for large values; a zero
    # threshold forces one for this small pickle.
    plain_settings = {"disk_min_file_size": 0} if where == "value-file" else {}

    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set("mine", "ok")
        with contextlib.closing(diskcache.Cache(str(cache_dir), **plain_settings)) as plain:
            plain.set("evil", payload())
        value_files = [p for p in cache_dir.rglob("*.val")]
        assert len(value_files) == (1 if where == "value-file" else 0)

        assert storage.get("evil") is None
        listed = storage.keys()
        assert "evil" not in listed
        assert len(storage) == 1
        assert stored_rows(cache_dir) == 2  # get leaves the row alone

        assert storage.pop("evil") is None
        assert stored_rows(cache_dir) == 1  # pop discards it
        assert list(cache_dir.rglob("*.val")) == []
        assert storage.get("mine") == "ok"

        # A TextDisk cache on the same directory refuses loudly.
        with contextlib.closing(diskcache.Cache(str(cache_dir))) as plain:
            plain.set("evil", payload())
        with (
            contextlib.closing(diskcache.Cache(str(cache_dir), disk=TextDisk)) as text,
            pytest.raises(UnsafeCacheValue),
        ):
            text.get("evil")

    assert not ran(), "the pickle payload was executed"

    # Control: the planted row is a live payload that an unpickling reader runs.
    with contextlib.closing(diskcache.Cache(str(cache_dir))) as plain:
        plain.get("evil")
    assert ran()


def test_text_disk_refuses_non_text_values_and_pickled_keys(cache_dir: Path) -> None:
    with contextlib.closing(diskcache.Cache(str(cache_dir))) as plain:
        plain.set(("pickled", "key"), "v")
    with contextlib.closing(diskcache.Cache(str(cache_dir), disk=TextDisk)) as text:
        for bad in (1, b"bytes", None, {"a": 1}):
            with pytest.raises(TypeError, match=type(bad).__name__):
                text.set("k", bad)
        assert "k" not in text
        with pytest.raises(UnsafeCacheValue):
            list(text)  # iterating would unpickle the tuple key
        text.set("k", "text is fine")
        assert text.get("k") == "text is fine"


# Caller-supplied caches and ownership


def test_a_cache_with_the_default_disk_is_refused(cache_dir: Path) -> None:
    with contextlib.closing(diskcache.Cache(str(cache_dir))) as plain:
        with pytest.raises(TypeError, match="TextDisk"):
            DiskCacheStorage(plain)
        plain.set("untouched", "v")
        assert plain.get("untouched") == "v"


def test_a_cache_with_another_disk_subclass_is_refused(cache_dir: Path) -> None:
    json_cache = diskcache.Cache(str(cache_dir), disk=diskcache.JSONDisk)
    with contextlib.closing(json_cache), pytest.raises(TypeError, match="TextDisk"):
        DiskCacheStorage(json_cache)


@pytest.mark.parametrize("bad", [42, None, b"/tmp/bytes-path", ["dir"]])
def test_something_that_is_neither_path_nor_cache_is_refused(bad: Any) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        DiskCacheStorage(bad)


def test_a_fanout_cache_is_refused(tmp_path: Path) -> None:
    fanout = diskcache.FanoutCache(str(tmp_path / "f"), shards=2)
    with contextlib.closing(fanout), pytest.raises(TypeError, match="FanoutCache"):
        DiskCacheStorage(fanout)


def test_a_text_disk_cache_is_used_and_left_open(cache_dir: Path) -> None:
    cache = diskcache.Cache(str(cache_dir), disk=TextDisk)
    try:
        storage = DiskCacheStorage(cache, default_ttl=60)
        assert storage.cache is cache
        assert storage.directory == cache_dir
        storage.set("k", "v")
        assert cache.get("k") == "v"  # written through the caller's cache
        # With diskcache's default 32 KiB threshold this value goes to a text
        # file beside the database; it is still a listed, readable entry.
        big = "x🔑" * 20_000
        storage.set("big", big)
        assert list(cache_dir.rglob("*.val")) != []
        assert storage.get("big") == big
        assert storage.keys() == ["big", "k"]
        assert len(storage) == 2
        assert storage.pop("big") == big
        assert list(cache_dir.rglob("*.val")) == []
        connection = cache._con

        storage.close()
        with DiskCacheStorage(cache) as scoped:
            assert scoped.get("k") == "v"

        connection.execute("SELECT 1")  # still open: not closed by either storage
        assert cache._con is connection
        assert cache.get("k") == "v"
    finally:
        cache.close()


@pytest.mark.parametrize("opener", ["from_path", "constructor", "context-manager"])
def test_a_storage_that_opened_its_cache_closes_it(cache_dir: Path, opener: str) -> None:
    if opener == "from_path":
        storage = DiskCacheStorage.from_path(str(cache_dir))
    else:
        storage = DiskCacheStorage(cache_dir)
    assert storage.directory == cache_dir
    assert isinstance(storage.cache.disk, TextDisk)
    storage.set("k", "v")
    connection = storage.cache._con

    if opener == "context-manager":
        with storage as entered:
            assert entered is storage
    else:
        storage.close()

    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")
    with DiskCacheStorage.from_path(cache_dir) as reopened:
        assert reopened.get("k") == "v"


# Permissions


def assert_private(cache_dir: Path) -> None:
    assert mode_of(cache_dir) == 0o700
    names = sorted(p.name for p in cache_dir.iterdir())
    assert DBNAME in names
    for path in cache_dir.iterdir():  # cache.db and its -wal / -shm, if present
        assert mode_of(path) == 0o600, f"{path.name} is {mode_of(path):o}"


def test_a_new_cache_directory_and_its_files_are_private(tmp_path: Path, umask: int) -> None:
    cache_dir = tmp_path / "nested" / "state" / "cache"
    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set("k", "v")  # a write, so WAL companions exist while open
        assert_private(cache_dir)
    assert_private(cache_dir)


def test_an_existing_loose_cache_is_tightened(tmp_path: Path, umask: int) -> None:
    cache_dir = tmp_path / "cache"
    with contextlib.closing(diskcache.Cache(str(cache_dir))):
        pass
    cache_dir.chmod(0o755)
    (cache_dir / DBNAME).chmod(0o644)

    with DiskCacheStorage(cache_dir) as storage:
        storage.set("k", "v")
        assert_private(cache_dir)


def test_a_directory_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a directory")
    target = blocker / "cache"

    with pytest.raises(StoreLocationError, match="a-regular-file") as raised:
        DiskCacheStorage.from_path(target)
    assert isinstance(raised.value, ValueError)
    with pytest.raises(StoreLocationError, match="a-regular-file"):
        DiskCacheStorage(str(target))
    assert blocker.read_text() == "not a directory"


def test_a_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("x")

    with pytest.raises(StoreLocationError, match="not a directory"):
        DiskCacheStorage.from_path(not_a_dir)
    assert not_a_dir.read_text() == "x"


def test_a_database_path_that_is_a_directory_is_a_clear_error(cache_dir: Path) -> None:
    (cache_dir / DBNAME).mkdir(parents=True)

    with pytest.raises(StoreLocationError, match=DBNAME):
        DiskCacheStorage.from_path(cache_dir)


# Racing pops


RACE_KEYS = 200


def fill_race(storage: DiskCacheStorage) -> dict[str, str]:
    run = uuid.uuid4().hex
    expected = {f"race:{i:03d}": f"value-{i}-{run}" for i in range(RACE_KEYS)}
    for key, value in expected.items():
        storage.set(key, value, ttl=60)
    return expected


def assert_each_value_popped_once(
    expected: dict[str, str], results: list[list[tuple[str, str]]]
) -> None:
    won = [pair for per_worker in results for pair in per_worker]
    counts = Counter(value for _, value in won)
    twice = sorted(value for value, n in counts.items() if n > 1)
    never = sorted(set(expected.values()) - set(counts))
    assert not twice, f"{len(twice)} values popped more than once, e.g. {twice[:3]}"
    assert not never, f"{len(never)} values never popped, e.g. {never[:3]}"
    assert counts == Counter(expected.values())
    assert sorted(won) == sorted(expected.items())  # and under the right key


@pytest.mark.parametrize("sharing", ["one-storage", "storage-per-thread"])
def test_threads_racing_pop_get_each_value_exactly_once(cache_dir: Path, sharing: str) -> None:
    threads_count = 8
    with DiskCacheStorage.from_path(cache_dir) as storage:
        expected = fill_race(storage)
        keys = list(expected)
        results: list[list[tuple[str, str]]] = [[] for _ in range(threads_count)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(threads_count)

        def worker(index: int) -> None:
            own = storage if sharing == "one-storage" else DiskCacheStorage(cache_dir)
            try:
                barrier.wait(timeout=30)
                for key in keys:
                    value = own.pop(key)
                    if value is not None:
                        results[index].append((key, value))
            except BaseException as error:
                errors.append(error)
            finally:
                own.cache.close()  # this thread's connection

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []

        assert_each_value_popped_once(expected, results)
        assert len(storage) == 0
        assert stored_rows(cache_dir) == 0


#: Rounds a cross-process race may take to show two workers popping at once: on a
#: loaded machine the processes may happen to run one after another.
RACE_ROUNDS = 3


def _pop_race_round(tmp_path: Path, cache_dir: Path, round_: int) -> list[tuple[float, float]]:
    """Five worker processes pop one filled cache at once; each value popped once; windows."""
    process_count = 5
    with DiskCacheStorage.from_path(cache_dir) as storage:
        expected = fill_race(storage)
    work = tmp_path / f"round-{round_}"
    work.mkdir()
    keys_json = work / "keys.json"
    keys_json.write_text(json.dumps(list(expected)), encoding="utf-8")
    go = work / "go"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )

    processes = []
    ready_files = []
    out_files = []
    for index in range(process_count):
        ready = work / f"ready-{index}"
        out = work / f"won-{index}.json"
        ready_files.append(ready)
        out_files.append(out)
        start = index * RACE_KEYS // process_count
        args = [str(cache_dir), str(keys_json), str(start), str(ready), str(go), str(out)]
        processes.append(
            subprocess.Popen(
                [sys.executable, str(POP_WORKER), *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        deadline = time.monotonic() + 30
        while not all(ready.exists() for ready in ready_files):
            failed = [p for p in processes if p.poll() not in (None, 0)]
            assert not failed, failed[0].communicate()[1]
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.005)
        go.touch()  # every worker is waiting: release them together
        for process in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    reports = [json.loads(out.read_text(encoding="utf-8")) for out in out_files]
    results = [[(key, value) for key, value in r["won"]] for r in reports]
    assert_each_value_popped_once(expected, results)
    with DiskCacheStorage.from_path(cache_dir) as storage:
        assert storage.keys() == []
        assert len(storage) == 0
    assert stored_rows(cache_dir) == 0
    return sorted((r["window"][0], r["window"][1]) for r in reports)


def test_processes_racing_pop_get_each_value_exactly_once(tmp_path: Path) -> None:
    """Every round: each value popped exactly once; in some round, pops really overlap.

    SQLite's busy handler is not fair, so one worker may still win most keys.
    """
    cache_dir = tmp_path / "cache"
    seen = []
    for round_ in range(RACE_ROUNDS):
        windows = _pop_race_round(tmp_path, cache_dir, round_)
        seen.append(windows)
        if any(
            later[0] < earlier[1]
            for i, earlier in enumerate(windows)
            for later in windows[i + 1 :]
        ):
            return
    raise AssertionError(f"in {RACE_ROUNDS} rounds the workers never popped at once: {seen}")


def test_missing_parent_directories_are_private_too(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        storage = DiskCacheStorage(tmp_path / "a" / "b" / "cache")
    finally:
        os.umask(old)
    storage.close()
    for directory in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "cache"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_purge_counts_every_expired_row(tmp_path: Path) -> None:
    with DiskCacheStorage(tmp_path / "cache") as storage:
        # Live while they are written (a slow machine must not let diskcache
        # cull them on the way), then all expired at once.
        for i in range(450):
            storage.set(f"k{i}", "v", ttl=60)
        # Many rows share one expiry instant across diskcache's 100-row pages.
        storage.cache._sql("UPDATE Cache SET expire_time = 1.0")
        assert storage.purge_expired() == 450
        assert storage.purge_expired() == 0


def test_a_caller_cache_opened_with_the_documented_settings_keeps_values_inside(
    tmp_path: Path,
) -> None:
    from cross_auth_lite.cache.storage import CACHE_SETTINGS

    cache = diskcache.Cache(str(tmp_path / "own"), disk=TextDisk, **CACHE_SETTINGS)
    try:
        storage = DiskCacheStorage(cache)
        storage.set("big", "x" * 200_000, ttl=60)
        assert storage.get("big") == "x" * 200_000
        files = [p.name for p in (tmp_path / "own").rglob("*") if p.is_file()]
        assert all(name.startswith("cache.db") for name in files), files
        assert cache.eviction_policy == "none"
    finally:
        cache.close()


def test_warnings_about_planted_rows_never_show_the_secret_part_of_a_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache_dir = tmp_path / "cache"
    secret = "Zt9-the-one-time-code"
    key = f"oauth:code:{secret}"
    with DiskCacheStorage.from_path(cache_dir) as storage:
        storage.set("mine", "ok")
        with contextlib.closing(diskcache.Cache(str(cache_dir))) as plain:
            plain.set(key, ("a", "pickled", "tuple"))
            plain.set(secret, ("no", "namespace"))
        with caplog.at_level(logging.DEBUG, logger="cross_auth_lite"):
            assert storage.get(key) is None
            assert storage.pop(key) is None
            assert storage.pop(secret) is None
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "ignoring a pickled cache row for key oauth:code:…",
        "discarded a pickled cache row for key oauth:code:…",
        "discarded a pickled cache row for key …",
    ]
    assert secret not in caplog.text
