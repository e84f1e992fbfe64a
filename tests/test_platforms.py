"""Where the platform lacks the POSIX calls, private files degrade cleanly.

Windows has no ``os.O_NOFOLLOW``, no ``os.fchmod`` and no permission bits to
tighten (its files are guarded by ACLs); other platforms may lack one of the
calls. These tests take them away and use a store end to end.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite import private_files


def _use(path: Path) -> lite.admin.CheckReport:
    """Open a store, write a user, export and back it up, then check it."""
    with lite.open(path) as store:
        lite.admin.create_user(store, "ada@example.com")
        store.secondary.set("k", "v", ttl=60)
        assert store.secondary.pop("k") == "v"
        lite.admin.export_to_file(store, path.parent / "export.json")
        lite.admin.backup_store(store, path.parent / "backup")
    assert (path.parent / "export.json").read_text().count("ada@example.com") == 1
    return lite.admin.check_store(path)


@pytest.fixture
def without_posix_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "O_NOFOLLOW", raising=False)
    monkeypatch.delattr(os, "fchmod", raising=False)


def test_no_permissions_at_all_like_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, without_posix_calls: None
) -> None:
    monkeypatch.setattr(private_files, "POSIX_PERMISSIONS", False)

    def no_chmod(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("chmod called on a platform without POSIX permissions")

    monkeypatch.setattr(os, "chmod", no_chmod)
    old = os.umask(0o022)
    try:
        report = _use(tmp_path / "store")
    finally:
        os.umask(old)
    assert report.problems == []
    assert any("modes not checked" in line for line in report.passed)


def test_without_o_nofollow_and_fchmod_modes_still_hold(
    tmp_path: Path, without_posix_calls: None
) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions only")
    old = os.umask(0o022)
    try:
        report = _use(tmp_path / "store")
    finally:
        os.umask(old)
    assert report.problems == [], report.problems
    assert stat.S_IMODE((tmp_path / "export.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700


def test_without_o_nofollow_a_link_is_refused(tmp_path: Path, without_posix_calls: None) -> None:
    target = tmp_path / "elsewhere.sqlite3"
    target.write_bytes(b"")
    link = tmp_path / "accounts.sqlite3"
    try:
        link.symlink_to(target)
    except OSError:
        pytest.skip("cannot create symbolic links here")
    with pytest.raises(lite.StoreLocationError, match="symbolic link"):
        private_files.private_file(link)


def test_without_hard_links_a_store_is_built_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(1, "Operation not permitted")

    # A new store in an existing directory is otherwise a copy linked in place.
    monkeypatch.setattr(os, "link", no_link)
    (tmp_path / "store").mkdir(mode=0o700)
    report = _use(tmp_path / "store")
    assert report.problems == [], report.problems
    assert not list((tmp_path / "store").rglob(".*.tmp"))


def test_a_wal_file_removed_by_another_connection_meanwhile_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "accounts.sqlite3"
    database.write_bytes(b"")
    wal = tmp_path / "accounts.sqlite3-wal"
    wal.write_bytes(b"")
    is_file = Path.is_file

    def closing_connection(path: Path) -> bool:
        # Seen, then removed at once: the last connection of another thread closed.
        seen = is_file(path)
        if path == wal:
            wal.unlink(missing_ok=True)
        return seen

    monkeypatch.setattr(Path, "is_file", closing_connection)

    assert private_files.private_file(database) == database
    assert not wal.exists()
