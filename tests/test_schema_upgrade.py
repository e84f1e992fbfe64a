"""Schema versions: older stores are upgraded in place, newer ones refused untouched."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import cross_auth_lite as lite
from cross_auth_lite.database.schema import SCHEMA_VERSION
from tests.factories import connect, signup

DATA = Path(__file__).parent / "data"


def make_v1_store(path: Path, *, shared: bool = False) -> None:
    """A store as the first release wrote it: version-1 tables and one user with an identity."""
    path.mkdir(mode=0o700)
    schema = (DATA / f"schema_v1_{'shared' if shared else 'exclusive'}.sql").read_text()
    with sqlite3.connect(path / "accounts.sqlite3") as db:
        db.executescript(schema)
        db.executemany(
            "INSERT INTO lite_meta VALUES (?, ?)",
            [("schema_version", "1"), ("connections", "shared" if shared else "exclusive")],
        )
        db.execute(
            "INSERT INTO users (id, email, email_verified) VALUES (7, 'old@example.com', 1)"
        )
        db.execute(
            "INSERT INTO social_accounts (id, provider, provider_user_id, is_login_method, "
            "access_token, user_id) VALUES (3, 'github', 'gh-old', 1, 'tok', 7)"
        )
        db.execute(
            "INSERT INTO sessions (token_hash, created_at, updated_at, expires_at, user_id) "
            "VALUES ('h', '2030-01-01 00:00:00.000000', '2030-01-01 00:00:00.000000', "
            "'2031-01-01 00:00:00.000000', 7)"
        )


@pytest.mark.parametrize("shared", [False, True])
def test_a_version_1_store_is_upgraded_in_place(tmp_path: Path, shared: bool) -> None:
    make_v1_store(tmp_path / "s", shared=shared)

    with lite.open(tmp_path / "s") as store:
        assert store.shared_connections is shared
        version = store.database.execute_sql(
            "SELECT value FROM lite_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert version == str(SCHEMA_VERSION) == "3"
        assert store.database.execute_sql("PRAGMA auto_vacuum").fetchone()[0] == 2
        old = store.accounts.find_user_by_id("7")
        assert old.email == "old@example.com"
        assert old.created_at is None  # unknown for users from before version 2
        assert store.accounts.find_social_account_by_id(3).access_token == "tok"
        assert store.sessions.get(token_hash="h", now=datetime(2030, 6, 1, tzinfo=UTC)) is not None

        before = datetime.now(UTC)
        new, _ = signup(store.accounts, "new@example.com", "gh-new")
        assert before <= store.accounts.find_user_by_id(new.id).created_at <= datetime.now(UTC)
        if shared:
            bob = store.accounts.create_user(user_info={"email": "bob@example.com"})
            assert (
                connect(store.accounts, bob.id, "gh-old", is_login_method=False).user_id == bob.id
            )

    with lite.open(tmp_path / "s") as reopened:  # the upgrade happens once
        assert reopened.models.User.select().count() == (3 if shared else 2)
        check = reopened.database.execute_sql("PRAGMA integrity_check").fetchone()[0]
        assert check == "ok"


def test_the_upgrade_is_all_or_nothing(tmp_path: Path) -> None:
    make_v1_store(tmp_path / "s")
    with sqlite3.connect(tmp_path / "s" / "accounts.sqlite3") as db:
        # A column of that name already there makes the upgrade fail half-way.
        db.execute("ALTER TABLE users ADD COLUMN created_at TEXT")
        db.execute("UPDATE lite_meta SET value = '1' WHERE key = 'schema_version'")

    with pytest.raises(Exception, match="created_at"):
        lite.open(tmp_path / "s")

    with sqlite3.connect(tmp_path / "s" / "accounts.sqlite3") as db:
        assert db.execute(
            "SELECT value FROM lite_meta WHERE key = 'schema_version'"
        ).fetchone() == ("1",)


def make_v2_store(path: Path, *, dead: int = 0) -> None:
    """A store as version 2 left it: made by today's code, then set back to version 2
    and rewritten without auto-vacuum (as every version-2 file is), with ``dead``
    sessions that ended long ago and then were deleted, leaving free pages."""
    with lite.open(path, housekeeping=False) as store:
        user, _ = signup(store.accounts, "kept@example.com")
        old = datetime(2020, 1, 1, tzinfo=UTC)
        with store.database.atomic():
            for index in range(dead):
                store.sessions.create(
                    token_hash=f"dead-{index}",
                    user_id=user.id,
                    created_at=old,
                    updated_at=old,
                    expires_at=old,
                    user_agent="x" * 200,
                )
    with sqlite3.connect(path / "accounts.sqlite3", isolation_level=None) as db:
        db.execute("UPDATE lite_meta SET value = '2' WHERE key = 'schema_version'")
        db.execute("PRAGMA auto_vacuum = NONE")
        db.execute("VACUUM")
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,)
    db.close()


def _file_facts(path: Path) -> tuple[str, int]:
    with sqlite3.connect(path / "accounts.sqlite3") as db:
        version = db.execute("SELECT value FROM lite_meta WHERE key = 'schema_version'")
        facts = (version.fetchone()[0], db.execute("PRAGMA auto_vacuum").fetchone()[0])
    db.close()
    return facts


def test_a_version_2_file_is_converted_to_incremental_vacuum_once(tmp_path: Path) -> None:
    make_v2_store(tmp_path / "s", dead=300)
    with lite.open(tmp_path / "s", housekeeping=False) as store:
        assert store.accounts.find_user_by_email("kept@example.com") is not None
        assert store.models.Session.select().count() == 300
        assert store.database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _file_facts(tmp_path / "s") == ("3", 2)

    # Now housekeeping can hand the pages of deleted sessions back.
    before = (tmp_path / "s" / "accounts.sqlite3").stat().st_size
    with lite.open(tmp_path / "s", housekeeping=False) as store:
        store.sessions.purge_expired(older_than=timedelta(0))
        assert (lite.admin.reclaimable_bytes(store.database) or 0) > 0
        result = lite.admin.Housekeeper(
            database=store.database,
            models=store.models,
            secondary=store.secondary,
            location=store.location,
            settings=lite.HousekeepingSettings(),
        ).run_now()
        assert result is not None
        assert result.freed_bytes > 0
        assert lite.admin.reclaimable_bytes(store.database) == 0
    assert (tmp_path / "s" / "accounts.sqlite3").stat().st_size < before


def test_a_conversion_interrupted_before_the_version_was_recorded_is_finished(
    tmp_path: Path,
) -> None:
    make_v2_store(tmp_path / "s")
    with sqlite3.connect(tmp_path / "s" / "accounts.sqlite3", isolation_level=None) as db:
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("VACUUM")  # converted, but the process died before recording version 3
    db.close()
    with lite.open(tmp_path / "s", housekeeping=False) as store:
        assert store.accounts.find_user_by_email("kept@example.com") is not None
    assert _file_facts(tmp_path / "s") == ("3", 2)


def test_new_stores_are_made_with_incremental_vacuum(tmp_path: Path) -> None:
    lite.open(tmp_path / "s", housekeeping=False).close()
    assert _file_facts(tmp_path / "s") == (str(SCHEMA_VERSION), 2)


_INDEXES = {
    "session_token_hash": '"sessions" ("token_hash")',
    "session_user_id_created_at_id": '"sessions" ("user_id", "created_at", "id")',
    "session_user_id_expires_at_id": '"sessions" ("user_id", "expires_at", "id")',
    "session_user_id_updated_at_id": '"sessions" ("user_id", "updated_at", "id")',
    "socialaccount_user_id": '"social_accounts" ("user_id")',
    "user_email": '"users" ("email")',
}
_EXCLUSIVE = {
    "socialaccount_provider_provider_user_id": '"social_accounts" ("provider", "provider_user_id")'
}
_SHARED = {
    "socialaccount_provider_provider_user_id": (
        '"social_accounts" ("provider", "provider_user_id") WHERE ("is_login_method" = 1)'
    ),
    "socialaccount_user_id_provider_provider_user_id": (
        '"social_accounts" ("user_id", "provider", "provider_user_id")'
    ),
}
_UNIQUE = {"session_token_hash", "user_email", *_EXCLUSIVE, *_SHARED}


@pytest.mark.parametrize("shared", [False, True], ids=["exclusive", "shared"])
@pytest.mark.parametrize("copied", [True, False], ids=["copied", "built"])
def test_a_new_stores_indexes_keep_their_names_and_columns(
    tmp_path: Path, shared: bool, copied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Index names are part of the schema: an existing store is upgraded by them."""
    if not copied:  # no template: built from scratch, as a store on a server is
        from cross_auth_lite.store import location

        monkeypatch.setattr(location, "store_template", lambda **_: None)
    lite.open(tmp_path / "s", shared_connections=shared).close()
    with sqlite3.connect(tmp_path / "s" / "accounts.sqlite3") as db:
        found = dict(
            db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql NOT NULL")
        )
    expected = {**_INDEXES, **(_SHARED if shared else _EXCLUSIVE)}
    assert found == {
        name: f'CREATE {"UNIQUE " if name in _UNIQUE else ""}INDEX "{name}" ON {columns}'
        for name, columns in expected.items()
    }
