"""``check``: integrity, schema version and permissions, one line per problem."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite.admin.check import check_permissions
from cross_auth_lite.database.schema import SCHEMA_VERSION
from cross_auth_lite.private_files import POSIX_PERMISSIONS, private_directory, private_file
from tests.read_only import read_only
from tests.test_cli_support import Result, assert_one_line_error, run, seed


@pytest.fixture
def data(data: Path) -> Path:
    """The shared ``data`` directory, seeded: every check here starts from a store."""
    seed(data)
    return data


def problems(result: Result) -> list[str]:
    return [line for line in result.out.splitlines() if line.startswith("PROBLEM  ")]


def sql(file: Path, *statements: str) -> None:
    connection = sqlite3.connect(file)
    with connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def test_a_healthy_store(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    result = run(capsys, data, "check")
    assert result.code == 0
    assert problems(result) == []
    assert result.out.splitlines()[-1] == f"no problems found in {data}"
    report = run(capsys, data, "check", "--json").json()
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["schema_version"] == SCHEMA_VERSION
    assert report["connections"] == "exclusive"


def test_a_loosened_file_is_reported_and_left_alone(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    file = data / "accounts.sqlite3"
    file.chmod(0o644)
    result = run(capsys, data, "check")
    assert result.code == 1
    assert problems(result) == [f"PROBLEM  {file}: permissions 0644, expected 0600"]
    assert result.out.splitlines()[-1] == f"1 problem found in {data}"
    assert (file.stat().st_mode & 0o777) == 0o644  # check looks, it does not fix


def test_a_loosened_directory_is_reported(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    (data / "cache").chmod(0o755)
    data.chmod(0o750)
    report = run(capsys, data, "check", "--json").json()
    assert report["ok"] is False
    assert report["problems"] == [
        f"{data}: permissions 0750, expected 0700",
        f"{data / 'cache'}: permissions 0755, expected 0700",
    ]


def test_opening_the_store_tightens_permissions_again(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    (data / "accounts.sqlite3").chmod(0o644)
    assert run(capsys, data, "stats").code == 0
    assert run(capsys, data, "check").code == 0


def test_a_stray_link_is_reported(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    (data / "link").symlink_to(data / "accounts.sqlite3")
    result = run(capsys, data, "check")
    assert problems(result) == [
        f"PROBLEM  {data / 'link'}: is a symbolic link; the store holds no links"
    ]


@pytest.mark.parametrize("relative", ["accounts.sqlite3", "cache/cache.db"])
def test_a_corrupt_file_is_reported(
    capsys: pytest.CaptureFixture[str], data: Path, relative: str
) -> None:
    file = data / relative
    file.write_bytes(b"definitely not SQLite\n" * 300)
    result = run(capsys, data, "check")
    assert result.code == 1
    assert problems(result) == [
        f"PROBLEM  {file} is not a usable SQLite database (file is not a database)"
    ]
    assert result.err == ""


def test_damaged_pages_are_reported(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    file = data / "accounts.sqlite3"
    page_size = 4096
    content = bytearray(file.read_bytes())
    assert len(content) >= 4 * page_size
    # Trash the b-tree pages after the schema page, keep the header intact.
    for page in range(1, len(content) // page_size):
        start = page * page_size
        content[start : start + 64] = b"\xa5" * 64
    file.write_bytes(bytes(content))
    result = run(capsys, data, "check")
    assert result.code == 1
    found = problems(result)
    assert found
    assert all(str(file) in line for line in found)
    assert "Traceback" not in result.out + result.err


def test_a_missing_cache_database_is_reported(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    (data / "cache" / "cache.db").unlink()
    result = run(capsys, data, "check")
    assert problems(result) == [f"PROBLEM  {data / 'cache' / 'cache.db'}: missing"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE lite_meta SET value = '99' WHERE key = 'schema_version'", "schema version 99"),
        ("UPDATE lite_meta SET value = 'x' WHERE key = 'schema_version'", "is not a number"),
        ("UPDATE lite_meta SET value = 'odd' WHERE key = 'connections'", "unknown connection"),
        ("DROP TABLE lite_meta", "no lite_meta table"),
        ("DROP TABLE sessions", "tables missing: sessions"),
    ],
)
def test_schema_problems(
    capsys: pytest.CaptureFixture[str], data: Path, statement: str, message: str
) -> None:
    sql(data / "accounts.sqlite3", statement)
    result = run(capsys, data, "check")
    assert result.code == 1
    assert len(problems(result)) == 1
    assert message in problems(result)[0]


def test_rows_pointing_at_missing_users(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    sql(
        data / "accounts.sqlite3",
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM users WHERE email = 'bob@example.com'",
    )
    report: dict[str, Any] = run(capsys, data, "check", "--json").json()
    assert report["ok"] is False
    assert len(report["problems"]) == 3  # bob's identity and two sessions
    assert all("refers to a missing users row" in line for line in report["problems"])


def test_check_without_a_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_one_line_error(run(capsys, tmp_path / "nowhere", "check"), contains="no store at")


@pytest.mark.skipif(not POSIX_PERMISSIONS, reason="no POSIX permissions")
def test_the_permission_count_says_directory_and_file_in_the_singular(tmp_path: Path) -> None:
    directory = private_directory(tmp_path / "one")
    private_file(directory / "only")
    report = lite.admin.CheckReport()
    check_permissions(directory, report)
    assert report.passed == ["permissions: 1 directory and 1 file are private"]
    private_directory(directory / "two")
    private_file(directory / "second")
    report = lite.admin.CheckReport()
    check_permissions(directory, report)
    assert report.passed == ["permissions: 2 directories and 2 files are private"]


def test_a_read_only_store_is_checked_and_said_to_be_read_only(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    files = [data, data / "cache", *(p for p in data.rglob("*") if p.is_file())]
    with read_only(*files):
        result = run(capsys, data, "check")
        report = run(capsys, data, "check", "--json").json()
    assert result.code == 1
    assert problems(result) == [
        f"PROBLEM  {where}: not writable (a read-only filesystem, or permissions), so the "
        f"store cannot be used until it is; {name} was checked read-only"
        for where, name in ((data, "accounts.sqlite3"), (data / "cache", "cache.db"))
    ]
    assert "not a usable SQLite database" not in result.out
    # What can be read is still verified.
    assert "accounts.sqlite3: integrity ok" in report["passed"]
    assert "accounts.sqlite3: foreign keys ok" in report["passed"]
    assert "cache.db: integrity ok" in report["passed"]
    assert report["schema_version"] == SCHEMA_VERSION
    assert run(capsys, data, "check").code == 0  # writable again: nothing left behind


def test_a_read_only_store_still_finds_damage(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    sql(
        data / "accounts.sqlite3", "UPDATE lite_meta SET value = '99' WHERE key = 'schema_version'"
    )
    with read_only(data, *(p for p in data.glob("accounts.sqlite3*"))):
        found = problems(run(capsys, data, "check"))
    assert len(found) == 2
    assert "not writable" in found[0]
    assert "schema version 99" in found[1]


def test_a_store_on_a_read_only_mount(tmp_path: Path) -> None:
    """The newcomer's case: a filesystem mounted read-only (root only: it needs a mount)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a read-only filesystem needs root and unshare")
    seed(tmp_path / "store")
    mount = tmp_path / "mount"
    mount.mkdir()
    script = (
        f"mount --bind {tmp_path / 'store'} {mount} && "
        f"mount -o remount,ro,bind {mount} && "
        f"exec {sys.executable} -m cross_auth_lite.cli --data {mount} check --json"
    )
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    if done.returncode not in (0, 1) or not done.stdout:
        pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.strip()}")
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [line.split(":")[0] for line in report["problems"]] == [str(mount), f"{mount}/cache"]
    assert all("not writable" in line for line in report["problems"])
    assert "accounts.sqlite3: integrity ok" in report["passed"]
    assert "cache.db: integrity ok" in report["passed"]
