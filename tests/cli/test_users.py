"""``users list / show / create / delete`` against real stores."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cross_auth._password import authenticate

import cross_auth_lite as lite
from tests.test_cli_support import PASSWORD_HASH, assert_one_line_error, run

SECRETS = ("access-secret", "refresh-secret", "hash-active", PASSWORD_HASH)


class FakeTerminal(io.StringIO):
    """A stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# list


def test_list_as_json(capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]) -> None:
    result = run(capsys, data, "users", "list", "--json")
    assert result.code == 0
    users = result.json()
    assert [user["id"] for user in users] == [ids["ada"], ids["bob"], ids["nobody"]]
    assert users[0] == {
        "id": ids["ada"],
        "email": "ada@example.com",
        "email_verified": True,
        "has_password": True,
        "identities": 2,
        "active_sessions": 1,
    }
    assert users[2]["email"] is None
    assert not any(secret in result.out for secret in SECRETS)


def test_list_as_a_table(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    lines = run(capsys, data, "users", "list").out.splitlines()
    assert lines[0].split() == [
        "ID",
        "EMAIL",
        "VERIFIED",
        "PASSWORD",
        "IDENTITIES",
        "ACTIVE",
        "SESSIONS",
    ]
    assert lines[1].split() == [str(ids["ada"]), "ada@example.com", "yes", "yes", "2", "1"]
    assert lines[3].split() == [str(ids["nobody"]), "-", "no", "no", "0", "0"]


def test_list_limit_and_filter(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    limited = run(capsys, data, "users", "list", "--limit", "1", "--json").json()
    assert [user["id"] for user in limited] == [ids["ada"]]
    found = run(capsys, data, "users", "list", "--email-contains", "BOB@", "--json").json()
    assert [user["id"] for user in found] == [ids["bob"]]
    for wildcard in ("%", "_"):  # matched literally, not as LIKE wildcards
        assert (
            run(capsys, data, "users", "list", "--email-contains", wildcard, "--json").json() == []
        )
    assert run(capsys, data, "users", "list", "--email-contains", "zzz").out == "no users match\n"


# show


def test_show_by_id_or_email(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    by_id = run(capsys, data, "users", "show", str(ids["ada"]), "--json")
    assert by_id.code == 0
    shown = by_id.json()
    assert shown["user"]["email"] == "ada@example.com"
    assert [item["provider"] for item in shown["identities"]] == ["github", "google"]
    github = shown["identities"][0]
    assert github["has_access_token"] is True
    assert github["access_token_expires_at"].endswith("Z")
    assert {item["id"]: item["status"] for item in shown["sessions"]} == {
        ids["active"]: "active",
        ids["expired"]: "expired",
        ids["revoked"]: "revoked",
    }
    assert not any(secret in by_id.out for secret in SECRETS)
    by_email = run(capsys, data, "users", "show", "  ADA@Example.com ", "--json")
    assert by_email.json() == shown


def test_show_for_people(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    out = run(capsys, data, "users", "show", "ada@example.com").out
    assert out.startswith(f"User {ids['ada']}\n")
    assert "Identities (2)" in out
    assert "Sessions (3)" in out
    assert "Laptop" in out
    assert "Mozilla/5.0" in out


@pytest.mark.parametrize("reference", ["999", "nobody@example.com", "abc", ""])
def test_show_unknown_user(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any], reference: str
) -> None:
    result = run(capsys, data, "users", "show", reference)
    assert_one_line_error(result, contains="no user has id or email")


# create


def test_create_normalizes_the_email(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    run(capsys, data, "init")
    result = run(capsys, data, "users", "create", "  New@Example.COM ", "--verified", "--json")
    assert result.code == 0
    assert result.json() == {
        "id": 1,
        "email": "new@example.com",
        "email_verified": True,
        "has_password": False,
    }
    plain = run(capsys, data, "users", "create", "plain@example.com")
    assert plain.out == "created user 2 <plain@example.com>\n"


def test_created_password_works_for_cross_auth_login(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    run(capsys, data, "init")
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass\n"))
    result = run(capsys, data, "users", "create", "new@example.com", "--password-stdin")
    assert result.code == 0, result.err
    assert result.out == "created user 1 <new@example.com>, with a password\n"
    assert result.err == ""  # passlib's bcrypt-version warning stays quiet
    with lite.open(data) as store:
        assert authenticate("new@example.com", "s3cret pass", store.accounts) is not None
        assert authenticate("new@example.com", "s3cret pass\n", store.accounts) is None


@pytest.mark.parametrize(
    ("stdin", "message"),
    [("", "password is empty"), ("\n", "password is empty"), ("x" * 73, "72 bytes")],
)
def test_create_refuses_unusable_passwords(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    stdin: str,
    message: str,
) -> None:
    run(capsys, data, "init")
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    result = run(capsys, data, "users", "create", "new@example.com", "--password-stdin")
    assert_one_line_error(result, contains=message)
    assert run(capsys, data, "users", "list", "--json").json() == []


def test_create_refuses_a_taken_email(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    ids: dict[str, Any],
) -> None:
    result = run(capsys, data, "users", "create", "ADA@example.com")
    assert_one_line_error(result, contains="a user with email ada@example.com already exists")
    unread = io.StringIO("pw\n")
    monkeypatch.setattr(sys, "stdin", unread)
    result = run(capsys, data, "users", "create", "ada@example.com", "--password-stdin")
    assert_one_line_error(result, contains="already exists")
    assert unread.tell() == 0  # refused before asking for the password


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "@example.com", "a b@example.com"])
def test_create_refuses_a_non_email(
    capsys: pytest.CaptureFixture[str], data: Path, email: str
) -> None:
    run(capsys, data, "init")
    assert_one_line_error(run(capsys, data, "users", "create", email), contains="email address")


def test_create_refuses_control_characters(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    run(capsys, data, "init")
    result = run(capsys, data, "users", "create", "evil\x1b[31m@example.com")
    assert_one_line_error(result, contains="email address")
    assert "\x1b" not in result.err


def test_stored_control_characters_never_reach_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    evil = "evil\x1b[31m\x9b@example.com"  # written by something other than the CLI
    with lite.open(data) as store:
        user = store.accounts.create_user(user_info={}, email=evil)
        now = datetime.now(UTC)
        store.sessions.create(
            token_hash="hash-evil",
            user_id=user.id,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(days=1),
            user_agent="agent\x1b]0;title\x07",
        )
    outputs = [
        run(capsys, data, "users", "list"),
        run(capsys, data, "users", "show", str(user.id)),
        run(capsys, data, "sessions", "list"),
        run(capsys, data, "sessions", "revoke", "--user", str(user.id)),
    ]
    monkeypatch.setattr(sys, "stdin", FakeTerminal("n\n"))
    outputs.append(run(capsys, data, "users", "delete", str(user.id)))
    outputs.append(run(capsys, data, "users", "delete", str(user.id), "--yes"))
    for result in outputs:
        assert result.code in (0, 1), result
        assert "evil" in result.out + result.err or "agent" in result.out, result
        assert not any(char in result.out + result.err for char in ("\x1b", "\x9b", "\x07")), (
            result
        )


# delete


def test_delete_cascades_to_identities_and_sessions(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    result = run(capsys, data, "users", "delete", "bob@example.com", "--yes", "--json")
    assert result.code == 0
    assert result.json() == {"deleted": {"user_id": ids["bob"], "identities": 1, "sessions": 2}}
    with lite.open(data) as store:
        models = store.models
        assert models.User.select().count() == 2
        assert (
            models.SocialAccount.select().where(models.SocialAccount.user == ids["bob"]).count()
            == 0
        )
        assert models.Session.select().where(models.Session.user == ids["bob"]).count() == 0
        assert models.Session.select().count() == 3  # ada's are untouched
    assert_one_line_error(run(capsys, data, "users", "delete", str(ids["bob"]), "--yes"))


def test_delete_asks_first(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    ids: dict[str, Any],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # not a terminal: no one to ask
    result = run(capsys, data, "users", "delete", "ada@example.com")
    assert_one_line_error(result, contains="without --yes")

    monkeypatch.setattr(sys, "stdin", FakeTerminal("n\n"))
    result = run(capsys, data, "users", "delete", "ada@example.com")
    assert (
        result.err
        == f"Delete user {ids['ada']} <ada@example.com>, 2 identities and 3 sessions? [y/N] "
    )
    assert (result.code, result.out) == (0, "nothing deleted\n")  # declining is no error
    monkeypatch.setattr(sys, "stdin", FakeTerminal("\n"))
    result = run(capsys, data, "users", "delete", "ada@example.com", "--json")
    assert (result.code, result.json()) == (0, {"deleted": None})
    assert run(capsys, data, "stats", "--json").json()["users"]["total"] == 3

    monkeypatch.setattr(sys, "stdin", FakeTerminal("yes\n"))
    result = run(capsys, data, "users", "delete", "ada@example.com")
    assert result.code == 0
    assert (
        result.out
        == f"deleted user {ids['ada']} <ada@example.com> with 2 identities and 3 sessions\n"
    )
    assert run(capsys, data, "stats", "--json").json()["users"]["total"] == 2


def test_list_pages_with_a_default_limit_and_says_how_many_more(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "many"
    with lite.open(data) as store:
        for number in range(105):
            store.accounts.create_user(user_info={}, email=f"u{number:03}@example.com")
    first = run(capsys, data, "users", "list")
    lines = first.out.splitlines()
    assert lines[0].split()[:2] == ["ID", "EMAIL"]
    assert len(lines) == 1 + 100  # the header and the default page
    assert first.err == "5 more users: continue with --after 100\n"
    rest = run(capsys, data, "users", "list", "--after", "100", "--json")
    assert [user["email"] for user in rest.json()] == [
        f"u{number:03}@example.com" for number in range(100, 105)
    ]
    assert rest.err == ""  # the last page says nothing more
    one = run(capsys, data, "users", "list", "--limit", "1", "--after", "104")
    assert one.out.splitlines()[1].split()[1] == "u104@example.com"
    assert one.err == ""


@pytest.mark.parametrize("password", ["", "x" * 73, "é" * 37])
def test_the_cli_applies_the_library_s_password_rules(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    password: str,
) -> None:
    with pytest.raises(ValueError, match="the password is") as refused:
        lite.check_password(password)
    run(capsys, data, "init")
    monkeypatch.setattr(sys, "stdin", io.StringIO(password))
    result = run(capsys, data, "users", "create", "new@example.com", "--password-stdin")
    assert_one_line_error(result, contains=str(refused.value))
    lite.check_password("x" * 72)  # the longest bcrypt uses whole
