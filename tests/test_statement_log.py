"""peewee's debug log of a store's statements shows the SQL, never the values.

On SQLite and PostgreSQL, on the fast paths and in portable mode, from a
thread's first statement (run by peewee's own ``execute_sql``) to the hot
paths (run on the driver connection). An application's own database logs as
peewee does, and query hooks still get the values.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import peewee
import pytest

import cross_auth_lite as lite
from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.database.statement_log import HIDDEN
from tests.factories import signup

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]

NOW = datetime(2030, 1, 1, tzinfo=UTC)
#: Values no log line may show: an email, provider tokens, a session's token hash.
SECRETS = ("ada.lovelace@example.com", "gho_access_8f3a", "ghr_refresh_2c9d", "tokenhash_77e1")


def _work(store: lite.LiteStore) -> None:
    email, access, refresh, token_hash = SECRETS
    user, _ = signup(store.accounts, email, access_token=access, refresh_token=refresh)
    store.sessions.create(
        token_hash=token_hash,
        user_id=user.id,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    assert store.accounts.find_user_by_email(email) is not None
    assert store.sessions.get(token_hash=token_hash, now=NOW) is not None
    # A thread's first statement connects, through peewee's own execute_sql.
    found: list[Any] = []

    def look_up() -> None:
        found.append(store.accounts.find_user_by_email(email))

    thread = threading.Thread(target=look_up)
    thread.start()
    thread.join()
    assert found[0] is not None


def _logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, Any]]:
    """The ``(sql, params)`` of each record on the ``peewee`` logger."""
    return [record.msg for record in caplog.records if record.name == "peewee"]  # type: ignore[misc]


def test_no_value_reaches_the_debug_log(
    make_database_url: Callable[[], str | None], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every statement of a store is logged, each value shown as ``…``; hooks see the values."""
    hooked: list[Any] = []
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        store = lite.open(tmp_path / "store", database_url=make_database_url())
        try:
            store.database.query_hooks.append(lambda event: hooked.append(event.params))
            _work(store)
        finally:
            store.close()
    texts = [record.getMessage() for record in caplog.records if record.name == "peewee"]
    assert [text for text in texts if any(secret in text for secret in SECRETS)] == []
    logged = _logged(caplog)
    inserts = [params for sql, params in logged if sql.startswith("INSERT")]
    assert len(inserts) >= 3  # the user, the social account, the session
    assert all(params for params in inserts)
    assert {value for _, params in logged for value in params or ()} == {HIDDEN}
    # The query hooks are handed the values themselves.
    assert any(SECRETS[1] in map(str, params or ()) for params in hooked)


@pytest.mark.sqlite_only
def test_an_applications_own_database_logs_as_peewee_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The filter on peewee's logger leaves the records of other databases alone."""
    database: Any = peewee.SqliteDatabase(":memory:")
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        database.execute_sql("SELECT ?", ("visible",))
    database.close()
    assert _logged(caplog) == [("SELECT ?", ("visible",))]


@pytest.mark.sqlite_only
def test_the_capability_probe_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """The check of peewee a process's first store makes runs on its own database, unlogged."""
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert peewee_internals._probe() is None
    assert _logged(caplog) == []
