"""Moving a store to PostgreSQL: ``copy --to``, and ``export``/``import`` across back ends.

Runs against the session's real PostgreSQL server (``tests.pg_server``), each
test in a schema of its own; skipped, saying why, where none can run.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.test_cli_support import assert_one_line_error, run, seed

COUNTS = {"users": 3, "social_accounts": 3, "sessions": 5}


def export(capsys: pytest.CaptureFixture[str], data: Path | None, *args: str) -> str:
    result = run(capsys, data, "export", *args)
    assert result.code == 0, result.err
    return result.out


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with lite.open(None, database_url=url) as store:
        return [tuple(row) for row in store.database.execute_sql(sql).fetchall()]


# copy


def test_copy_moves_every_row_with_its_id_and_checks_the_counts(
    capsys: pytest.CaptureFixture[str], data: Path, pg_url: str
) -> None:
    ids = seed(data)
    before = export(capsys, data)

    result = run(capsys, data, "copy", "--to", pg_url)

    assert result.code == 0, result.err
    assert "copied 3 users, 3 social accounts and 5 sessions" in result.out
    table = [line.split() for line in result.out.splitlines()[1:]]
    assert table == [
        ["table", "copied", "in", "target"],
        *[[name, str(number), str(number), "ok"] for name, number in COUNTS.items()],
    ]
    assert export(capsys, None, "--database-url", pg_url) == before
    with lite.open(None, database_url=pg_url) as store:
        # Identities and sessions kept their ids and owners.
        github = store.accounts.find_social_account_by_id(ids["github"])
        assert github.user_id == ids["ada"]
        assert store.sessions.get_any(ids["bob_active"]).user_id == ids["bob"]
        # The sequences moved past the copied ids: new rows do not collide.
        newcomer = store.accounts.create_user(user_info={}, email="new@example.com")
        assert newcomer.id == max(ids["ada"], ids["bob"], ids["nobody"]) + 1
        now = datetime.now(UTC)
        session = store.sessions.create(
            token_hash="new", user_id=newcomer.id, created_at=now, updated_at=now, expires_at=now
        )
        assert session.id == ids["dead"] + 1


def test_copy_reports_json(capsys: pytest.CaptureFixture[str], data: Path, pg_url: str) -> None:
    seed(data)

    result = run(capsys, data, "--json", "copy", "--to", pg_url)

    assert result.code == 0, result.err
    report = result.json()
    assert report["copied"] == COUNTS
    assert report["target_counts"] == COUNTS
    assert report["counts_match"] is True
    assert report["created"] is True
    assert report["source"] == str(data.absolute())


def test_a_non_empty_target_needs_force_which_replaces_it(
    capsys: pytest.CaptureFixture[str], data: Path, pg_url: str
) -> None:
    seed(data)
    assert run(capsys, data, "copy", "--to", pg_url).code == 0
    with lite.open(None, database_url=pg_url) as store:
        store.accounts.create_user(user_info={}, email="only-in-postgres@example.com")

    refused = run(capsys, data, "copy", "--to", pg_url)

    assert_one_line_error(refused, contains="already holds 4 users")
    assert "--force" in refused.err
    forced = run(capsys, data, "--json", "copy", "--to", pg_url, "--force")
    assert forced.code == 0, forced.err
    assert forced.json()["target_counts"] == COUNTS
    assert forced.json()["created"] is False
    assert rows(pg_url, "SELECT id FROM users WHERE email = 'only-in-postgres@example.com'") == []


def test_copy_keeps_the_connection_mode_and_refuses_the_other(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pg_url: str
) -> None:
    shared, exclusive = tmp_path / "shared", tmp_path / "exclusive"
    seed(shared, shared_connections=True)
    seed(exclusive)

    assert run(capsys, shared, "copy", "--to", pg_url).code == 0

    with lite.open(None, database_url=pg_url) as store:
        assert store.shared_connections is True
    assert_one_line_error(
        run(capsys, exclusive, "copy", "--to", pg_url, "--force"), contains="shared connections"
    )


def test_copy_refuses_tables_it_did_not_create(
    capsys: pytest.CaptureFixture[str], data: Path, pg_url: str
) -> None:
    seed(data)
    with lite.open(None, database_url=pg_url) as store:
        store.database.execute_sql("DROP TABLE lite_meta")

    result = run(capsys, data, "copy", "--to", pg_url)

    assert_one_line_error(result, contains="cross-auth-lite did not create")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://ada:hunter2@127.0.0.1/auth",
            "error: --to 'mysql://ada:***@127.0.0.1/auth' is not supported: use a postgresql://",
        ),
        ("postgresql://ada:hunter2@127.0.0.1:1/auth", "cannot use PostgreSQL at"),
        (
            "postgresql://ada:hunter2@[::1",
            "error: --to 'postgresql://ada:***@[::1' is malformed: an IPv6 address in it has "
            "no closing ']'",
        ),
        ("host=h password=hunter2", "error: --to 'host=h password=***' is not supported: use a"),
        ("hunter2", "error: --to is not a URL (its value is not shown, in case it is a password)"),
    ],
)
def test_bad_targets_are_one_line_errors_that_hide_passwords(
    capsys: pytest.CaptureFixture[str], data: Path, url: str, message: str
) -> None:
    seed(data)

    result = run(capsys, data, "copy", "--to", url)

    assert_one_line_error(result, contains=message)
    assert "hunter2" not in result.err


def test_copy_needs_an_existing_source(
    capsys: pytest.CaptureFixture[str], data: Path, pg_url: str
) -> None:
    assert_one_line_error(run(capsys, data, "copy", "--to", pg_url), contains="no store at")
    assert rows(pg_url, "SELECT COUNT(*) FROM users") == [(0,)]


def test_copy_of_a_store_in_use_is_one_consistent_snapshot(
    capsys: pytest.CaptureFixture[str], data: Path, pg_url: str
) -> None:
    """An application keeps signing people in while the copy runs."""
    seed(data)
    stop = threading.Event()
    written: list[int] = []

    def application() -> None:
        now = datetime.now(UTC)
        with lite.open(data) as store:
            for n in range(2000):
                if stop.is_set():
                    break
                with store.database.atomic():  # a signup: all three rows or none
                    user = store.accounts.create_user(user_info={}, email=f"live{n}@example.com")
                    store.accounts.create_social_account(
                        user_id=user.id, provider="github", provider_user_id=f"live-{n}"
                    )
                    store.sessions.create(
                        token_hash=f"live-{n}",
                        user_id=user.id,
                        created_at=now,
                        updated_at=now,
                        expires_at=now + timedelta(days=1),
                    )
                written.append(n)

    writer = threading.Thread(target=application)
    writer.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.01)
        result = run(capsys, data, "--json", "copy", "--to", pg_url)
    finally:
        stop.set()
        writer.join(timeout=60)

    assert result.code == 0, result.err
    report = result.json()
    copied = report["copied"]
    assert report["counts_match"] is True
    # A snapshot: every copied signup came with its identity and its session.
    assert copied["users"] - 3 == copied["social_accounts"] - 3 == copied["sessions"] - 5
    assert copied["users"] >= 3 + 20
    orphans = rows(
        pg_url,
        "SELECT COUNT(*) FROM sessions WHERE user_id NOT IN (SELECT id FROM users)",
    )
    assert orphans == [(0,)]


# export and import across back ends


def test_sqlite_export_imports_into_postgres_and_exports_the_same(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, pg_url: str
) -> None:
    seed(data, shared_connections=True)
    document = tmp_path / "export.json"
    document.write_text(export(capsys, data))

    imported = run(capsys, None, "--json", "import", str(document), "--database-url", pg_url)

    assert imported.code == 0, imported.err
    assert imported.json() == {"path": pg_url, "created": True, "imported": COUNTS}
    assert export(capsys, None, "--database-url", pg_url) == document.read_text()
    with lite.open(None, database_url=pg_url) as store:
        assert store.shared_connections is True
        assert store.accounts.create_user(user_info={}, email="next@example.com").id == 4


def test_postgres_export_imports_into_sqlite_and_exports_the_same(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, pg_url: str
) -> None:
    seed(data)
    assert run(capsys, data, "copy", "--to", pg_url).code == 0
    document = tmp_path / "from-postgres.json"
    assert run(capsys, None, "export", "--database-url", pg_url, "-o", str(document)).code == 0
    fresh = tmp_path / "fresh"

    assert run(capsys, fresh, "import", str(document)).code == 0

    assert export(capsys, fresh) == document.read_text() == export(capsys, data)


def test_an_import_conflict_on_postgres_names_the_row_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, pg_url: str
) -> None:
    seed(data)
    document = tmp_path / "export.json"
    document.write_text(export(capsys, data))
    assert run(capsys, None, "import", str(document), "--database-url", pg_url).code == 0
    with lite.open(None, database_url=pg_url) as store:
        store.sessions.purge_expired(older_than=timedelta(0))  # a change to roll back
    remaining = rows(pg_url, "SELECT COUNT(*) FROM sessions")

    result = run(capsys, None, "import", str(document), "--database-url", pg_url)

    assert_one_line_error(result, contains="users[0] (id 1) conflicts with a row")
    assert "(users.id must be unique)" in result.err
    assert rows(pg_url, "SELECT COUNT(*) FROM sessions") == remaining


def test_an_identity_of_a_missing_user_is_refused_by_postgres(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, pg_url: str
) -> None:
    seed(data)
    document = json.loads(export(capsys, data))
    document["users"] = document["sessions"] = []
    document["social_accounts"] = [{**document["social_accounts"][0], "user_id": 999}]
    path = tmp_path / "orphan.json"
    path.write_text(json.dumps(document))

    result = run(capsys, None, "import", str(path), "--database-url", pg_url)

    assert_one_line_error(result, contains="belongs to user 999")
    assert rows(pg_url, "SELECT COUNT(*) FROM social_accounts") == [(0,)]


def test_export_of_a_database_without_a_store_is_refused(
    capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    result = run(capsys, None, "export", "--database-url", pg_url)

    assert_one_line_error(result, contains="no cross-auth-lite store in")
