"""diskcache's internals are reached from one module, and the store works without them.

Real cache directories and real processes: the capability check is made
once per process, so a failed one is simulated in a subprocess that removes
an internal from the real ``diskcache.Cache`` class before opening a store.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest
from diskcache.core import DBNAME

import cross_auth_lite
import cross_auth_lite as lite
from cross_auth_lite.adapters.portable import PORTABLE_ENV
from cross_auth_lite.cache.storage import CACHE_SETTINGS, DiskCacheStorage, TextDisk

PACKAGE = Path(cross_auth_lite.__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent

#: diskcache's private names, reached as an attribute of anything but our own ``self``.
PRIVATE_REACH = re.compile(
    r"(?<!\bself)\.(_sql|_sql_retry|_transact|_txn_id|_local|_page_size|_timeout|_disk"
    r"|_directory|_con)\b"
)
#: ... or named in a string (``getattr(cache, "_sql")``, a set of attribute names).
PRIVATE_NAME = re.compile(
    r"[\"'](_sql|_transact|_txn_id|_local|_page_size|_timeout|_disk|_directory|_con)[\"']"
)


def private_reaches(source: str) -> list[str]:
    return [m.group(0) for m in (*PRIVATE_REACH.finditer(source), *PRIVATE_NAME.finditer(source))]


def test_no_module_outside_the_adapters_names_diskcache_internals() -> None:
    found = {
        str(path.relative_to(PACKAGE)): reaches
        for path in PACKAGE.rglob("*.py")
        if "adapters" not in path.relative_to(PACKAGE).parts
        and (reaches := private_reaches(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_scan_finds_a_reach() -> None:
    assert private_reaches("rows = cache._sql('SELECT 1')") == ["._sql"]
    assert private_reaches("with storage.cache._transact() as t:") == ["._transact"]
    assert private_reaches("disk._directory = here") == ["._directory"]
    assert private_reaches('getattr(cache, "_local")') == ['"_local"']
    assert private_reaches("self._directory = here; self._sql_statements = 1") == []
    adapter = (PACKAGE / "adapters" / "diskcache_internals.py").read_text(encoding="utf-8")
    assert private_reaches(adapter)  # the adapter is where they are


PROBE_FAILS = """
import json, sys, warnings
import diskcache
# A "release" keeping each thread's connection by thread id instead of in
# Cache._local, where the fast paths look for it: diskcache works as before,
# the probe must notice.
import os, sqlite3, threading

def _con(self):
    connections = vars(self).setdefault("_connections", {})
    if threading.get_ident() not in connections:
        connections[threading.get_ident()] = sqlite3.connect(
            os.path.join(self._directory, "cache.db"), timeout=self._timeout, isolation_level=None
        )
    return connections[threading.get_ident()]

diskcache.Cache._con = property(_con)
import cross_auth_lite as lite
out = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with lite.open(sys.argv[1]) as store, lite.open(sys.argv[1] + "-2") as other:
        s = store.secondary
        s.set("k", "v", 60)
        s.set("gone", "v", 0)
        s.set("soon", "v", 0.2)
        s.set("forever", "f")
        out["get"] = s.get("k")
        out["gone"] = s.get("gone")
        out["keys"] = s.keys()
        out["len"] = len(s)
        import time; time.sleep(0.3)
        out["expired"] = s.get("soon")
        out["pop"] = [s.pop("k"), s.pop("k")]
        s.delete("forever")
        out["deleted"] = s.get("forever")
        other.secondary.set("x", "y")
        out["other"] = other.secondary.get("x")
        try:
            s.set("k", 1)
        except TypeError:
            out["type_error"] = True
        out["purged"] = s.purge_expired()
out["warnings"] = [(w.category.__name__, str(w.message)) for w in caught]
print(json.dumps(out))
"""


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_failed_check_warns_once_and_the_store_runs_on_the_public_api(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != PORTABLE_ENV}
    out = run_python(PROBE_FAILS, str(tmp_path / "store"), env=env)

    assert out.pop("warnings")  # what they say: the next test
    assert out == {
        "get": "v",
        "gone": None,
        "keys": ["forever", "k", "soon"],
        "len": 3,
        "expired": None,
        "pop": ["v", None],
        "deleted": None,
        "other": "y",
        "type_error": True,
        "purged": 1,
    }


def test_the_warning_of_a_failed_check_names_diskcache_and_its_version(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != PORTABLE_ENV}
    caught = run_python(PROBE_FAILS, str(tmp_path / "store"), env=env)["warnings"]
    ours = [message for category, message in caught if "cross-auth-lite" in message]
    assert len(ours) == 1, caught
    assert [c for c, m in caught if m in ours] == ["RuntimeWarning"]
    assert f"diskcache {diskcache.__version__}" in ours[0]
    assert "connection" in ours[0]


PORTABLE_ASKED = """
import json, sys, warnings
warnings.simplefilter("error")
import cross_auth_lite as lite
with lite.open(sys.argv[1]) as store:
    store.secondary.set("k", "v", 60)
    print(json.dumps([store.secondary._fast, store.secondary.pop("k")]))
