"""``lite.open(path, database_url=...)`` on PostgreSQL: what differs from SQLite, what must not.

The storages' own suites run on both back ends (``pytest.mark.all_backends``);
this module covers the store around them: opening, closing, errors, the
schema PostgreSQL gets, and transactions that survive a failed write (a
failed statement aborts PostgreSQL's whole transaction unless a savepoint
holds it). Tests marked ``all_backends`` here check that SQLite behaves alike.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import peewee
import pytest
from cross_auth.exceptions import CrossAuthException
from playhouse import db_url

import cross_auth_lite as lite
from cross_auth_lite.backends.postgres import LitePostgresqlDatabase, open_postgresql, redact_url
from cross_auth_lite.database.refusals import Diagnostics
from tests import race_workers
from tests.factories import connect, identity, signup
from tests.pg_server import PostgresServer

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema."""
    with postgres_server.schema_url() as url:
        yield url


def with_password(url: str, password: str) -> str:
    # The test server trusts loopback connections, so any password is accepted.
    return url.replace("postgres@", f"postgres:{password}@", 1)


# Opening and closing


def test_the_directory_keeps_the_cache_and_no_sqlite_file(tmp_path: Path, pg_url: str) -> None:
    with lite.open(tmp_path / "store", database_url=pg_url) as store:
        assert isinstance(store.database, LitePostgresqlDatabase)
        assert isinstance(store.secondary, lite.DiskCacheStorage)
        assert (tmp_path / "store" / "cache").is_dir()
        assert not (tmp_path / "store" / "accounts.sqlite3").exists()
        tables = store.database.get_tables()
        assert {"lite_meta", "users", "social_accounts", "sessions"} <= set(tables)


def test_an_ephemeral_store_removes_its_directory_but_not_the_rows(pg_url: str) -> None:
    with lite.open(None, database_url=pg_url) as store:
        user = store.accounts.create_user(user_info={}, email="ada@example.com")
        directory = store.path
    assert not directory.exists()

    with lite.open(None, database_url=pg_url) as again:
        assert again.accounts.find_user_by_id(user.id) is not None


def test_the_driver_is_psycopg_3(pg_url: str) -> None:
    database = open_postgresql(pg_url)
    try:
        assert isinstance(database._adapter, peewee.Psycopg3Adapter)
    finally:
        database.close_all()


def test_close_ends_every_threads_connection(pg_url: str) -> None:
    store = lite.open(None, database_url=pg_url)
    user = store.accounts.create_user(user_info={}, email="ada@example.com")

    # Every thread stays alive until all have connected: a thread that ended
    # could hand its ident, the connection's key, to the next one.
    connected = threading.Barrier(4)

    def work() -> None:
        store.accounts.find_user_by_id(user.id)
        connected.wait(timeout=30)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    connected.wait(timeout=30)
    for thread in threads:
        thread.join()
    database: Any = store.database
    connections = list(database._connections.values())
    assert len(connections) == 4

    store.close()

    assert all(connection.closed for connection in connections)
    with pytest.raises(lite.StoreClosedError):
        store.accounts.find_user_by_id(user.id)


def test_a_driver_that_is_missing_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    monkeypatch.setattr(peewee, "psycopg", None)
    monkeypatch.setattr(peewee, "psycopg2", None)

    with pytest.raises(ImportError, match=r"cross-auth-lite\[postgres\]"):
        lite.open(None, database_url=pg_url)


def test_an_unreachable_database_is_a_value_error_without_the_password(tmp_path: Path) -> None:
    from tests.pg_server import free_port

    url = f"postgresql://ada:hunter2@127.0.0.1:{free_port()}/auth?connect_timeout=5"

    with pytest.raises(ValueError, match="cannot use PostgreSQL at") as refused:
        lite.open(tmp_path / "store", database_url=url)

    assert "hunter2" not in str(refused.value)
    assert "ada:***@127.0.0.1" in str(refused.value)


