"""User and session administration, stats, purge and check, called as library functions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cross_auth._password import authenticate
from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite
from tests.factories import connect, signup

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[lite.LiteStore]:
    with lite.open(tmp_path / "store") as opened:
        yield opened


def session(store: lite.LiteStore, user_id: object, token: str, *, expires: datetime) -> object:
    return store.sessions.create(
        token_hash=token,
        user_id=user_id,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        expires_at=expires,
        user_agent="curl/8",
    )


def test_create_user_normalizes_and_hashes_a_password_login_accepts(
    store: lite.LiteStore,
) -> None:
    user = lite.admin.create_user(
        store, "  Ada@Example.COM ", verified=True, password="s3cret pass"
    )
    assert (user.email, user.email_verified) == ("ada@example.com", True)
    assert user.hashed_password != "s3cret pass"
    assert authenticate("ada@example.com", "s3cret pass", store.accounts) is not None
    assert authenticate("ada@example.com", "wrong", store.accounts) is None
    with pytest.raises(CrossAuthException) as taken:
        lite.admin.create_user(store, "ADA@example.com")
    assert taken.value.error == "email_already_registered"


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "a b@example.com", "@example.com"])
def test_create_user_refuses_what_is_not_an_address(store: lite.LiteStore, email: str) -> None:
    with pytest.raises(ValueError, match="does not look like an email address"):
        lite.admin.create_user(store, email)
    assert list(lite.admin.list_users(store)) == []


@pytest.mark.parametrize(
    "email",
    [
        "evil\x1b[31m@example.com",
        "a\x07b@example.com",
        "a\x9bb@example.com",
        "\u202eab@example.com",
    ],
)
def test_create_user_refuses_unprintable_characters_without_echoing_them(
    store: lite.LiteStore, email: str
) -> None:
    with pytest.raises(ValueError, match="does not look like an email address") as refused:
        lite.admin.create_user(store, email)
    assert all(char.isprintable() for char in str(refused.value))
    assert list(lite.admin.list_users(store)) == []


@pytest.mark.parametrize("password", ["", "x" * 73])
def test_unusable_passwords_are_refused_before_anything_is_written(
    store: lite.LiteStore, password: str
) -> None:
    with pytest.raises(ValueError, match="password"):
        lite.admin.create_user(store, "ada@example.com", password=password)
    assert lite.admin.find_user(store, "ada@example.com") is None


def test_find_user_by_id_or_email(store: lite.LiteStore) -> None:
    user = lite.admin.create_user(store, "ada@example.com")
    assert lite.admin.find_user(store, str(user.id)).id == user.id
    assert lite.admin.find_user(store, " ADA@example.com").id == user.id
    assert lite.admin.find_user(store, "nobody@example.com") is None
    assert lite.admin.find_user(store, "") is None


def test_list_users_pages_by_id_with_counts(store: lite.LiteStore) -> None:
    ada, _ = signup(store.accounts, "ada@example.com")
    connect(store.accounts, ada.id, "gh-2", is_login_method=False)
    grace = lite.admin.create_user(store, "grace@example.org")
    session(store, ada.id, "live", expires=NOW + timedelta(days=1))
    session(store, ada.id, "dead", expires=NOW - timedelta(hours=1))
    rows = list(lite.admin.list_users(store, now=NOW))
    assert [(r.email, r.identities, r.active_sessions) for r in rows] == [
        ("ada@example.com", 2, 1),
        ("grace@example.org", 0, 0),
    ]
    first = list(lite.admin.list_users(store, limit=1))
    assert [r.id for r in first] == [ada.id]
    assert [r.id for r in lite.admin.list_users(store, after=first[-1].id)] == [grace.id]
    assert [r.email for r in lite.admin.list_users(store, email_contains="EXAMPLE.ORG")] == [
        "grace@example.org"
    ]
    with pytest.raises(ValueError, match="limit"):
        list(lite.admin.list_users(store, limit=0))


def test_list_sessions_by_status_at_a_moment(store: lite.LiteStore) -> None:
    ada, _ = signup(store.accounts, "ada@example.com")
    live = session(store, ada.id, "live", expires=NOW + timedelta(days=1))
    dead = session(store, ada.id, "dead", expires=NOW - timedelta(hours=1))
    gone = session(store, ada.id, "gone", expires=NOW + timedelta(days=1))
    store.sessions.revoke(gone.id, revoked_at=NOW)
    by_status = {
        status: [s.id for s in lite.admin.list_sessions(store, status=status, now=NOW)]
        for status in lite.admin.SESSION_STATUSES
    }
    assert by_status == {"active": [live.id], "expired": [dead.id], "revoked": [gone.id]}
    rows = list(lite.admin.list_sessions(store, user_id=ada.id, now=NOW))
    assert [(r.status, r.user_email, r.user_agent) for r in rows] == [
        ("active", "ada@example.com", "curl/8"),
        ("expired", "ada@example.com", "curl/8"),
        ("revoked", "ada@example.com", "curl/8"),
    ]
    assert not hasattr(rows[0], "token_hash")
    assert list(lite.admin.list_sessions(store, user_id="abc")) == []
    with pytest.raises(ValueError, match="unknown status"):
        list(lite.admin.list_sessions(store, status="asleep"))


def test_delete_user_removes_identities_and_sessions(store: lite.LiteStore) -> None:
    ada, _ = signup(store.accounts, "ada@example.com")
    session(store, ada.id, "live", expires=NOW + timedelta(days=1))
    assert lite.admin.count_user_rows(store, ada.id) == (1, 1)
    assert lite.admin.delete_user(store, ada.id) == lite.admin.DeletedUser(
        user_id=ada.id, identities=1, sessions=1
    )
    assert lite.admin.find_user(store, "ada@example.com") is None
    assert store.sessions.get(token_hash="live", now=NOW) is None
    with pytest.raises(lite.UnknownUserError):
        lite.admin.delete_user(store, ada.id)


def test_stats_and_purge(store: lite.LiteStore) -> None:
    ada, _ = signup(store.accounts, "ada@example.com")
    session(store, ada.id, "live", expires=datetime.now(UTC) + timedelta(days=1))
    session(store, ada.id, "long dead", expires=datetime.now(UTC) - timedelta(days=40))
    store.secondary.set("state", "x", ttl=60)
    stats = lite.admin.store_stats(store)
    assert stats["users"]["total"] == 1
    assert stats["social_accounts"] == {"total": 1, "by_provider": {"github": 1}}
    assert stats["sessions"] == {"total": 2, "active": 1, "expired": 1, "revoked": 0}
    assert stats["cache"]["live_entries"] == 1
    result = lite.admin.purge_store(store)
    assert result == lite.admin.PurgeResult(cache_entries=0, sessions=1)
    assert lite.admin.store_stats(store)["sessions"]["total"] == 1
    assert lite.admin.DATABASE_FILENAME in lite.admin.directory_sizes(store.path)


def test_check_store_reports_without_changing_anything(tmp_path: Path) -> None:
    path = tmp_path / "store"
    lite.open(path).close()
    assert lite.admin.check_store(path).problems == []
    os.chmod(path, 0o755)
    report = lite.admin.check_store(path)
    assert report.problems == [f"{path}: permissions 0755, expected 0700"]
    assert os.stat(path).st_mode & 0o777 == 0o755  # reported, not repaired
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(lite.StoreNotFoundError, match="no store at"):
        lite.admin.check_store(empty)
    with pytest.raises(lite.StoreNotFoundError, match=r"\(the directory does not exist\)"):
        lite.admin.check_store(tmp_path / "missing")
    (tmp_path / "afile").write_text("not a store")
    with pytest.raises(lite.StoreNotFoundError, match=r"\(it is not a directory\)"):
        lite.admin.check_store(tmp_path / "afile")
