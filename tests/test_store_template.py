"""New stores are copies of a per-process template, indistinguishable from stores built anew.

A store is built from scratch in a directory that holds part of one (an
empty ``cache/``): that is what these tests compare copies with.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite.encryption import generate_key
from cross_auth_lite.private_files import create_private_file
from cross_auth_lite.store.template import store_template

pytestmark = pytest.mark.sqlite_only


def _no_link(*args: Any, **kwargs: Any) -> None:
    raise PermissionError(1, "Operation not permitted (no hard links here)")


def _modes(directory: Path) -> dict[str, tuple[str, int]]:
    """Every path under ``directory`` (itself included): its kind and permission bits."""
    found = {}
    for path in [directory, *sorted(directory.rglob("*"))]:
        mode = path.stat().st_mode
        kind = "dir" if stat.S_ISDIR(mode) else "file"
        found[str(path.relative_to(directory))] = (kind, stat.S_IMODE(mode))
    return found


def _contents(file: Path) -> dict[str, Any]:
    """What a SQLite file holds, as SQL sees it: schema, layout pragmas, small tables."""
    connection = sqlite3.connect(file)
    try:
        found: dict[str, Any] = {
            "schema": sorted(
                connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
            ),
            "integrity": connection.execute("PRAGMA integrity_check").fetchall(),
        }
        for pragma in ("auto_vacuum", "journal_mode", "page_size", "user_version", "encoding"):
            found[pragma] = connection.execute(f"PRAGMA {pragma}").fetchall()
        for table in ("lite_meta", "Settings"):
            if (table,) in connection.execute("SELECT name FROM sqlite_master"):
                found[table] = sorted(connection.execute(f"SELECT * FROM {table}"))
        for table in ("users", "social_accounts", "sessions", "Cache"):
            if (table,) in connection.execute("SELECT name FROM sqlite_master"):
                found[f"rows of {table}"] = connection.execute(
                    f"SELECT COUNT(*) FROM {table}"
                ).fetchall()
        return found
    finally:
        connection.close()


def _describe(directory: Path) -> dict[str, Any]:
    return {
        "modes": _modes(directory),
        "accounts": _contents(directory / "accounts.sqlite3"),
        "cache": _contents(directory / "cache" / "cache.db"),
    }


def _scratch_store(directory: Path, **options: Any) -> lite.LiteStore:
    """A store built from scratch: its directory already holds part of one (an empty cache/)."""
    (directory / "cache").mkdir(parents=True)
    directory.chmod(0o700)
    return lite.open(directory, **options)


def _ways_to_copy(tmp_path: Path) -> dict[str, Any]:
    """How a new store is copied: a new directory (beside others, or with missing parents),
    an empty one, an ephemeral store."""
    (tmp_path / "empty").mkdir(mode=0o700)
    return {
        "new": lambda **options: lite.open(tmp_path / "new", **options),
        "nested": lambda **options: lite.open(tmp_path / "nested" / "a" / "store", **options),
        "empty": lambda **options: lite.open(tmp_path / "empty", **options),
        "ephemeral": lambda **options: lite.open(**options),
    }


@pytest.mark.parametrize("shared", [False, True], ids=["exclusive", "shared"])
@pytest.mark.parametrize("way", ["new", "nested", "empty", "ephemeral"])
def test_a_copied_store_is_the_store_built_from_scratch(
    tmp_path: Path, umask: int, shared: bool, way: str
) -> None:
    with _ways_to_copy(tmp_path)[way](shared_connections=shared) as copied:
        assert copied.created
        assert copied.path is not None
        directory = copied.path
        # A copy connects on first use; a store built from scratch stays connected.
        assert copied.secondary.get("k") is None
        assert copied.accounts.find_user_by_email("ada@example.com") is None
        open_copied = _modes(directory)
        copied_now = _describe(directory)
    with _scratch_store(tmp_path / "scratch", shared_connections=shared) as scratch:
        assert scratch.created
        assert scratch.secondary.get("k") is None
        assert scratch.accounts.find_user_by_email("ada@example.com") is None
        open_scratch = _modes(tmp_path / "scratch")
        scratch_now = _describe(tmp_path / "scratch")
    assert open_copied == open_scratch  # the -wal and -shm files too, while open
    assert copied_now == scratch_now
    described = scratch_now
    assert {mode for kind, mode in described["modes"].values() if kind == "dir"} == {0o700}
    assert {mode for kind, mode in described["modes"].values() if kind == "file"} == {0o600}
    assert dict(described["accounts"]["lite_meta"]) == {
        "schema_version": str(lite.admin.SCHEMA_VERSION),
        "connections": "shared" if shared else "exclusive",
    }
    if way != "ephemeral":
        assert _describe(directory) == _describe(tmp_path / "scratch")  # once closed, too
    assert not list(tmp_path.rglob(".*.tmp"))  # no temporary file or directory left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"empty", "scratch", *([way] if way in ("new", "nested") else [])}
    )
    if way == "nested":  # missing parents are made 0700 too
        assert stat.S_IMODE((tmp_path / "nested" / "a").stat().st_mode) == 0o700


def test_without_hard_links_an_empty_directory_gets_a_store_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", _no_link)
    (tmp_path / "empty").mkdir(mode=0o700)
    with lite.open(tmp_path / "empty") as store:
        assert store.created
        lite.admin.create_user(store, "ada@example.com")
    with _scratch_store(tmp_path / "scratch") as scratch:
        lite.admin.create_user(scratch, "ada@example.com")
    assert _describe(tmp_path / "empty") == _describe(tmp_path / "scratch")
    assert not list(tmp_path.rglob(".*.tmp"))


def test_the_template_holds_nothing_of_one_store() -> None:
    for shared in (False, True):
        template = store_template(shared_connections=shared)
        assert template is not None
        assert template.meta == {
            "schema_version": str(lite.admin.SCHEMA_VERSION),
            "connections": "shared" if shared else "exclusive",
        }
    # Built once per process: the same bytes every time.
    assert store_template(shared_connections=False) is store_template(shared_connections=False)


def test_two_fresh_stores_are_independent(tmp_path: Path) -> None:
    key = generate_key()
    with (
        lite.open(tmp_path / "a", encryption_key=key) as a,
        lite.open(tmp_path / "b", encryption_key=key) as b,
        lite.open(tmp_path / "c") as c,
    ):
        lite.admin.create_user(a, "ada@example.com")
        a.secondary.set("oauth:state:x", "a's")
        assert b.accounts.find_user_by_email("ada@example.com") is None
        assert c.accounts.find_user_by_email("ada@example.com") is None
        assert b.secondary.get("oauth:state:x") is None
        b.secondary.set("oauth:state:x", "b's")
        assert a.secondary.get("oauth:state:x") == "a's"
        assert a.models.User is not b.models.User
        assert a.secondary.cache is not b.secondary.cache
        assert a.secondary.directory != b.secondary.directory
    meta = {name: _contents(tmp_path / name / "accounts.sqlite3")["lite_meta"] for name in "abc"}
    checks = {name: dict(rows).get("token_key_check") for name, rows in meta.items()}
    assert checks["a"]
    assert checks["b"]
    assert checks["a"] != checks["b"]  # each its own
    assert checks["c"] is None  # opened without a key: nothing recorded
    with pytest.raises(lite.EncryptionKeyError):
        lite.open(tmp_path / "a")
    with lite.open(tmp_path / "c") as c:
        assert not c.created
    inodes = {(tmp_path / name / "accounts.sqlite3").stat().st_ino for name in "abc"}
    assert len(inodes) == 3


def test_a_copied_store_takes_its_options(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s", default_ttl=60, busy_timeout=2.5) as store:
        assert store.created
        assert store.secondary.default_ttl == 60
        assert store.secondary.cache.timeout == 2.5
        database: Any = store.database
        assert database.execute_sql("PRAGMA busy_timeout").fetchone() == (2500,)
        assert database.execute_sql("PRAGMA foreign_keys").fetchone() == (1,)
        store.secondary.set("k", "v")
        (page_size,) = store.secondary.cache._sql("PRAGMA page_size").fetchone()
        assert page_size > 0
    with pytest.raises(lite.SchemaError):
        lite.open(tmp_path / "s", shared_connections=True)
    with lite.open(tmp_path / "s") as again:
        assert again.secondary.get("k") == "v"
        assert not again.created


def test_an_ephemeral_store_is_copied_and_removed(tmp_path: Path) -> None:
    store = lite.open()
    path = store.path
    assert path is not None
    assert store.created
    lite.admin.create_user(store, "ada@example.com")
    store.close()
    assert not path.exists()


def test_a_directory_holding_part_of_a_store_is_not_overwritten(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s", housekeeping=False) as store:
        lite.admin.create_user(store, "ada@example.com")
    (tmp_path / "s" / "cache" / "cache.db").unlink()  # half a store: opened as it is
    with lite.open(tmp_path / "s") as store:
        assert not store.created
        assert store.accounts.find_user_by_email("ada@example.com") is not None


def test_publishing_never_replaces_a_file(tmp_path: Path, umask: int) -> None:
    file = tmp_path / "f"
    assert create_private_file(file, b"first")
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not create_private_file(file, b"second")
    assert file.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_without_hard_links_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", _no_link)
    assert not create_private_file(tmp_path / "f", b"content")
    assert list(tmp_path.iterdir()) == []


def test_threads_creating_one_new_store_at_once_all_open_it(tmp_path: Path) -> None:
    for attempt in range(5):
        path = tmp_path / str(attempt)
        barrier = threading.Barrier(6)
        stores: list[lite.LiteStore] = []
        errors: list[BaseException] = []

        def open_it(
            path: Path = path,
            barrier: threading.Barrier = barrier,
            stores: list[lite.LiteStore] = stores,
            errors: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                stores.append(lite.open(path, housekeeping=False))
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        try:
            assert any(store.created for store in stores)
            lite.admin.create_user(stores[0], "ada@example.com")
            stores[1].secondary.set("k", "v")
            assert all(s.accounts.find_user_by_email("ada@example.com") for s in stores)
            assert all(s.secondary.get("k") == "v" for s in stores)
        finally:
            for store in stores:
                store.close()
        assert not list(path.rglob(".*.tmp"))
        assert {mode for kind, mode in _modes(path).values() if kind == "file"} == {0o600}


def test_a_copy_connects_on_first_use_and_its_errors_are_lite_errors(tmp_path: Path) -> None:
    store = lite.open(tmp_path / "s")
    database: Any = store.database
    assert database.is_closed()  # nothing to connect to until a statement needs it
    shutil.rmtree(tmp_path / "s")  # gone before its first use
    with pytest.raises(lite.StoreUnavailableError, match="cannot open the file"):
        store.accounts.find_user_by_email("ada@example.com")
    store.close()
    with lite.open(tmp_path / "t") as working:
        assert working.accounts.find_user_by_email("ada@example.com") is None
        assert not working.database.is_closed()  # connected by that first statement
