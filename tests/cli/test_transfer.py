"""``export`` and ``import``: the document, round trips, and refusing bad or conflicting files."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite.database.schema import SCHEMA_VERSION
from tests.test_cli_support import PASSWORD_HASH, assert_one_line_error, run, seed

USER_COLUMNS = {"id", "email", "email_verified", "hashed_password", "created_at"}
SOCIAL_ACCOUNT_COLUMNS = {
    "id",
    "user_id",
    "provider",
    "provider_user_id",
    "provider_email",
    "provider_email_verified",
    "is_login_method",
    "access_token",
    "refresh_token",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "scope",
}
SESSION_COLUMNS = {
    "id",
    "user_id",
    "token_hash",
    "created_at",
    "updated_at",
    "expires_at",
    "last_active_at",
    "revoked_at",
    "client_id",
    "client_name",
    "user_agent",
    "ip",
}


def export_text(capsys: pytest.CaptureFixture[str], data: Path) -> str:
    result = run(capsys, data, "export")
    assert result.code == 0, result.err
    return result.out


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def count_users(data: Path) -> int:
    with lite.open(data) as store:
        return int(store.models.User.select().count())


# export


def test_export_holds_every_column(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    document = json.loads(export_text(capsys, data))
    assert document["format"] == "cross-auth-lite-export"
    assert document["version"] == 1
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["connections"] == "exclusive"
    assert [user["id"] for user in document["users"]] == [ids["ada"], ids["bob"], ids["nobody"]]
    assert all(set(user) == USER_COLUMNS for user in document["users"])
    assert all(set(item) == SOCIAL_ACCOUNT_COLUMNS for item in document["social_accounts"])
    assert all(set(item) == SESSION_COLUMNS for item in document["sessions"])
    assert document["users"][0]["hashed_password"] == PASSWORD_HASH
    github = document["social_accounts"][0]
    assert github["access_token"] == "access-secret"
    assert github["user_id"] == ids["ada"]
    session = document["sessions"][0]
    assert session["token_hash"] == "hash-active"
    assert session["created_at"].endswith("Z")
    assert len(session["created_at"]) == len("2026-01-01T00:00:00.000000Z")


def test_export_of_an_empty_store(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    run(capsys, data, "init")
    document = json.loads(export_text(capsys, data))
    assert document["users"] == document["social_accounts"] == document["sessions"] == []


def test_export_to_a_private_file(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "backup.json"
    target.write_text("old")
    target.chmod(0o644)
    result = run(capsys, data, "export", "--output", str(target))
    assert result.code == 0
    assert result.out == f"exported 3 users, 3 social accounts and 5 sessions to {target}\n"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert target.read_text() == export_text(capsys, data)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["backup.json", "store"]


def test_export_to_an_unwritable_place(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    result = run(capsys, data, "export", "-o", str(tmp_path / "missing" / "backup.json"))
    assert_one_line_error(result, contains="No such file or directory")
    result = run(capsys, data, "export", "-o", str(tmp_path))
    assert_one_line_error(result, contains="is a directory")


# Round trips


@pytest.mark.parametrize("shared", [False, True])
def test_round_trip_into_a_fresh_store_exports_identically(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared: bool
) -> None:
    source, copy = tmp_path / "source", tmp_path / "copy"
    seed(source, shared_connections=shared)
    original = export_text(capsys, source)
    backup = write(tmp_path / "backup.json", original)
    result = run(capsys, copy, "import", str(backup))
    assert result.code == 0, result.err
    assert result.out == (
        f"imported 3 users, 3 social accounts and 5 sessions into a new store at {copy}\n"
    )
    assert export_text(capsys, copy) == original
    assert run(capsys, copy, "check").code == 0


def test_imported_store_works(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    backup = write(tmp_path / "backup.json", export_text(capsys, data))
    copy = tmp_path / "copy"
    run(capsys, copy, "import", str(backup))
    with lite.open(copy) as store:
        ada = store.accounts.find_user_by_email("ada@example.com")
        assert ada.id == ids["ada"]
        assert [a.provider for a in store.accounts.list_social_accounts(user_id=ada.id)] == [
            "github",
            "google",
        ]
        session = store.sessions.get_any(ids["active"])
        assert session.user_id == ids["ada"]
        assert session.status == "active"
        # New rows continue after the imported ids.
        assert store.accounts.create_user(user_info={}, email="new@example.com").id > ids["nobody"]


def test_import_into_an_existing_store(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    backup = write(tmp_path / "backup.json", export_text(capsys, data))
    copy = tmp_path / "copy"
    run(capsys, copy, "init")
    result = run(capsys, copy, "import", str(backup), "--json")
    assert result.json() == {
        "path": str(copy.absolute()),
        "created": False,
        "imported": {"users": 3, "social_accounts": 3, "sessions": 5},
    }


def test_import_from_stdin(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    ids: dict[str, Any],
    tmp_path: Path,
) -> None:
    original = export_text(capsys, data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(original))
    assert run(capsys, tmp_path / "copy", "import", "-").code == 0
    assert export_text(capsys, tmp_path / "copy") == original


def test_bad_stdin_is_named_as_such(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = run(capsys, tmp_path / "copy", "import", "-")
    assert_one_line_error(result, contains="standard input is not valid JSON")
    assert not (tmp_path / "copy").exists()


def test_exclusive_export_into_a_shared_store(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    backup = write(tmp_path / "backup.json", export_text(capsys, data))
    run(capsys, tmp_path / "shared", "init", "--shared-connections")
    assert run(capsys, tmp_path / "shared", "import", str(backup)).code == 0


def test_shared_export_into_an_exclusive_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed(tmp_path / "source", shared_connections=True)
    backup = write(tmp_path / "backup.json", export_text(capsys, tmp_path / "source"))
    run(capsys, tmp_path / "target", "init")
    result = run(capsys, tmp_path / "target", "import", str(backup))
    assert_one_line_error(result, contains="shared connections")


# Conflicts


def test_import_into_the_same_store_is_refused_whole(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    original = export_text(capsys, data)
    document = json.loads(original)
    # A new user first, so that a partial import would be visible.
    document["users"].insert(0, {**document["users"][1], "id": 100, "email": "new@example.com"})
    result = run(capsys, data, "import", str(write(tmp_path / "backup.json", document)))
    assert_one_line_error(result, contains="import refused, nothing imported: users[1]")
    assert "users.id must be unique" in result.err
    assert export_text(capsys, data) == original


def test_conflicting_email_is_named(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    document = json.loads(export_text(capsys, data))
    document["users"] = [{**document["users"][0], "id": 100}]
    document["social_accounts"] = document["sessions"] = []
    result = run(capsys, data, "import", str(write(tmp_path / "backup.json", document)))
    assert_one_line_error(result, contains="users[0] (id 100)")
    assert "users.email must be unique" in result.err
    assert count_users(data) == 3


def test_identity_of_a_missing_user_is_refused(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    document = json.loads(export_text(capsys, data))
    document["users"] = document["sessions"] = []
    document["social_accounts"] = [{**document["social_accounts"][0], "user_id": 999}]
    result = run(capsys, tmp_path / "copy", "import", str(write(tmp_path / "b.json", document)))
    assert_one_line_error(result, contains="belongs to user 999")
    assert not (tmp_path / "copy").exists()


def test_a_refused_import_leaves_no_store_behind(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    document = json.loads(export_text(capsys, data))
    document["users"].append({**document["users"][0], "id": 100})  # ada's email again
    backup = write(tmp_path / "backup.json", document)
    place = tmp_path / "place"
    empty = place / "empty"
    empty.mkdir(parents=True)

    for target in (place / "new", place / "new" / "nested" / "store", empty):
        result = run(capsys, target, "import", str(backup))
        assert_one_line_error(result, contains="users[3] (id 100) conflicts")
        assert "users.email must be unique" in result.err

    assert [path.name for path in place.iterdir()] == ["empty"]
    assert list(empty.iterdir()) == []


# Bad files


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("", "is not valid JSON"),
        ("[1, 2]", "not a cross-auth-lite export"),
        ('{"hello": 1}', "not a cross-auth-lite export"),
        ('{"format": "cross-auth-lite-export", "version": 2}', "reads up to 1"),
        ('{"format": "cross-auth-lite-export", "version": "1"}', "version must be"),
        (
            '{"format": "cross-auth-lite-export", "version": 1, "user": []}',
            "unknown key(s) 'user'",
        ),
        (
            '{"format": "cross-auth-lite-export", "version": 1, "users": {}}',
            "users must be a list",
        ),
    ],
)
def test_bad_files_are_refused_before_touching_the_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    target = tmp_path / "target"
    result = run(capsys, target, "import", str(write(tmp_path / "bad.json", content)))
    assert_one_line_error(result, contains=message)
    assert not target.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email_verified": "yes"}, "users[0]: email_verified must be true or false"),
        ({"id": "1"}, "users[0]: id must be a whole number"),
        ({"id": None}, "users[0]: id must not be null"),
        ({"email": 5}, "users[0]: email must be a string"),
        ({"nickname": "x"}, "users[0]: unknown column(s) 'nickname'"),
    ],
)
def test_bad_values_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    user = {"id": 1, "email": "a@example.com", "email_verified": False, "hashed_password": None}
    document = {"format": "cross-auth-lite-export", "version": 1, "users": [{**user, **change}]}
    result = run(capsys, tmp_path / "t", "import", str(write(tmp_path / "bad.json", document)))
    assert_one_line_error(result, contains=message)


def test_bad_times_and_missing_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    session = {"id": 1, "user_id": 1, "token_hash": "h", "created_at": "yesterday"}
    document = {"format": "cross-auth-lite-export", "version": 1, "sessions": [session]}
    result = run(capsys, tmp_path / "t", "import", str(write(tmp_path / "bad.json", document)))
    assert_one_line_error(result, contains="sessions[0]: created_at must be an ISO-8601 time")
    del session["created_at"]
    result = run(capsys, tmp_path / "t", "import", str(write(tmp_path / "bad.json", document)))
    assert_one_line_error(result, contains="sessions[0]: created_at is missing")


def test_minimal_records_take_defaults(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = {"format": "cross-auth-lite-export", "version": 1, "users": [{"id": 7}]}
    data = tmp_path / "t"
    assert run(capsys, data, "import", str(write(tmp_path / "min.json", document))).code == 0
    users = json.loads(export_text(capsys, data))["users"]
    assert users == [
        {
            "id": 7,
            "email": None,
            "email_verified": False,
            "hashed_password": None,
            "created_at": None,
        }
    ]


def test_missing_and_non_utf8_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run(capsys, tmp_path / "t", "import", str(tmp_path / "nope.json"))
    assert_one_line_error(result, contains="cannot read")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(run(capsys, tmp_path / "t", "import", str(binary)), contains="UTF-8")
