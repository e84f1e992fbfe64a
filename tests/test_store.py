"""lite.open(): the directory, its files, reopening, ephemeral stores, independence."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cross_auth import AccountsStorage, SecondaryStorage, SessionStorage

import cross_auth_lite as lite
from tests.factories import signup


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_layout_and_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = lite.open(tmp_path / "var" / "auth")
    finally:
        os.umask(old)
    with store:
        signup(store.accounts, "ada@example.com")
        store.secondary.set("k", "v")
        assert store.path == tmp_path / "var" / "auth"
        assert {p.name for p in store.path.iterdir()} >= {"accounts.sqlite3", "cache"}
        assert _mode(store.path) == 0o700
        assert _mode(store.path / "cache") == 0o700
        for file in store.path.rglob("*"):
            if file.is_file():
                assert _mode(file) == 0o600, file
        journal = store.database.execute_sql("PRAGMA journal_mode").fetchone()[0]
        foreign_keys = store.database.execute_sql("PRAGMA foreign_keys").fetchone()[0]
        assert (journal, foreign_keys) == ("wal", 1)


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s") as store:
        user, _ = signup(store.accounts, "ada@example.com")
        store.secondary.set("state", "xyz", ttl=60)
    assert store.closed

    with lite.open(tmp_path / "s") as reopened:
        assert reopened.accounts.find_user_by_id(user.id).email == "ada@example.com"
        assert reopened.secondary.get("state") == "xyz"


def test_ephemeral_store_is_removed_on_close() -> None:
    store = lite.open()
    path = store.path
    signup(store.accounts, "ada@example.com")
    assert store.ephemeral
    assert path.is_dir()
    store.close()
    store.close()  # twice is fine
    assert not path.exists()


_NEVER_CLOSED = """
import os, sys
import cross_auth_lite as lite
store = lite.open()
store.accounts.find_user_by_email("ada@example.com")  # connected: files open at exit
print(store.path, flush=True)
if sys.argv[1] == "fork":
    child = os.fork()
    if child == 0:
        sys.exit(0)  # a child's exit (its atexit hooks run) leaves its parent's store alone
    os.waitpid(child, 0)
    print(store.path.is_dir(), flush=True)
