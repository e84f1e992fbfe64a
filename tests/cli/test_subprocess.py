"""The installed ``cross-auth-lite`` script and ``python -m cross_auth_lite.cli``, run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_support import seed

SCRIPT = Path(sys.executable).with_name("cross-auth-lite")


def cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, module: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the script, or ``python -m module`` when a module is named."""
    command = [sys.executable, "-m", module] if module else [str(SCRIPT)]
    environment = {**os.environ, **(env or {})}
    environment.pop("CROSS_AUTH_LITE_DEBUG", None)
    return subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def assert_clean_failure(process: subprocess.CompletedProcess[str], contains: str) -> None:
    assert process.returncode == 1, process
    assert process.stdout == ""
    assert "Traceback" not in process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("cross-auth-lite: error: ")
    assert contains in lines[0]


@pytest.fixture(autouse=True)
def _needs_script() -> None:
    if not SCRIPT.exists():
        pytest.skip("the cross-auth-lite script is not installed in this environment")


def test_console_script_creates_and_lists_users(tmp_path: Path) -> None:
    env = {"CROSS_AUTH_LITE_DATA": str(tmp_path / "store")}
    assert cli("init", env=env).returncode == 0
    created = cli("users", "create", "Ada@Example.com", "--password-stdin", stdin="pw\n", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created user 1 <ada@example.com>, with a password\n"
    assert created.stderr == ""
    listed = cli("users", "list", "--json", env=env)
    assert listed.returncode == 0
    assert [user["email"] for user in json.loads(listed.stdout)] == ["ada@example.com"]


def test_module_entry_points(tmp_path: Path) -> None:
    seed(tmp_path / "store")
    process = cli("--data", str(tmp_path / "store"), "stats", "--json", module="cross_auth_lite")
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["users"]["total"] == 3
    usage = cli("--data", str(tmp_path / "store"), "nonsense", module="cross_auth_lite.cli")
    assert usage.returncode == 2
    assert len(usage.stderr.splitlines()) == 1


def test_export_import_round_trip_through_a_pipe(tmp_path: Path) -> None:
    seed(tmp_path / "store")
    exported = cli("--data", str(tmp_path / "store"), "export")
    assert exported.returncode == 0
    imported = cli("--data", str(tmp_path / "copy"), "import", "-", stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    again = cli("--data", str(tmp_path / "copy"), "export", module="cross_auth_lite.cli")
    assert again.stdout == exported.stdout


def test_failures_are_one_line_without_traceback(tmp_path: Path) -> None:
    data = tmp_path / "store"
    assert_clean_failure(cli("--data", str(data), "users", "list"), "no store at")
    seed(data)
    assert_clean_failure(cli("--data", str(data), "users", "show", "who"), "no user has id")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert_clean_failure(cli("--data", str(data), "import", str(bad)), "is not valid JSON")
    (data / "accounts.sqlite3").write_bytes(b"garbage" * 1000)
    assert_clean_failure(cli("--data", str(data), "stats"), "not a usable SQLite database")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_failure(cli("--data", str(blocker / "sub"), "init"), "cannot create")