def test_a_schema_mismatch_names_the_database_without_the_password(pg_url: str) -> None:
    url = with_password(pg_url, "hunter2")
    lite.open(None, database_url=url, shared_connections=True).close()

    with pytest.raises(lite.SchemaError, match="shared connections") as refused:
        lite.open(None, database_url=url, shared_connections=False)

    assert "hunter2" not in str(refused.value)
    with lite.open(None, database_url=url) as store:  # None: as it was created
        assert store.shared_connections is True


def test_processes_creating_the_schema_at_once_all_succeed(pg_url: str) -> None:
    """Several instances of an application starting together on a new database."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    processes = [
        context.Process(target=race_workers.open_only, args=((None, pg_url), (ready, go), results))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=60)
    go.set()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert outcomes == ["opened"] * 4
    with lite.open(None, database_url=pg_url) as store:
        rows = store.database.execute_sql("SELECT key FROM lite_meta ORDER BY key").fetchall()
    assert [key for (key,) in rows] == ["connections", "schema_version"]


def test_redact_url() -> None:
    assert redact_url("postgresql://ada:pw@db:5432/auth") == "postgresql://ada:***@db:5432/auth"
    assert redact_url("postgresql://ada@db/auth") == "postgresql://ada@db/auth"
    assert redact_url("postgresql://db/auth?password=pw&sslmode=require") == (
        "postgresql://db/auth?password=***&sslmode=require"
    )


# The schema


def test_the_shared_schema_has_a_partial_unique_index_over_login_methods(pg_url: str) -> None:
    with lite.open(None, database_url=pg_url, shared_connections=True) as store:
        indexes = {
            index.name: index.sql for index in store.database.get_indexes("social_accounts")
        }

    partial = [sql for sql in indexes.values() if "WHERE" in sql]
    assert len(partial) == 1
    assert "UNIQUE" in partial[0]
    assert "(provider, provider_user_id) WHERE (is_login_method = true)" in partial[0]


def test_ids_are_32_bit_and_larger_ones_find_nothing(pg_url: str) -> None:
    with lite.open(None, database_url=pg_url) as store:
        user, _ = signup(store.accounts, "ada@example.com")
        for too_big in (2**31, str(2**31), 2**40):
            assert store.accounts.find_user_by_id(too_big) is None
            assert store.accounts.find_social_account_by_id(too_big) is None
            assert store.sessions.get_any(too_big) is None
            assert store.sessions.list_for_user(too_big, now=NOW).records == []
        assert store.accounts.find_user_by_id(str(user.id)) is not None


def test_disconnect_locks_the_users_row(pg_url: str) -> None:
    with lite.open(None, database_url=pg_url) as store:
        user, first = signup(store.accounts, "ada@example.com", "gh-1")
        connect(store.accounts, user.id, "gh-2")
        seen: list[str] = []
        store.database.query_hooks.append(lambda event: seen.append(event.sql))

        result = store.accounts.disconnect_social_account(
            user_id=user.id, provider="github", social_account_id=first.id
        )

    assert result == "disconnected"
    assert seen[0].startswith('SELECT "t1"."id"')
    assert seen[0].endswith("FOR UPDATE")


# Application transactions survive a failed write


def _users(store: lite.LiteStore) -> list[str]:
    return [user.email for user in store.models.User.select().order_by(store.models.User.id)]


@pytest.mark.all_backends
def test_a_refused_session_insert_leaves_the_application_transaction_usable(
    store: lite.LiteStore,
) -> None:
    user = store.accounts.create_user(user_info={}, email="ada@example.com")
    values: dict[str, Any] = {"created_at": NOW, "updated_at": NOW, "expires_at": NOW}
    store.sessions.create(token_hash="taken", user_id=user.id, **values)

    with store.database.atomic():
        with pytest.raises((peewee.IntegrityError, ValueError)):
            store.sessions.create(token_hash="taken", user_id=user.id, **values)
        with pytest.raises(lite.UnknownUserError):
            store.sessions.create(token_hash="orphan", user_id=user.id + 100, **values)
        kept = store.sessions.create(token_hash="kept", user_id=user.id, **values)
        store.accounts.create_user(user_info={}, email="bob@example.com")

    assert store.sessions.get_any(kept.id) is not None
    assert _users(store) == ["ada@example.com", "bob@example.com"]


@pytest.mark.all_backends
def test_refused_account_writes_leave_the_application_transaction_usable(
    shared_store: lite.LiteStore,
) -> None:
    accounts = shared_store.accounts
    owner, _ = signup(accounts, "ada@example.com", "gh-1")
    other = accounts.create_user(user_info={}, email="bob@example.com")
    connection = connect(accounts, other.id, "gh-1", is_login_method=False)

    with shared_store.database.atomic():
        with pytest.raises(CrossAuthException, match="email_already_registered"):
            accounts.create_user(user_info={}, email="ada@example.com")
        with pytest.raises(CrossAuthException, match="account_already_linked"):
            signup(accounts, "carol@example.com", "gh-1")
        with pytest.raises(CrossAuthException, match="account_already_linked"):
            accounts.update_social_account(
                connection.id,
                access_token="new",
                refresh_token=None,
                access_token_expires_at=None,
                refresh_token_expires_at=None,
                scope=None,
                enable_login=True,
            )
        # A retry by the owner returns the existing row.
        assert connect(accounts, other.id, "gh-1", is_login_method=False).id == connection.id
        accounts.create_user(user_info={}, email="dave@example.com")

    assert _users(shared_store) == ["ada@example.com", "bob@example.com", "dave@example.com"]
    assert accounts.find_social_account_by_id(connection.id).access_token == "access-1"
    assert owner.id != other.id


def _told(error: BaseException) -> str:
    """What a traceback shows of ``error``, and every error reachable from it, hidden or not."""
    frames = traceback.TracebackException.from_exception(error)
    told = ["".join(line for line in frames.format() if not line.startswith("  "))]
    pending: list[Any] = [error]
    seen: set[int] = set()
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        told.append(f"{link!r} {link.args!r}")
        pending += [link.__cause__, link.__context__, getattr(link, "orig", None)]
    return "\n".join(told)


@pytest.mark.all_backends
def test_a_refused_write_says_which_constraint_but_quotes_no_values(
    store: lite.LiteStore,
) -> None:
    user, account = signup(store.accounts, "ada@example.com", "gh-1")
    model = store.models.SocialAccount
    secret = "gho_secret-access-token-0123456789"
    store.accounts.update_social_account(
        account.id,
        access_token=secret,
        refresh_token=None,
        access_token_expires_at=None,
        refresh_token_expires_at=None,
        scope=None,
    )
    values: dict[str, Any] = {"created_at": NOW, "updated_at": NOW, "expires_at": NOW}
    store.sessions.create(token_hash="hash-of-a-session-token", user_id=user.id, **values)

    # A NOT NULL column set to NULL: PostgreSQL's DETAIL quotes the whole row.
    with pytest.raises(peewee.IntegrityError) as not_null:
        model.update(provider=None).where(model.id == account.id).execute()
    assert "provider" in str(not_null.value)
    assert secret not in _told(not_null.value)
    assert "ada@example.com" not in _told(not_null.value)

    # A duplicate key: the columns are named, not their values.
    session = store.models.Session
    row = {"token_hash": "hash-of-a-session-token", "user": user.id, **values}
    with pytest.raises(peewee.IntegrityError) as duplicate:
        session.insert(row).execute()
    assert "token_hash" in str(duplicate.value)
    assert "hash-of-a-session-token" not in _told(duplicate.value)
    with pytest.raises(ValueError, match="token hash already exists") as refused:
        store.sessions.create(token_hash="hash-of-a-session-token", user_id=user.id, **values)
    assert "hash-of-a-session-token" not in _told(refused.value)

    assert store.accounts.find_social_account_by_id(account.id).access_token == secret


@pytest.mark.all_backends
def test_on_commit_waits_for_the_outer_commit_after_a_refused_write(
    store: lite.LiteStore,
) -> None:
    ran: list[str] = []
    signup(store.accounts, "ada@example.com", "gh-1")

    with store.database.atomic():
        bob = store.accounts.create_user(user_info={}, email="bob@example.com")
        store.accounts.on_commit(lambda: ran.append("bob"))
        with pytest.raises(CrossAuthException):
            signup(store.accounts, "carol@example.com", "gh-1")
        store.sessions.create(
            token_hash="t",
            user_id=bob.id,
            created_at=NOW,
            updated_at=NOW,
            expires_at=NOW + timedelta(days=1),
        )
        assert ran == []

    assert ran == ["bob"]
    assert store.sessions.get(token_hash="t", now=NOW) is not None


def test_a_dropped_connection_is_reopened_between_transactions(
    pg_url: str, postgres_server: PostgresServer
) -> None:
    """A server restart or idle timeout must not break the thread's next request."""
    with lite.open(None, database_url=pg_url) as store:
        signup(store.accounts, "ada@example.com", "gh-1")
        own_pid = store.database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        killed = (
            postgres_server._admin_connection()
            .execute("SELECT pg_terminate_backend(%s)", (own_pid,))
            .fetchone()[0]
        )
        assert killed is True

        assert store.accounts.find_user_by_email("ada@example.com") is not None
        signup(store.accounts, "bob@example.com", "gh-2")  # writes work again too
        assert store.models.User.select().count() == 2


