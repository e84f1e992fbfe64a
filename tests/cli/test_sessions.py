"""``sessions list`` and ``sessions revoke`` against real stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.test_cli_support import assert_one_line_error, run


def listed(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> dict[int, str]:
    result = run(capsys, data, "sessions", "list", "--json", *args)
    assert result.code == 0, result.err
    return {item["id"]: item["status"] for item in result.json()}


def test_list_every_session_with_its_status(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    result = run(capsys, data, "sessions", "list", "--json")
    sessions = result.json()
    assert {item["id"]: item["status"] for item in sessions} == {
        ids["active"]: "active",
        ids["expired"]: "expired",
        ids["revoked"]: "revoked",
        ids["bob_active"]: "active",
        ids["dead"]: "expired",
    }
    first = sessions[0]
    assert first["user_email"] == "ada@example.com"
    assert first["client_name"] == "Laptop"
    assert first["ip"] == "192.0.2.1"
    assert first["expires_at"].endswith("Z")
    assert "token_hash" not in first
    assert "hash-active" not in result.out


@pytest.mark.parametrize(
    ("status", "names"),
    [
        ("active", {"active", "bob_active"}),
        ("expired", {"expired", "dead"}),
        ("revoked", {"revoked"}),
    ],
)
def test_list_by_status(
    capsys: pytest.CaptureFixture[str],
    data: Path,
    ids: dict[str, Any],
    status: str,
    names: set[str],
) -> None:
    assert set(listed(capsys, data, "--status", status)) == {ids[name] for name in names}


def test_list_by_user_and_limit(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    assert set(listed(capsys, data, "--user", "bob@example.com")) == {
        ids["bob_active"],
        ids["dead"],
    }
    both = listed(capsys, data, "--user", str(ids["ada"]), "--status", "active")
    assert both == {ids["active"]: "active"}
    assert list(listed(capsys, data, "--limit", "2")) == [ids["active"], ids["expired"]]
    assert listed(capsys, data, "--user", str(ids["nobody"])) == {}


def test_list_for_people(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    lines = run(capsys, data, "sessions", "list", "--status", "active").out.splitlines()
    assert lines[0].split()[:3] == ["ID", "USER", "STATUS"]
    assert lines[1].split()[:3] == [str(ids["active"]), "ada@example.com", "active"]
    assert "Laptop" in lines[1]
    assert len(lines) == 3
    assert run(capsys, data, "sessions", "list", "--user", "3").out == "no sessions match\n"


def test_list_for_an_unknown_user(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    result = run(capsys, data, "sessions", "list", "--user", "who@example.com")
    assert_one_line_error(result, contains="no user has id or email 'who@example.com'")


def test_revoke_one(capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]) -> None:
    result = run(capsys, data, "sessions", "revoke", str(ids["active"]), "--json")
    assert result.code == 0
    assert result.json() == {"revoked": 1, "session_id": ids["active"], "user_id": ids["ada"]}
    assert listed(capsys, data, "--user", "ada@example.com")[ids["active"]] == "revoked"
    assert listed(capsys, data, "--user", "bob@example.com")[ids["bob_active"]] == "active"
    with lite.open(data) as store:
        assert store.sessions.get_any(ids["active"]).revoked_at is not None


def test_revoke_an_already_revoked_session(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    result = run(capsys, data, "sessions", "revoke", str(ids["revoked"]))
    assert result.code == 0
    assert result.out.startswith(f"session {ids['revoked']} was already revoked at ")


def test_revoke_every_session_of_a_user(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    result = run(capsys, data, "sessions", "revoke", "--user", "ada@example.com")
    assert result.code == 0
    # The active and the expired one; the revoked one keeps its time.
    assert result.out == f"revoked 2 sessions of user {ids['ada']} <ada@example.com>\n"
    assert set(listed(capsys, data, "--user", "ada@example.com").values()) == {"revoked"}
    assert listed(capsys, data, "--user", "bob@example.com")[ids["bob_active"]] == "active"


@pytest.mark.parametrize("session_id", ["999", "abc", "-1"])
def test_revoke_an_unknown_session(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], session_id: str
) -> None:
    result = run(capsys, data, "sessions", "revoke", "--", session_id)
    assert_one_line_error(result, contains="no session has id")


@pytest.mark.parametrize("args", [(), ("1", "--user", "ada@example.com")])
def test_revoke_needs_exactly_one_target(
    capsys: pytest.CaptureFixture[str], data: Path, args: tuple[str, ...]
) -> None:
    assert_one_line_error(run(capsys, data, "sessions", "revoke", *args), code=2)
