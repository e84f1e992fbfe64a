"""Backups of a store in use: consistent, private, and openable like any store."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

import cross_auth_lite as lite
from cross_auth_lite.admin.backup import backup_store
from cross_auth_lite.cli import main
from tests.factories import signup


def test_backup_while_writers_run(tmp_path: Path) -> None:
    with lite.open(tmp_path / "live") as store:
        signup(store.accounts, "first@example.com", "gh-first")
        store.secondary.set("state", "abc", ttl=600)
        stop = threading.Event()

        def keep_signing_up() -> None:
            i = 0
            while not stop.is_set():
                signup(store.accounts, f"u{i}@example.com", f"gh-{i}")
                i += 1

        writer = threading.Thread(target=keep_signing_up)
        writer.start()
        try:
            copy = backup_store(store, tmp_path / "copy")
        finally:
            stop.set()
            writer.join()
        live_users = store.models.User.select().count()

    assert stat.S_IMODE(copy.stat().st_mode) == 0o700
    for file in copy.rglob("*"):
        if file.is_file():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600
    with lite.open(copy) as restored:
        check = restored.database.execute_sql("PRAGMA integrity_check").fetchone()[0]
        assert check == "ok"
        users = restored.models.User.select().count()
        assert 1 <= users <= live_users
        # A consistent snapshot: every user in it came with its identity.
        orphans = restored.database.execute_sql(
            "SELECT COUNT(*) FROM users WHERE id NOT IN (SELECT user_id FROM social_accounts)"
        ).fetchone()[0]
        assert orphans == 0
        assert restored.secondary.get("state") == "abc"


def test_backup_refuses_a_non_empty_destination(tmp_path: Path, store: lite.LiteStore) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "something").write_text("keep me")

    with pytest.raises(ValueError, match="not an empty directory"):
        backup_store(store, tmp_path / "taken")
    assert (tmp_path / "taken" / "something").read_text() == "keep me"


def test_a_backup_directory_that_cannot_be_made_is_called_that(
    tmp_path: Path, store: lite.LiteStore
) -> None:
    (tmp_path / "file").write_text("keep me")

    with pytest.raises(lite.StoreLocationError, match="cannot create backup directory"):
        backup_store(store, tmp_path / "file" / "backup")
    assert (tmp_path / "file").read_text() == "keep me"


def test_backup_onto_a_file_says_it_is_a_file(tmp_path: Path, store: lite.LiteStore) -> None:
    (tmp_path / "notes.txt").write_text("keep me")

    with pytest.raises(lite.StoreExistsError, match=r"notes\.txt is a file: a backup goes into"):
        backup_store(store, tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_cli_backup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with lite.open(data) as store:
        signup(store.accounts, "ada@example.com")

    assert main(["--data", str(data), "backup", str(tmp_path / "b")]) == 0
    assert "backed up 1 user to" in capsys.readouterr().out
    with lite.open(tmp_path / "b") as restored:
        assert restored.accounts.find_user_by_email("ada@example.com") is not None

    assert main(["--data", str(data), "backup", str(tmp_path / "b")]) == 1
    assert "not an empty directory" in capsys.readouterr().err


def test_a_backup_into_the_store_itself_is_refused(tmp_path: Path) -> None:
    with (
        lite.open(tmp_path / "store") as store,
        pytest.raises(lite.StoreLocationError, match="inside the store"),
    ):
        lite.admin.backup_store(store, tmp_path / "store" / "copy")
    assert not (tmp_path / "store" / "copy").exists()