def test_an_applications_own_postgresql_database_gets_refusals_without_values(
    pg_url: str,
) -> None:
    # A plain peewee.PostgresqlDatabase with the bundled models: no lite database class.
    db = db_url.connect(pg_url)
    assert type(db) is peewee.PostgresqlDatabase

    class User(lite.PeeweeUser):
        class Meta:
            database = db

    class SocialAccount(lite.PeeweeSocialAccount):
        user = peewee.ForeignKeyField(User, backref="social_accounts", on_delete="CASCADE")
        # The application's own rule, which PostgreSQL explains by quoting the row.
        provider_user_id = peewee.TextField(constraints=[peewee.Check("provider_user_id <> 'x'")])

        class Meta:
            database = db

    class Session(lite.PeeweeSession):
        user = peewee.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")

        class Meta:
            database = db

    lite.identity_indexes(SocialAccount, shared_connections=False)
    db.create_tables([User, SocialAccount, Session])
    try:
        accounts = lite.PeeweeAccountsStorage(User, SocialAccount)
        sessions = lite.PeeweeSessionStorage(Session)
        secret = "gho_secret-access-token-0123456789"
        user, _ = signup(accounts, "ada@example.com", "gh-1", access_token=secret)
        values: dict[str, Any] = {"created_at": NOW, "updated_at": NOW, "expires_at": NOW}
        sessions.create(token_hash="hash-of-a-session-token", user_id=user.id, **values)

        # The storage's own error keeps a cause that names the column, not the value.
        with pytest.raises(ValueError, match="token hash already exists") as refused:
            sessions.create(token_hash="hash-of-a-session-token", user_id=user.id, **values)
        assert "token_hash" in _told(refused.value)
        assert "hash-of-a-session-token" not in _told(refused.value)

        # A refused write the storage passes on: the row (and its token) is not quoted.
        with pytest.raises(peewee.IntegrityError) as checked:
            accounts.create_social_account(**identity(user.id, "x", access_token=secret))
        assert "check constraint" in str(checked.value)
        assert checked.value.sqlstate == "23514"  # type: ignore[attr-defined]
        diag = checked.value.diag  # type: ignore[attr-defined]
        assert isinstance(diag, Diagnostics)
        assert (diag.table_name, diag.sqlstate) == ("socialaccount", "23514")
        assert diag.constraint_name.startswith("socialaccount_provider_user_id")
        assert secret not in repr(diag)
        assert pickle.loads(pickle.dumps(checked.value)).diag == diag
        assert secret not in _told(checked.value)
        assert [account.provider_user_id for account in SocialAccount.select()] == ["gh-1"]
    finally:
        db.drop_tables([Session, SocialAccount, User])
        db.close()