"""


@pytest.mark.parametrize("how", ["plain", "fork"])
def test_an_ephemeral_store_never_closed_is_removed_when_its_process_exits(how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _NEVER_CLOSED, how],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.split()
    path = Path(lines[0])
    assert path.name.startswith("cross-auth-lite-")
    if how == "fork":
        assert lines[1] == "True"
    assert not path.exists()


def test_cross_auth_kwargs_satisfy_the_protocols(store: lite.LiteStore) -> None:
    kwargs = store.cross_auth_kwargs()
    secondary: SecondaryStorage = kwargs["storage"]
    accounts: AccountsStorage = kwargs["accounts_storage"]
    sessions: SessionStorage = kwargs["session_storage"]
    assert (secondary, accounts, sessions) == (store.secondary, store.accounts, store.sessions)


def test_reopening_with_the_other_connection_mode_is_refused(tmp_path: Path) -> None:
    lite.open(tmp_path / "s").close()

    with pytest.raises(lite.SchemaError, match="exclusive connections"):
        lite.open(tmp_path / "s", shared_connections=True)
    with lite.open(tmp_path / "s") as store:  # still usable as created
        assert store.shared_connections is False


def test_a_store_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s") as store:
        store.database.execute_sql(
            "UPDATE lite_meta SET value = '999' WHERE key = 'schema_version'"
        )
    before = (tmp_path / "s" / "accounts.sqlite3").read_bytes()

    with pytest.raises(lite.SchemaError, match="schema version 999"):
        lite.open(tmp_path / "s")
    assert (tmp_path / "s" / "accounts.sqlite3").read_bytes() == before


@pytest.mark.parametrize("bad", [42, b"var/auth", ["var"]])
def test_path_must_be_a_path(bad: object) -> None:
    with pytest.raises(TypeError, match="path must be"):
        lite.open(bad)  # type: ignore[arg-type]


def test_unusable_locations_are_clear_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    with pytest.raises(ValueError, match="not a directory"):
        lite.open(a_file)
    with pytest.raises(ValueError, match="file"):
        lite.open(a_file / "store")

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "accounts.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match=r"accounts\.sqlite3"):
        lite.open(corrupt)


def test_two_stores_are_independent_from_any_thread(tmp_path: Path) -> None:
    first = lite.open(tmp_path / "one")
    second = lite.open(tmp_path / "two")
    try:
        assert first.models.User is not second.models.User
        errors: list[BaseException] = []

        def work(store: lite.LiteStore, prefix: str) -> None:
            try:
                for i in range(20):
                    signup(store.accounts, f"{prefix}{i}@example.com", f"{prefix}-{i}")
                    store.secondary.set(f"{prefix}{i}", prefix)
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [
            threading.Thread(target=work, args=(store, prefix))
            for store, prefix in ((first, "a"), (second, "b"), (first, "c"), (second, "d"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert first.models.User.select().count() == 40
        assert second.models.User.select().count() == 40
        assert first.accounts.find_user_by_email("b0@example.com") is None
        assert second.accounts.find_user_by_email("a0@example.com") is None
        assert first.secondary.keys("b") == []
        assert len(second.secondary.keys("d")) == 20
    finally:
        first.close()
        second.close()


def test_a_closed_store_refuses_work_from_every_thread(tmp_path: Path) -> None:
    """A web app's worker threads hold their own connections; close() ends them too."""
    store = lite.open()
    directory = store.path
    signup(store.accounts, "ada@example.com", "gh-1")
    outcomes: list[object] = []
    ready, closed = threading.Event(), threading.Event()

    def worker() -> None:
        store.accounts.find_user_by_email("ada@example.com")  # opens this thread's connection
        store.secondary.get("k")
        ready.set()
        closed.wait(10)
        for work in (
            lambda: signup(store.accounts, "late@example.com", "gh-2"),
            lambda: store.sessions.get_any(1),
            lambda: store.secondary.set("k", "v"),
        ):
            try:
                work()
            except lite.StoreClosedError as error:
                outcomes.append(type(error))
            else:
                outcomes.append("worked")

    thread = threading.Thread(target=worker)
    thread.start()
    ready.wait(10)
    store.close()
    closed.set()
    thread.join(10)

    assert outcomes == [lite.StoreClosedError] * 3
    assert not directory.exists()
    with pytest.raises(lite.StoreClosedError):
        store.accounts.find_user_by_email("ada@example.com")


def test_default_mode_follows_what_the_store_recorded(tmp_path: Path) -> None:
    lite.open(tmp_path / "shared", shared_connections=True).close()
    lite.open(tmp_path / "plain").close()

    with lite.open(tmp_path / "shared") as store:
        assert store.shared_connections is True
    with lite.open(tmp_path / "plain") as store:
        assert store.shared_connections is False
    with lite.open(tmp_path / "new") as store:
        assert store.shared_connections is False