"""


def test_portable_mode_asked_for_gives_a_portable_cache_without_a_warning(tmp_path: Path) -> None:
    env = {**os.environ, PORTABLE_ENV: "1"}
    assert run_python(PORTABLE_ASKED, str(tmp_path / "store"), env=env) == [False, "v"]
    env.pop(PORTABLE_ENV)
    assert run_python(PORTABLE_ASKED, str(tmp_path / "fast"), env=env) == [True, "v"]


# The fast paths against diskcache's public API: same rows, same answers

ROW = "key, raw, typeof(store_time), access_count, tag, size, mode, filename, value"
ROW += ", expire_time IS NULL"


@contextlib.contextmanager
def storage_in(
    directory: Path, monkeypatch: pytest.MonkeyPatch, *, portable: bool
) -> Iterator[DiskCacheStorage]:
    with monkeypatch.context() as env:
        if portable:
            env.setenv(PORTABLE_ENV, "1")
        else:
            env.delenv(PORTABLE_ENV, raising=False)
        storage = DiskCacheStorage(directory)
    assert storage._fast is not portable
    with storage:
        yield storage


def rows(directory: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(directory / DBNAME)) as con:
        return [tuple(r) for r in con.execute(f"SELECT {ROW} FROM Cache ORDER BY key")]


def exercise(storage: DiskCacheStorage) -> list[Any]:
    """The same calls, and what they answered."""
    answers: list[Any] = []
    storage.set("a", "1", 60)
    storage.set("b", "2")
    storage.set("c", "3", 60)
    storage.set("c", "three", 120)
    storage.set("d", "4", 0)
    storage.set("e", "", 60)
    storage.set("gone", "x", 60)
    storage.delete("gone")
    answers += [storage.get(k) for k in ("a", "b", "c", "d", "e", "gone", "missing")]
    answers += [
        storage.pop("a"),
        storage.pop("a"),
        storage.keys(),
        storage.keys("c"),
        len(storage),
    ]
    return answers


@pytest.mark.parametrize("writer", ["fast", "portable"])
def test_both_paths_write_the_same_rows_and_answer_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    with storage_in(tmp_path / "fast", monkeypatch, portable=False) as fast:
        fast_answers = exercise(fast)
    with storage_in(tmp_path / "portable", monkeypatch, portable=True) as portable:
        portable_answers = exercise(portable)
    assert fast_answers == portable_answers
    assert rows(tmp_path / "fast") == rows(tmp_path / "portable")

    # Each reads what the other wrote.
    source = tmp_path / writer
    with storage_in(source, monkeypatch, portable=writer == "fast") as reader:
        assert [reader.get(k) for k in ("b", "c", "e")] == ["2", "three", ""]
        assert reader.keys() == ["b", "c", "e"]
        assert reader.pop("c") == "three"
        reader.set("f", "new", 60)
    with storage_in(source, monkeypatch, portable=writer != "fast") as back:
        assert back.keys() == ["b", "e", "f"]
        assert back.pop("f") == "new"


def test_diskcache_reads_the_fast_paths_rows_as_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with storage_in(tmp_path / "cache", monkeypatch, portable=False) as fast:
        exercise(fast)
        fast.set("late", "v", 0.05)
    time.sleep(0.1)
    with contextlib.closing(
        diskcache.Cache(str(tmp_path / "cache"), disk=TextDisk, **CACHE_SETTINGS)
    ) as cache:
        assert cache.get("b") == "2"
        assert cache.get("late") is None
        assert sorted(cache.iterkeys()) == ["b", "c", "e", "late"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert cache.check() == []
        assert cache.expire() == 1
        assert cache.pop("c") == "three"
        assert len(cache) == 2


def test_expired_rows_go_in_batches_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for portable in (False, True):
        with storage_in(tmp_path / str(portable), monkeypatch, portable=portable) as storage:
            for i in range(30):
                storage.set(f"k{i}", "v", 60)
            storage.set("live", "v")
            later = time.time() + 120
            first = storage.purge_expired(limit=10, now=later)
            assert first == (30 if portable else 10)
            assert first + storage.purge_expired(now=later) == 30
            assert storage.keys() == ["live"]


def test_a_store_from_the_template_opens_the_usual_way_in_portable_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PORTABLE_ENV, "1")
    with lite.open(tmp_path / "store") as store:
        assert store.secondary._fast is False
        store.secondary.set("k", "v", 60)
        assert store.secondary.get("k") == "v"
    monkeypatch.delenv(PORTABLE_ENV)
    with lite.open(tmp_path / "again") as store:
        assert store.secondary._fast is True
        store.secondary.set("k", "v", 60)
        assert store.secondary.pop("k") == "v"


# The fast paths' own connections

PRAGMAS = ("auto_vacuum", "cache_size", "journal_mode", "mmap_size", "synchronous")
PRAGMAS += ("journal_size_limit", "busy_timeout")


def pragmas(connection: sqlite3.Connection) -> list[Any]:
    return [connection.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS]


def in_a_thread(call: Any) -> Any:
    """What ``call()`` returns in a new thread (where a cache has no connection yet)."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(call()))
    worker.start()
    worker.join()
    return out[0]


