"""Hot paths stay single statements: counted through peewee's query hooks, never timed.

The hooks see the production path: observing a store does not switch its fast paths off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
import pytest

import cross_auth_lite as lite
from cross_auth_lite.database.statement_log import HIDDEN
from tests.factories import signup

pytestmark = pytest.mark.all_backends

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@contextmanager
def statements(store: lite.LiteStore) -> Iterator[list[str]]:
    seen: list[str] = []

    def hook(event: Any) -> None:
        seen.append(event.sql)

    store.database.query_hooks.append(hook)
    try:
        yield seen
    finally:
        store.database.query_hooks.remove(hook)


@pytest.fixture
def populated(store: lite.LiteStore) -> lite.LiteStore:
    user, _ = signup(store.accounts, "ada@example.com", "gh-1")
    for i in range(30):
        store.sessions.create(
            token_hash=f"h{i}",
            user_id=user.id,
            created_at=NOW,
            updated_at=NOW + timedelta(seconds=i),
            expires_at=NOW + timedelta(days=1),
        )
    return store


CASES: dict[str, Callable[[lite.LiteStore], object]] = {
    "find_user_by_email": lambda s: s.accounts.find_user_by_email("ada@example.com"),
    "find_user_by_id": lambda s: s.accounts.find_user_by_id("1"),
    "find_social_account": lambda s: s.accounts.find_social_account(
        provider="github", provider_user_id="gh-1", is_login_method=True
    ),
    "has_social_account": lambda s: s.accounts.has_social_account(
        provider="github", provider_user_id="gh-1"
    ),
    "find_social_account_by_id": lambda s: s.accounts.find_social_account_by_id(1),
    "list_social_accounts": lambda s: s.accounts.list_social_accounts(user_id=1),
    "session get": lambda s: s.sessions.get(token_hash="h3", now=NOW),
    "session get_any": lambda s: s.sessions.get_any("3"),
    "session refresh": lambda s: s.sessions.refresh(
        3, updated_at=NOW, expires_at=NOW + timedelta(days=2)
    ),
    "session revoke": lambda s: s.sessions.revoke(4, revoked_at=NOW),
    "list_for_user page": lambda s: s.sessions.list_for_user(1, now=NOW, limit=10),
    "session create": lambda s: s.sessions.create(
        token_hash="new", user_id=1, created_at=NOW, updated_at=NOW, expires_at=NOW
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hot_path_is_one_statement(populated: lite.LiteStore, name: str) -> None:
    with statements(populated) as seen:
        CASES[name](populated)
    assert len(seen) == 1, seen


def test_second_page_is_one_statement(populated: lite.LiteStore) -> None:
    first = populated.sessions.list_for_user(1, now=NOW, limit=10)
    with statements(populated) as seen:
        second = populated.sessions.list_for_user(1, now=NOW, limit=10, cursor=first.next_cursor)
    assert len(seen) == 1
    assert {r.id for r in first.records}.isdisjoint(r.id for r in second.records)


def test_signup_is_two_inserts_in_one_transaction(store: lite.LiteStore) -> None:
    with statements(store) as seen:
        signup(store.accounts, "ada@example.com", "gh-1")
    inserts = [sql for sql in seen if sql.startswith("INSERT")]
    assert len(inserts) == 2
    assert len(seen) <= 4  # BEGIN IMMEDIATE, two INSERTs, COMMIT


def test_filter_hooks_still_apply_on_compiled_stores(store: lite.LiteStore) -> None:
    """A subclass that overrides a filter gets the hook on every read (the slower path)."""
    models = store.models

    class NoDeletedUsers(lite.PeeweeAccountsStorage[Any, Any]):
        def filter_user_query(self, query: Any) -> Any:
            return query.where(models.User.email != "deleted@example.com")

    accounts = NoDeletedUsers(models.User, models.SocialAccount)
    signup(accounts, "deleted@example.com", "gh-9")
    assert store.accounts.find_user_by_email("deleted@example.com") is not None
    assert accounts.find_user_by_email("deleted@example.com") is None


def test_peewee_debug_log_shows_each_hot_statement(
    populated: lite.LiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Hot paths log as peewee's execute_sql does: ``(sql, params)`` at DEBUG, values hidden."""
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        populated.accounts.find_user_by_email("ada@example.com")
        populated.sessions.get(token_hash="h3", now=NOW)
    logged = [r.msg for r in caplog.records if r.name == "peewee"]
    assert len(logged) == 2, logged
    sql, params = logged[0]  # type: ignore[misc]
    assert "users" in sql
    assert params == [HIDDEN, HIDDEN]  # the email and the LIMIT
    assert "sessions" in logged[1][0]  # type: ignore[index]
    assert logged[1][1] == [HIDDEN] * 3  # type: ignore[index]


@pytest.mark.sqlite_only
def test_observing_does_not_change_the_path(
    populated: lite.LiteStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a query hook and the debug log on, the same fast path runs, with the same results.

    peewee's own ``execute_sql`` (the portable path) is never entered on
    either run; the hook and the log see every statement of the fast path.
    """
    assert populated.database.fast_paths
    entered: list[str] = []
    base = peewee.Database.execute_sql

    def spy(self: peewee.Database, sql: str, params: Any = None) -> Any:
        entered.append(sql)
        return base(self, sql, params)

    monkeypatch.setattr(peewee.Database, "execute_sql", spy)
    unobserved = {name: repr(call(populated)) for name, call in CASES.items() if "get" in name}
    assert entered == []
    with caplog.at_level(logging.DEBUG, logger="peewee"), statements(populated) as seen:
        observed = {name: repr(call(populated)) for name, call in CASES.items() if "get" in name}
    assert entered == []
    assert observed == unobserved
    logged = [r.msg[0] for r in caplog.records if r.name == "peewee"]  # type: ignore[index]
    assert logged == seen
    assert len(seen) == len(observed)