def test_stores_opened_at_once_from_many_threads(tmp_path: Path) -> None:
    """Opening reads and writes lite_meta per database; stores must not cross."""
    errors: list[BaseException] = []
    opened: list[lite.LiteStore] = []
    barrier = threading.Barrier(8)

    def open_one(index: int, round_: int) -> None:
        barrier.wait()
        try:
            store = lite.open(tmp_path / f"s{index}", shared_connections=index % 2 == 0)
            opened.append(store)
            signup(store.accounts, f"u{index}-{round_}@example.com", f"gh-{index}-{round_}")
        except BaseException as error:  # surfaced below
            errors.append(error)

    for round_ in range(3):
        threads = [threading.Thread(target=open_one, args=(i, round_)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for store in opened:
            store.close()
        opened.clear()
        assert errors == []
    for index in range(8):
        with lite.open(tmp_path / f"s{index}") as store:
            assert store.shared_connections is (index % 2 == 0)
            assert store.models.User.select().count() == 3


# Directories lite.open() did not make


def test_a_non_empty_directory_without_a_store_is_refused_untouched(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    project.chmod(0o755)
    (project / "notes.txt").write_text("mine")
    with pytest.raises(lite.StoreExistsError, match=str(project)):
        lite.open(project)
    assert _mode(project) == 0o755
    assert [p.name for p in project.iterdir()] == ["notes.txt"]


def test_an_existing_empty_directory_is_used_with_its_mode_kept(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o750)
    old = os.umask(0o022)
    try:
        lite.open(shared).close()
    finally:
        os.umask(old)
    assert _mode(shared) == 0o750  # not ours to change; `check` reports it
    assert _mode(shared / "accounts.sqlite3") == 0o600
    assert _mode(shared / "cache") == 0o700
    with lite.open(shared) as store:  # holds a store now: opened again, still untouched
        assert not store.created
    assert _mode(shared) == 0o750
    assert lite.admin.check_store(shared).problems == [
        f"{shared}: permissions 0750, expected 0700"
    ]


def test_encryption_turned_on_says_when_an_open_gave_the_store_its_first_key(
    tmp_path: Path,
) -> None:
    pytest.importorskip("cryptography")
    key = lite.generate_key()
    with lite.open(tmp_path / "s") as store:
        assert store.encryption_turned_on is False
    with lite.open(tmp_path / "s", encryption_key=key) as store:
        assert store.encryption_turned_on is True
    with lite.open(tmp_path / "s", encryption_key=key) as store:
        assert store.encryption_turned_on is False
    with lite.open(tmp_path / "new", encryption_key=key) as store:  # created with a key
        assert store.encryption_turned_on is True


def test_a_cache_that_fails_to_close_still_lets_the_database_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = lite.open(tmp_path / "store")
    signup(store.accounts, "ada@example.com")

    def fail() -> None:
        raise OSError("the disk went away")

    monkeypatch.setattr(store.secondary.cache, "close", fail)
    with pytest.raises(OSError, match="the disk went away"):
        store.close()

    assert store.closed
    with pytest.raises(lite.StoreClosedError):
        store.accounts.find_user_by_email("ada@example.com")


@pytest.mark.parametrize("requested", [False, True], ids=["default", "portable"])
def test_portable_says_whether_the_store_runs_on_the_public_api_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requested: bool
) -> None:
    if requested:
        monkeypatch.setenv("CROSS_AUTH_LITE_PORTABLE", "1")
    with lite.open(tmp_path / "store") as store:
        assert store.portable is requested
        assert store.secondary.fast_paths is not requested
        store.secondary.set("oauth:state:a", "payload", 60)
        assert store.secondary.pop("oauth:state:a") == "payload"
    monkeypatch.delenv("CROSS_AUTH_LITE_PORTABLE", raising=False)
    with lite.open(tmp_path / "store") as reopened:  # the mode is chosen at each open
        assert reopened.portable is False


@pytest.mark.parametrize(
    "server",
    [
        {"secondary_url": "redis://127.0.0.1:1/0"},  # nothing listens on port 1
        {"database_url": "postgresql://ada@127.0.0.1:1/auth"},
    ],
    ids=["redis", "postgresql"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "empty"])
def test_a_server_that_cannot_be_reached_leaves_nothing_on_disk(
    tmp_path: Path, server: dict[str, str], existing: bool
) -> None:
    """The servers are connected before the directory is made, so a failed open makes none."""
    path = tmp_path / "parent" / "store"
    if existing:
        path.mkdir(parents=True)
    with pytest.raises(lite.ConnectionFailedError):
        lite.open(path, **server)
    if existing:
        assert list(path.iterdir()) == []
    else:
        assert list(tmp_path.iterdir()) == []