@pytest.mark.parametrize("copied", [True, False], ids=["template copy", "opened by diskcache"])
def test_a_connection_the_fast_paths_open_is_set_up_as_diskcache_sets_up_its_own(
    tmp_path: Path, copied: bool
) -> None:
    if copied:
        store = lite.open(tmp_path / "store")
        storage = store.secondary
    else:
        storage = DiskCacheStorage(tmp_path / "cache", busy_timeout=7.5)
    with contextlib.closing(storage):
        cache = storage.cache

        def fast() -> tuple[list[Any], bool]:
            storage.set("k", "v", 60)  # this thread's first statement opens its connection
            own = cache._local.con
            found = pragmas(own), cache._con is own
            cache.close()  # this thread's connection
            return found

        def diskcaches_own() -> list[Any]:
            found = pragmas(cache._con)  # diskcache reads Settings and sets each pragma
            cache.close()
            return found

        own, shared = in_a_thread(fast)
        assert shared  # diskcache's methods use the connection the fast paths opened
        assert own == in_a_thread(diskcaches_own)
        assert own[2:4] == ["wal", 2**26]
        assert own[-2:] == [4 * 2**20, 30000 if copied else 7500]
        assert storage.get("k") == "v"


def test_a_threads_first_read_does_not_wait_for_another_connections_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were a new connection to set the pragmas the file keeps (journal_mode,
    # auto_vacuum), its first read would be a write, waiting for this writer
    # until refused, and the thread would fall back to diskcache's connection.
    with contextlib.closing(
        lite.open(tmp_path / "store", busy_timeout=0.05, housekeeping=False)
    ) as store:
        store.secondary.set("k", "v", 60)
        fallbacks: list[int] = []
        diskcaches_own = diskcache.Cache._con
        monkeypatch.setattr(
            diskcache.Cache,
            "_con",
            property(lambda cache: fallbacks.append(1) or diskcaches_own.fget(cache)),
        )
        writer = sqlite3.connect(tmp_path / "store" / "cache" / DBNAME, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            assert in_a_thread(lambda: store.secondary.get("k")) == "v"
            assert fallbacks == []  # the thread's connection is the one the fast path opened
            writer.execute("ROLLBACK")
        finally:
            writer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_uses_a_connection_of_its_own(tmp_path: Path) -> None:
    with lite.open(tmp_path / "store") as store:
        storage = store.secondary
        storage.set("parent", "p", 60)
        parents = storage.cache._local.con
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer through the pipe, never return into pytest
            try:
                storage.set("child", "c", 60)
                answer = [storage.get("parent"), storage.cache._local.con is not parents]
                os.write(write, json.dumps(answer).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            answer = json.loads(pipe.read() or "null")
        os.waitpid(pid, 0)
        assert answer == ["p", True]
        assert storage.cache._local.con is parents
        assert storage.pop("child") == "c"
        assert storage.get("parent") == "p"
