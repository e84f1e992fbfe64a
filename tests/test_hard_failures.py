"""Locked, full, read-only and corrupt files: clear errors naming the file, nothing lost."""

from __future__ import annotations

import logging
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import cross_auth_lite as lite
from tests.factories import signup
from tests.read_only import read_only

ROOT = Path(__file__).resolve().parents[1]


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.failure_workers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


@contextmanager
def locked(path: Path, seconds: float = 3.0) -> Iterator[None]:
    holder = _worker("hold_write_lock", str(path), str(seconds))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait(10)


def _integrity(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_database_locked_by_another_process(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s", busy_timeout=0.3) as store:
        user, _ = signup(store.accounts, "ada@example.com", "gh-1")
        with locked(store.path / "accounts.sqlite3"):
            with pytest.raises(lite.StoreUnavailableError, match=r"accounts\.sqlite3: locked"):
                signup(store.accounts, "bob@example.com", "gh-2")
            # Readers are not blocked by a writer in WAL mode.
            assert store.accounts.find_user_by_id(user.id) is not None
        assert store.accounts.find_user_by_email("bob@example.com") is None
        signup(store.accounts, "bob@example.com", "gh-2")  # works again once released
        assert store.models.User.select().count() == 2


def test_a_cache_locked_by_another_process(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s", busy_timeout=0.3) as store:
        store.secondary.set("state", "kept", ttl=60)
        with locked(store.path / "cache" / "cache.db"):
            with pytest.raises(lite.StoreUnavailableError, match=r"cache\.db: locked"):
                store.secondary.pop("state")
            assert store.secondary.get("state") == "kept"
        assert store.secondary.pop("state") == "kept"


def test_a_full_disk_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with lite.open(path) as store:
        signup(store.accounts, "ada@example.com", "gh-1")
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())

    worker = _worker("write_with_file_size_limit", str(path), str(size + 200_000))
    output, _ = worker.communicate(timeout=120)

    assert "unavailable:" in output, output
    # SQLite reports a refused write in WAL mode as an I/O error, elsewhere as "full".
    assert "no space left" in output or "disk I/O error" in output
    assert "accounts.sqlite3" in output
    assert _integrity(path / "accounts.sqlite3") == "ok"
    with lite.open(path) as store:
        # Every user that exists has the identity it signed up with.
        orphans = store.database.execute_sql(
            "SELECT COUNT(*) FROM users WHERE id NOT IN (SELECT user_id FROM social_accounts)"
        ).fetchone()[0]
        assert orphans == 0
        assert store.models.User.select().count() > 1
        signup(store.accounts, "after@example.com", "after")  # usable again


def test_a_read_only_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with lite.open(path) as store:
        signup(store.accounts, "ada@example.com")
    files = [path, path / "cache", *(p for p in path.rglob("*") if p.is_file())]

    with read_only(*files), pytest.raises(ValueError, match="not writable") as raised:
        lite.open(path)
    assert str(path) in str(raised.value)

    with lite.open(path) as store:  # works again once the cause is gone
        assert store.accounts.find_user_by_email("ada@example.com") is not None
        signup(store.accounts, "bob@example.com", "gh-2")


def test_a_corrupt_cache_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s"
    lite.open(path).close()
    (path / "cache" / "cache.db").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (path / "cache" / f"cache.db{suffix}").unlink(missing_ok=True)

    with pytest.raises(ValueError, match=r"cache\.db"):
        lite.open(path)


def _damage_page(file: Path, page: int, page_size: int = 4096) -> None:
    """Overwrite page ``page`` (counted from 1) of the SQLite file ``file``."""
    content = bytearray(file.read_bytes())
    assert len(content) >= page * page_size
    content[(page - 1) * page_size : page * page_size] = b"\xa5" * page_size
    file.write_bytes(bytes(content))


def test_a_damaged_page_is_a_store_error_naming_the_file_for_an_app_too(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with lite.open(path) as store:
        for n in range(3):
            signup(store.accounts, f"user{n}@example.com", f"gh-{n}")
    _damage_page(path / "accounts.sqlite3", 3)

    # Opening reads the damaged file already, or the first lookup does.
    with (
        pytest.raises(lite.StoreUnavailableError) as raised,
        lite.open(path, housekeeping=False) as store,
    ):
        store.accounts.list_social_accounts(user_id=1)
    assert raised.value.path == str(path / "accounts.sqlite3")
    assert raised.value.reason.startswith("damaged (database disk image is malformed)")


@pytest.mark.parametrize("command", [["users", "list"], ["stats"]])
def test_a_damaged_page_is_an_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    from cross_auth_lite.cli import main

    path = tmp_path / "s"
    with lite.open(path) as store:
        for n in range(3):
            signup(store.accounts, f"user{n}@example.com", f"gh-{n}")
    _damage_page(path / "accounts.sqlite3", 3)

    assert main(["--data", str(path), *command]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"cross-auth-lite: error: {path / 'accounts.sqlite3'}: damaged (database disk image "
        "is malformed): 'cross-auth-lite check' reports what is wrong; restore the store "
        "from a backup\n"
    )
    assert lite.admin.check_store(path).damaged == [path / "accounts.sqlite3"]


def _root_page(file: Path, table: str) -> int:
    with sqlite3.connect(file) as db:
        (page,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    return int(page)


def test_housekeeping_on_a_damaged_store_warns_instead_of_waiting_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s"
    with lite.open(path) as store:
        table = store.models.Session._meta.table_name
    _damage_page(path / "accounts.sqlite3", _root_page(path / "accounts.sqlite3", table))

    settings = lite.HousekeepingSettings(first_delay=3600)
    with lite.open(path, housekeeping=settings) as store:
        assert store.housekeeper is not None
        caplog.set_level(logging.DEBUG, logger="cross_auth_lite.housekeeping")
        store.housekeeper._attempt_in_thread()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "damaged (database disk image is malformed)" in warnings[0].getMessage()


def test_a_cache_file_damaged_where_opening_reads_is_a_damaged_store(tmp_path: Path) -> None:
    path = tmp_path / "s"
    lite.open(path).close()
    cache_file = path / "cache" / "cache.db"
    _damage_page(cache_file, _root_page(cache_file, "Settings"))

    with pytest.raises(lite.StoreUnavailableError) as raised:
        lite.open(path)
    assert raised.value.damaged
    assert raised.value.path == str(cache_file)
    copied = pickle.loads(pickle.dumps(raised.value))
    assert (copied.path, copied.reason, copied.damaged) == (
        str(cache_file),
        raised.value.reason,
        True,
    )
