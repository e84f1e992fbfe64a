"""Every command on a store in PostgreSQL and Redis: by option, and by environment variable.

Runs against the session's real PostgreSQL server (a schema per test) and
Redis server; skipped, saying why, where they cannot run.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

import cross_auth_lite as lite
from tests.test_cli_support import assert_one_line_error, run, seed


@pytest.fixture
def urls(pg_url: str, redis_url: str) -> list[str]:
    """The store options of a store wholly on servers, seeded."""
    seed(None, database_url=pg_url, secondary_url=redis_url)
    return ["--database-url", pg_url, "--secondary-url", redis_url]


def test_every_command_follows_the_store_to_its_servers(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    urls: list[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # where the default --data, var/auth, would be
    stats = run(capsys, None, *urls, "stats", "--json").json()
    assert stats["users"]["total"] == 3
    assert stats["sessions"]["total"] == 5
    assert stats["cache"] is None  # Redis keeps its own counts

    listed = run(capsys, None, *urls, "users", "list", "--json").json()
    assert [user["email"] for user in listed] == ["ada@example.com", "bob@example.com", None]
    shown = run(capsys, None, *urls, "users", "show", "ada@example.com", "--json").json()
    assert [identity["provider"] for identity in shown["identities"]] == ["github", "google"]
    assert run(capsys, None, *urls, "users", "create", "new@example.com").code == 0
    deleted = run(capsys, None, *urls, "users", "delete", "new@example.com", "--yes")
    assert deleted.out.startswith("deleted user ")

    sessions = run(capsys, None, *urls, "sessions", "list", "--status", "active", "--json")
    assert len(sessions.json()) == 2
    revoked = run(capsys, None, *urls, "sessions", "revoke", "--user", "bob@example.com")
    assert revoked.out.startswith("revoked 2 sessions of user ")  # unrevoked, expired too

    purged = run(capsys, None, *urls, "purge", "--json").json()
    assert purged["sessions"] == 1  # bob's session that ended 60 days ago
    checked = run(capsys, None, *urls, "check")
    assert checked.code == 0, checked.out
    assert "schema version" in checked.out

    export = run(capsys, None, *urls, "export")
    assert '"email": "ada@example.com"' in export.out
    assert not (tmp_path / "var").exists()  # a store on servers needs no directory


def test_the_environment_names_the_servers(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_url: str,
    redis_url: str,
) -> None:
    monkeypatch.setenv("CROSS_AUTH_LITE_DATABASE_URL", pg_url)
    monkeypatch.setenv("CROSS_AUTH_LITE_SECONDARY_URL", redis_url)
    assert run(capsys, None, "init", "--json").json()["created"] is True
    assert run(capsys, None, "users", "create", "ada@example.com").code == 0
    with lite.open(None, database_url=pg_url, secondary_url=redis_url) as store:
        assert lite.admin.find_user(store, "ada@example.com") is not None
    assert run(capsys, None, "stats", "--json").json()["users"]["total"] == 1


def test_a_database_url_alone_keeps_the_cache_in_the_data_directory(
    capsys: pytest.CaptureFixture[str], pg_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "store"
    seed(data, database_url=pg_url)
    assert not (data / lite.admin.DATABASE_FILENAME).exists()
    stats = run(capsys, data, "--database-url", pg_url, "stats", "--json").json()
    assert stats["users"]["total"] == 3
    assert stats["cache"]["live_entries"] == 1


def test_backup_of_a_postgresql_store_points_at_pg_dump(
    capsys: pytest.CaptureFixture[str], urls: list[str], tmp_path: Path
) -> None:
    result = run(capsys, None, *urls, "backup", str(tmp_path / "copy"))
    assert_one_line_error(result, contains="pg_dump")
    assert not (tmp_path / "copy").exists()


def test_no_store_in_the_database_is_one_line(
    capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    for command in (("stats",), ("users", "list"), ("check",)):
        result = run(capsys, None, "--database-url", pg_url, *command)
        assert_one_line_error(result, contains="no cross-auth-lite store in")
        init = f"--database-url {shlex.quote(lite.redact_url(pg_url))} init"
        assert "; point --database-url at an existing store, or create one with: " in result.err
        assert init in result.err
