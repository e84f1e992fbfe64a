"""The library's export, import and copy, called directly, not through the commands."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.pg_server import PostgresServer
from tests.test_cli_support import PASSWORD_HASH, assert_one_line_error, run, seed

COUNTS = {"users": 3, "social_accounts": 3, "sessions": 5}


@pytest.fixture
def source(tmp_path: Path) -> Iterator[lite.LiteStore]:
    """The CLI tests' seeded store: three users, three identities, five sessions."""
    seed(tmp_path / "source")
    # No housekeeping: its first pass, two seconds in, would purge the long-ended session.
    with lite.open(tmp_path / "source", create=False, housekeeping=False) as store:
        yield store


def exported(store: lite.LiteStore) -> str:
    out = io.StringIO()
    lite.admin.export_store(store, out)
    return out.getvalue()


@pytest.mark.all_backends
def test_export_then_import_gives_an_equal_store(
    source: lite.LiteStore, tmp_path: Path, make_database_url: Callable[[], str | None]
) -> None:
    text = exported(source)
    steps: list[tuple[int, int]] = []

    document = lite.admin.read_export(text.encode(), progress=lambda *step: steps.append(step))
    with lite.open(tmp_path / "copy", database_url=make_database_url()) as target:
        counts = lite.admin.import_export(target, document)

        assert counts == document.counts == COUNTS
        assert steps[-1] == (11, 11)
        assert exported(target) == text
        assert target.accounts.create_user(user_info={}, email="new@example.com").id == 4


def test_read_export_reads_streams_and_returns_typed_rows(source: lite.LiteStore) -> None:
    document = lite.admin.read_export(io.StringIO(exported(source)))

    assert document.version == 1
    assert document.connections == "exclusive"
    assert document.shared_connections is False
    assert document.rows["users"][0]["hashed_password"] == PASSWORD_HASH
    assert document.rows["sessions"][0]["created_at"].tzinfo is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hashed_password": ["secret-hash"]}, "backup.json: users[1]: hashed_password must be"),
        ({"email_verified": "secret-yes"}, "backup.json: users[1]: email_verified must be"),
        ({"created_at": "secret-time"}, "backup.json: users[1]: created_at must be an ISO-8601"),
    ],
)
def test_a_bad_record_is_named_without_its_value_and_changes_nothing(
    source: lite.LiteStore, change: dict[str, Any], message: str
) -> None:
    document = json.loads(exported(source))
    document["users"][1].update(change)
    before = exported(source)

    with pytest.raises(lite.ExportFormatError) as raised:
        lite.admin.read_export(json.dumps(document), name="backup.json")

    assert str(raised.value).startswith(message)
    assert "secret" not in str(raised.value)
    assert exported(source) == before


@pytest.mark.all_backends
def test_a_conflicting_import_is_refused_whole(
    source: lite.LiteStore, tmp_path: Path, make_database_url: Callable[[], str | None]
) -> None:
    document = json.loads(exported(source))
    # A new user first, so that a partial import would show.
    document["users"].insert(0, {**document["users"][1], "id": 100, "email": "new@example.com"})
    with lite.open(tmp_path / "target", database_url=make_database_url()) as target:
        lite.admin.import_export(target, lite.admin.read_export(exported(source)))
        before = exported(target)

        with pytest.raises(lite.TransferRefusedError) as raised:
            lite.admin.import_export(target, lite.admin.read_export(json.dumps(document)))

        assert "nothing imported: users[1] (id 1) conflicts" in str(raised.value)
        assert "users.id must be unique" in str(raised.value)
        assert exported(target) == before


def test_a_shared_export_is_refused_by_an_exclusive_store(tmp_path: Path) -> None:
    seed(tmp_path / "shared", shared_connections=True)
    with lite.open(tmp_path / "shared") as shared:
        document = lite.admin.read_export(exported(shared))
    with lite.open(tmp_path / "exclusive") as target:
        with pytest.raises(lite.TransferRefusedError, match="shared connections"):
            lite.admin.import_export(target, document)
        assert target.models.User.select().count() == 0


def test_export_to_file_is_private_and_names_the_file_given(
    source: lite.LiteStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "backup.json"
    assert lite.admin.export_to_file(source, target) == COUNTS
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text() == exported(source)

    missing = tmp_path / "missing" / "x.json"
    with pytest.raises(lite.ExportFileError) as raised:
        lite.admin.export_to_file(source, missing)
    assert str(raised.value) == f"cannot write {missing}: No such file or directory"
    result = run(capsys, source.path, "export", "--output", str(missing))
    assert_one_line_error(result, contains=f"cannot write {missing}: No such file")
    assert ".tmp" not in result.err


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.schema_url() as url:
        yield url


def test_copy_store_to_postgres_counts_and_needs_force_for_a_full_target(
    source: lite.LiteStore, pg_url: str
) -> None:
    with lite.admin.open_transfer_target(database_url=pg_url) as target:
        assert target.created is True
        steps: list[tuple[int, int]] = []
        result = lite.admin.copy_store(source, target, progress=lambda *step: steps.append(step))
        assert result.copied == result.target_counts == COUNTS
        assert result.counts_match
        assert not result.source_changed
        assert steps[-1] == (11, 11)
        assert exported(target) == exported(source)

        target.accounts.create_user(user_info={}, email="only-in-postgres@example.com")
        with pytest.raises(lite.TargetNotEmptyError) as raised:
            lite.admin.copy_store(source, target)
        assert raised.value.counts == {**COUNTS, "users": 4}
        assert target.models.User.select().count() == 4

        forced = lite.admin.copy_store(source, target, force=True)
        assert forced.target_counts == COUNTS
        assert exported(target) == exported(source)
    with lite.admin.open_transfer_target(database_url=pg_url) as again:
        assert again.created is False


def test_copy_store_refuses_the_other_connection_mode(source: lite.LiteStore, pg_url: str) -> None:
    with lite.open(None, database_url=pg_url, shared_connections=True) as target:
        with pytest.raises(lite.TransferRefusedError, match="shared connections"):
            lite.admin.copy_store(source, target)
        assert target.models.User.select().count() == 0
