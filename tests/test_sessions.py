"""PeeweeSessionStorage against real SQLite files."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import peewee
import pytest
from cross_auth._storage import session_status
from cross_auth.exceptions import InvalidCursorError

from cross_auth_lite.backends.postgres import open_postgresql
from cross_auth_lite.database.models import PeeweeSession, PeeweeUser, StoreModels, build_models
from cross_auth_lite.database.schema import ensure_schema
from cross_auth_lite.database.sqlite import LiteSqliteDatabase, open_sqlite
from cross_auth_lite.errors import UnknownUserError
from cross_auth_lite.sessions.cursor import encode_cursor
from cross_auth_lite.sessions.storage import MAX_LIST_LIMIT, PeeweeSessionStorage, SessionPage

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]

NOW = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
ORDERINGS = [
    "updated_at_desc",
    "updated_at_asc",
    "created_at_desc",
    "created_at_asc",
    "expires_at_desc",
    "expires_at_asc",
]
GARBAGE_IDS = ["abc", "", "1.5", "12abc", 2**80, -(2**80), None, [1], {"id": 1}, 1.5, True, b"1"]

_tokens = itertools.count()


def open_models(target: Path | str) -> tuple[Any, StoreModels]:
    """The database at ``target`` (a SQLite file, or a PostgreSQL URL) and its models."""
    db = open_postgresql(target) if isinstance(target, str) else open_sqlite(target)
    models = build_models(db)
    ensure_schema(db, models, shared_connections=False)
    return db, models


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "a.sqlite3"


@pytest.fixture
def db_target(db_path: Path, make_database_url: Callable[[], str | None]) -> Path | str:
    """The test's database: a SQLite file, or a new PostgreSQL schema's URL."""
    return make_database_url() or db_path


@pytest.fixture
def opened(db_target: Path | str) -> Iterator[tuple[LiteSqliteDatabase, StoreModels]]:
    db, models = open_models(db_target)
    yield db, models
    db.close_all()


@pytest.fixture
def db(opened: tuple[LiteSqliteDatabase, StoreModels]) -> LiteSqliteDatabase:
    return opened[0]


@pytest.fixture
def models(opened: tuple[LiteSqliteDatabase, StoreModels]) -> StoreModels:
    return opened[1]


@pytest.fixture
def storage(models: StoreModels) -> PeeweeSessionStorage[Any]:
    return PeeweeSessionStorage(models.Session)


@pytest.fixture(params=["returning", "update-then-select"])
def refresh_storage(request: pytest.FixtureRequest, models: StoreModels) -> Any:
    """Both ways refresh can run: UPDATE ... RETURNING, and the pre-3.35 fallback."""
    storage = PeeweeSessionStorage(models.Session)
    storage._returning = request.param == "returning"
    return storage


@pytest.fixture
def make_user(models: StoreModels) -> Callable[[], PeeweeUser]:
    emails = itertools.count()
    return lambda: models.User.create(email=f"user{next(emails)}@example.com")


@pytest.fixture
def user(make_user: Callable[[], PeeweeUser]) -> PeeweeUser:
    return make_user()


def make(storage: PeeweeSessionStorage[Any], user: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "token_hash": f"hash-{next(_tokens)}",
        "user_id": user.id,
        "created_at": NOW - timedelta(hours=2),
        "updated_at": NOW - timedelta(hours=1),
        "expires_at": NOW + timedelta(hours=1),
    }
    values.update(overrides)
    return storage.create(**values)


def snapshot(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record._meta.fields if name != "user"} | {
        "user_id": record.user_id
    }


# Construction


def test_model_can_be_passed_or_declared_on_a_subclass(models: StoreModels, db: Any) -> None:
    class Store(PeeweeSessionStorage[Any]):
        SessionModel = models.Session

    assert PeeweeSessionStorage(models.Session).SessionModel is models.Session
    assert Store().SessionModel is models.Session
    assert Store().database is db
    assert PeeweeSessionStorage(models.Session).database is db


def test_missing_model_is_a_type_error_that_says_how_to_fix_it() -> None:
    with pytest.raises(TypeError, match="SessionModel"):
        PeeweeSessionStorage()


@pytest.mark.parametrize("model", ["sessions", 42, PeeweeUser, dict])
def test_non_session_models_are_rejected(model: Any) -> None:
    with pytest.raises(TypeError, match="PeeweeSession"):
        PeeweeSessionStorage(model)


def test_other_peewee_model_is_rejected(models: StoreModels) -> None:
    with pytest.raises(TypeError, match="must inherit from PeeweeSession"):
        PeeweeSessionStorage(models.User)  # type: ignore[type-var]


def test_unbound_model_is_rejected(models: StoreModels) -> None:
    class Unbound(PeeweeSession):
        user = peewee.ForeignKeyField(models.User)

    with pytest.raises(TypeError, match="not bound to a database"):
        PeeweeSessionStorage(Unbound)


def test_model_without_user_is_rejected(db: Any) -> None:
    class NoUser(PeeweeSession):
        class Meta:
            database = db

    with pytest.raises(TypeError, match="'user_id'"):
        PeeweeSessionStorage(NoUser)


def test_model_without_id_is_rejected(db: Any, models: StoreModels) -> None:
    class OtherKey(PeeweeSession):
        key = peewee.AutoField()
        user = peewee.ForeignKeyField(models.User)

        class Meta:
            database = db

    with pytest.raises(TypeError, match="'id'"):
        PeeweeSessionStorage(OtherKey)


def test_model_with_naive_timestamp_column_is_rejected(db: Any, models: StoreModels) -> None:
    class PlainTimes(PeeweeSession):
        user = peewee.ForeignKeyField(models.User)
        expires_at = peewee.DateTimeField()

        class Meta:
            database = db

    with pytest.raises(TypeError, match=r"PlainTimes\.expires_at must be a UTCDateTimeField"):
        PeeweeSessionStorage(PlainTimes)


def test_model_bound_through_a_proxy_is_checked_when_used(db_path: Path) -> None:
    proxy = peewee.DatabaseProxy()

    class ProxiedUser(PeeweeUser):
        class Meta:
            database = proxy

    class ProxiedSession(PeeweeSession):
        user = peewee.ForeignKeyField(ProxiedUser)

        class Meta:
            database = proxy

    storage = PeeweeSessionStorage(ProxiedSession)  # before the proxy is initialized
    proxy.initialize(open_sqlite(db_path))
    try:
        proxy.create_tables([ProxiedUser, ProxiedSession])
        user = ProxiedUser.create(email="proxy@example.com")
        record = make(storage, user, expires_at=NOW)

        refreshed = storage.refresh(record.id, updated_at=NOW, expires_at=NOW + MICRO)

        assert refreshed is not None
        assert storage.get_any(record.id).expires_at == NOW + MICRO
        assert storage._returning is True
    finally:
        proxy.close()


# create, get, get_any


def test_create_returns_the_stored_session(storage: Any, user: Any) -> None:
    record = make(
        storage,
        user,
        client_id="cli",
        client_name="CLI",
        user_agent="curl/8",
        ip="192.0.2.1",
        last_active_at=NOW - timedelta(minutes=5),
    )

    assert record.id is not None
    assert record.user_id == user.id
    assert session_status(record, now=NOW) == "active"
    assert (record.client_id, record.client_name, record.user_agent, record.ip) == (
        "cli",
        "CLI",
        "curl/8",
        "192.0.2.1",
    )
    assert snapshot(storage.get_any(record.id)) == snapshot(record)
    assert storage.get_any(record.id).last_active_at == NOW - timedelta(minutes=5)


def test_optional_fields_default_to_none(storage: Any, user: Any) -> None:
    record = storage.get_any(make(storage, user).id)

    assert record.last_active_at is None
    assert record.revoked_at is None
    assert (record.client_id, record.client_name, record.user_agent, record.ip) == (None,) * 4


def test_datetimes_with_other_offsets_are_stored_as_the_same_instant_in_utc(
    storage: Any, user: Any, db: Any
) -> None:
    plus_two = timezone(timedelta(hours=2))
    minus_five = timezone(timedelta(hours=-5, minutes=-30))
    record = make(
        storage,
        user,
        created_at=datetime(2026, 6, 6, 14, 0, tzinfo=plus_two),
        updated_at=datetime(2026, 6, 6, 6, 30, 0, 7, tzinfo=minus_five),
        expires_at=datetime(2026, 6, 7, 12, 0),  # naive: taken as UTC
    )

    for loaded in (record, storage.get_any(record.id)):
        assert loaded.created_at == NOW
        assert loaded.created_at.tzinfo == UTC
        assert loaded.updated_at == NOW + 7 * MICRO
        assert loaded.updated_at.tzinfo == UTC
        assert loaded.expires_at == NOW + timedelta(days=1)
    row = db.execute_sql(
        f"SELECT created_at, updated_at FROM sessions WHERE id = {db.param}", (record.id,)
    ).fetchone()
    if isinstance(db, LiteSqliteDatabase):
        assert row == ("2026-06-06 12:00:00.000000", "2026-06-06 12:00:00.000007")
    else:  # plain timestamp columns holding UTC
        naive = NOW.replace(tzinfo=None)
        assert tuple(row) == (naive, naive + 7 * MICRO)


def test_create_for_a_missing_user_is_a_value_error_and_stores_nothing(
    storage: Any, user: Any, models: StoreModels
) -> None:
    for user_id in (user.id + 1000, str(user.id + 1000), "abc", None, 2**80):
        with pytest.raises(UnknownUserError, match=f"no user has id {user_id!r}"):
            make(storage, user, user_id=user_id)
    assert issubclass(UnknownUserError, ValueError)
    assert models.Session.select().count() == 0


def test_create_accepts_string_user_ids(storage: Any, user: Any) -> None:
    record = make(storage, user, user_id=str(user.id))

    assert storage.get_any(record.id).user_id == user.id


def test_duplicate_token_hash_is_a_value_error(storage: Any, user: Any) -> None:
    make(storage, user, token_hash="same")

    with pytest.raises(ValueError, match="token hash already exists"):
        make(storage, user, token_hash="same")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token_hash", b"bytes"),
        ("token_hash", None),
        ("created_at", "2026-06-06T12:00:00Z"),
        ("updated_at", NOW.date()),
        ("expires_at", NOW.timestamp()),
        ("last_active_at", "yesterday"),
        ("client_id", 5),
        ("ip", ["192.0.2.1"]),
    ],
)
def test_create_rejects_wrong_types(
    storage: Any, user: Any, models: StoreModels, field: str, value: object
) -> None:
    with pytest.raises(TypeError, match=field):
        make(storage, user, **{field: value})
    assert models.Session.select().count() == 0


def test_get_finds_an_active_session_by_token_hash(storage: Any, user: Any) -> None:
    record = make(storage, user, token_hash="the-hash")
    make(storage, user)

    found = storage.get(token_hash="the-hash", now=NOW)

    assert found is not None
    assert found.id == record.id
    assert found.expires_at.tzinfo == UTC
    assert storage.get(token_hash="other", now=NOW) is None


def test_session_is_active_up_to_and_including_its_expiry_instant(storage: Any, user: Any) -> None:
    make(storage, user, token_hash="h", expires_at=NOW)

    at_expiry = storage.get(token_hash="h", now=NOW)
    assert at_expiry is not None
    assert session_status(at_expiry, now=NOW) == "active"
    assert storage.get(token_hash="h", now=NOW + MICRO) is None
    assert storage.get(token_hash="h", now=NOW - MICRO) is not None


def test_get_compares_instants_whatever_the_offset(storage: Any, user: Any) -> None:
    make(storage, user, token_hash="h", expires_at=NOW)
    tokyo = timezone(timedelta(hours=9))

    assert storage.get(token_hash="h", now=NOW.astimezone(tokyo)) is not None
    assert storage.get(token_hash="h", now=(NOW + MICRO).astimezone(tokyo)) is None


def test_get_ignores_revoked_sessions(storage: Any, user: Any) -> None:
    record = make(storage, user, token_hash="h", expires_at=NOW + timedelta(days=1))
    storage.revoke(record.id, revoked_at=NOW)

    assert storage.get(token_hash="h", now=NOW - timedelta(hours=1)) is None
    assert storage.get_any(record.id).status == "revoked"


def test_get_rejects_wrong_types(storage: Any) -> None:
    with pytest.raises(TypeError, match="token_hash"):
        storage.get(token_hash=b"h", now=NOW)
    with pytest.raises(TypeError, match="now"):
        storage.get(token_hash="h", now="2026-06-06")


def test_get_any_returns_sessions_whatever_their_status(storage: Any, user: Any) -> None:
    expired = make(storage, user, expires_at=NOW - timedelta(days=1))
    revoked = make(storage, user)
    storage.revoke(revoked.id, revoked_at=NOW)

    assert storage.get_any(expired.id).id == expired.id
    assert storage.get_any(revoked.id).revoked_at == NOW
    assert storage.get_any(expired.id + 1000) is None


def test_get_any_accepts_string_ids_and_finds_nothing_for_garbage(storage: Any, user: Any) -> None:
    record = make(storage, user)

    assert storage.get_any(str(record.id)).id == record.id
    for garbage in GARBAGE_IDS:
        assert storage.get_any(garbage) is None, garbage


# list_for_user


def ids(page: SessionPage[Any]) -> list[Any]:
    return [record.id for record in page.records]


def test_list_filters_by_status(storage: Any, user: Any, make_user: Any) -> None:
    active = make(storage, user, expires_at=NOW + timedelta(days=1))
    boundary = make(storage, user, expires_at=NOW)
    expired = make(storage, user, expires_at=NOW - MICRO)
    revoked = make(storage, user)
    storage.revoke(revoked.id, revoked_at=NOW)
    make(storage, make_user())  # another user's

    def listed(status: Any) -> set[Any]:
        return set(ids(storage.list_for_user(user.id, now=NOW, status=status)))

    assert listed("active") == {active.id, boundary.id}
    assert listed("expired") == {expired.id}
    assert listed("revoked") == {revoked.id}
    assert listed(None) == {active.id, boundary.id, expired.id, revoked.id}
    for record in storage.list_for_user(user.id, now=NOW).records:
        assert record.created_at.tzinfo == UTC


def test_list_accepts_string_user_ids_and_finds_nothing_for_garbage(
    storage: Any, user: Any
) -> None:
    record = make(storage, user)

    assert ids(storage.list_for_user(str(user.id), now=NOW)) == [record.id]
    for garbage in GARBAGE_IDS:
        page = storage.list_for_user(garbage, now=NOW)
        assert page.records == [], garbage
        assert page.next_cursor is None


def test_page_is_a_frozen_dataclass(storage: Any, user: Any) -> None:
    make(storage, user)
    page = storage.list_for_user(user.id, now=NOW)

    assert isinstance(page, SessionPage)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.next_cursor = "x"


@pytest.mark.parametrize("order_by", ORDERINGS)
def test_each_ordering_sorts_by_its_column(storage: Any, user: Any, order_by: str) -> None:
    records = [
        make(
            storage,
            user,
            created_at=NOW + timedelta(minutes=(i * 7) % 5),
            updated_at=NOW + timedelta(minutes=(i * 3) % 5),
            expires_at=NOW + timedelta(minutes=(i * 2) % 5),
        )
        for i in range(5)
    ]
    column, direction = order_by.rsplit("_", 1)

    listed = ids(storage.list_for_user(user.id, now=NOW, order_by=order_by))

    expected = sorted(records, key=lambda r: getattr(r, column), reverse=direction == "desc")
    assert listed == [r.id for r in expected]


def tied_sessions(storage: Any, user: Any, count: int = 23) -> list[Any]:
    """Sessions with few distinct values per column, so page ends fall inside ties."""
    records = []
    for i in range(count):
        record = make(
            storage,
            user,
            created_at=NOW - timedelta(hours=i % 3),
            updated_at=NOW - timedelta(hours=(i // 5) % 2),
            expires_at=NOW + timedelta(hours=(i % 4) - 2),
        )
        if i % 6 == 0:
            storage.revoke(record.id, revoked_at=NOW)
        records.append(storage.get_any(record.id))
    return records


def page_through(storage: Any, user_id: Any, **kwargs: Any) -> list[SessionPage[Any]]:
    pages = [storage.list_for_user(user_id, now=NOW, **kwargs)]
    while pages[-1].next_cursor is not None:
        assert len(pages) < 100, "paging does not terminate"
        pages.append(
            storage.list_for_user(user_id, now=NOW, cursor=pages[-1].next_cursor, **kwargs)
        )
    return pages


@pytest.mark.parametrize("order_by", ORDERINGS)
def test_paging_to_the_end_visits_each_session_once_in_order(
    storage: Any, user: Any, make_user: Any, order_by: str
) -> None:
    # One set of sessions for every page size and status: reading changes nothing.
    records = tied_sessions(storage, user)
    tied_sessions(storage, make_user(), count=5)
    column, direction = order_by.rsplit("_", 1)
    for limit in (1, 4, 7):
        for status in (None, "active", "expired", "revoked"):
            case = f"limit={limit}, status={status}"
            wanted = [r for r in records if status is None or session_status(r, now=NOW) == status]
            expected = sorted(
                wanted, key=lambda r: (getattr(r, column), r.id), reverse=direction == "desc"
            )

            pages = page_through(storage, user.id, order_by=order_by, limit=limit, status=status)

            got = [record_id for page in pages for record_id in ids(page)]
            assert got == [r.id for r in expected], case
            assert all(len(page.records) == limit for page in pages[:-1]), case
            assert 0 < len(pages[-1].records) <= limit or not expected, case


def test_all_sessions_tied_on_every_column_still_page_by_id(storage: Any, user: Any) -> None:
    records = [
        make(storage, user, created_at=NOW, updated_at=NOW, expires_at=NOW) for _ in range(10)
    ]

    pages = page_through(storage, user.id, order_by="updated_at_desc", limit=3)

    assert [len(page.records) for page in pages] == [3, 3, 3, 1]
    assert [i for page in pages for i in ids(page)] == sorted(
        (r.id for r in records), reverse=True
    )


def test_rows_inserted_between_pages_do_not_cause_skips_or_repeats(
    storage: Any, user: Any
) -> None:
    originals = [make(storage, user, updated_at=NOW - timedelta(minutes=i)) for i in range(6)]
    first = storage.list_for_user(user.id, now=NOW, limit=3)
    newer = make(storage, user, updated_at=NOW + timedelta(minutes=1))

    second = storage.list_for_user(user.id, now=NOW, limit=3, cursor=first.next_cursor)

    assert ids(first) + ids(second) == [r.id for r in originals]
    assert newer.id not in ids(second)
    assert second.next_cursor is None


@pytest.mark.sqlite_only
@pytest.mark.parametrize("order_by", ORDERINGS)
def test_next_page_seeks_through_the_index(
    storage: Any, user: Any, db: Any, order_by: str, caplog: pytest.LogCaptureFixture
) -> None:
    tied_sessions(storage, user, count=8)
    first = storage.list_for_user(user.id, now=NOW, order_by=order_by, limit=3)
    column, direction = order_by.rsplit("_", 1)

    with caplog.at_level(logging.DEBUG, logger="peewee"):
        storage.list_for_user(
            user.id, now=NOW, order_by=order_by, limit=3, cursor=first.next_cursor
        )

    (sql, params), *_ = [r.msg for r in caplog.records if str(r.msg).startswith("('SELECT")]
    plan = " ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    seek = f"{column}{'<' if direction == 'desc' else '>'}?"
    assert f"USING INDEX session_user_id_{column}_id (user_id=? AND {seek})" in plan
    assert "TEMP B-TREE" not in plan


def test_cursor_is_bound_to_its_ordering(storage: Any, user: Any) -> None:
    for _ in range(3):
        make(storage, user)
    cursor = storage.list_for_user(user.id, now=NOW, limit=1).next_cursor
    assert cursor is not None

    for other in ORDERINGS[1:]:
        with pytest.raises(InvalidCursorError):
            storage.list_for_user(user.id, now=NOW, order_by=other, cursor=cursor)
    assert len(storage.list_for_user(user.id, now=NOW, cursor=cursor).records) == 2


def test_bad_cursors_are_invalid_cursor_errors(storage: Any, user: Any) -> None:
    for _ in range(3):
        make(storage, user)
    good = storage.list_for_user(user.id, now=NOW, limit=1).next_cursor
    assert good is not None
    flipped = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    bad = ["", "garbage!", "A" * 100_000, good[:-3], good + "AAAA", flipped, 5, b"x", ["x"]]

    for cursor in bad:
        with pytest.raises(InvalidCursorError):
            storage.list_for_user(user.id, now=NOW, limit=1, cursor=cursor)
    assert issubclass(InvalidCursorError, ValueError)


def test_cursor_naming_an_impossible_id_is_invalid(storage: Any, user: Any) -> None:
    for row_id in ("abc", 2**70):
        cursor = encode_cursor("updated_at_desc", NOW, row_id)
        with pytest.raises(InvalidCursorError, match="no possible session"):
            storage.list_for_user(user.id, now=NOW, cursor=cursor)


def test_cursor_positions_are_independent_of_the_user_it_is_used_for(
    storage: Any, user: Any, make_user: Any
) -> None:
    other = make_user()
    mine = [make(storage, user, updated_at=NOW - timedelta(minutes=i)) for i in range(3)]
    make(storage, other, updated_at=NOW + timedelta(minutes=1))  # before the position
    cursor = encode_cursor("updated_at_desc", mine[0].updated_at, mine[0].id)

    assert ids(storage.list_for_user(user.id, now=NOW, cursor=cursor)) == [r.id for r in mine[1:]]
    assert storage.list_for_user(other.id, now=NOW, cursor=cursor).records == []


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "10", None])
def test_limit_must_be_a_positive_int(storage: Any, user: Any, limit: Any) -> None:
    with pytest.raises(ValueError, match="limit must be an int >= 1"):
        storage.list_for_user(user.id, now=NOW, limit=limit)


def test_limit_above_the_cap_is_lowered_and_paging_continues(
    storage: Any, user: Any, models: StoreModels, db: Any
) -> None:
    rows = [
        {
            "token_hash": f"bulk-{i}",
            "user": user.id,
            "created_at": NOW,
            "updated_at": NOW - i * MICRO,
            "expires_at": NOW,
        }
        for i in range(MAX_LIST_LIMIT + 2)
    ]
    with db.atomic():
        models.Session.insert_many(rows).execute()

    first = storage.list_for_user(user.id, now=NOW, limit=10**9)
    second = storage.list_for_user(user.id, now=NOW, limit=10**9, cursor=first.next_cursor)

    assert len(first.records) == MAX_LIST_LIMIT
    assert first.next_cursor is not None
    assert len(second.records) == 2
    assert second.next_cursor is None
    assert len(set(ids(first)) | set(ids(second))) == MAX_LIST_LIMIT + 2


def test_exact_final_page_has_no_next_cursor(storage: Any, user: Any) -> None:
    for _ in range(4):
        make(storage, user)

    first = storage.list_for_user(user.id, now=NOW, limit=2)
    second = storage.list_for_user(user.id, now=NOW, limit=2, cursor=first.next_cursor)

    assert first.next_cursor is not None
    assert len(second.records) == 2
    assert second.next_cursor is None


def test_unknown_ordering_status_or_bad_now_are_rejected(storage: Any, user: Any) -> None:
    with pytest.raises(ValueError, match="order_by"):
        storage.list_for_user(user.id, now=NOW, order_by="id_desc")
    with pytest.raises(ValueError, match="order_by"):
        storage.list_for_user(user.id, now=NOW, order_by=["updated_at_desc"])
    with pytest.raises(ValueError, match="status"):
        storage.list_for_user(user.id, now=NOW, status="gone")
    with pytest.raises(TypeError, match="now"):
        storage.list_for_user(user.id, now=None)


# refresh


def test_refresh_rolls_the_session_forward(refresh_storage: Any, user: Any) -> None:
    record = make(refresh_storage, user, last_active_at=NOW - timedelta(hours=1))
    minus_three = timezone(timedelta(hours=-3))

    refreshed = refresh_storage.refresh(
        str(record.id),
        updated_at=NOW.astimezone(minus_three),
        expires_at=NOW + timedelta(days=1),
        last_active_at=NOW,
    )

    assert refreshed is not None
    assert refreshed.id == record.id
    stored = refresh_storage.get_any(record.id)
    for loaded in (refreshed, stored):
        assert loaded.updated_at == NOW
        assert loaded.updated_at.tzinfo == UTC
        assert loaded.expires_at == NOW + timedelta(days=1)
        assert loaded.last_active_at == NOW
        assert loaded.created_at == record.created_at
        assert loaded.token_hash == record.token_hash
        assert loaded.user_id == user.id


@pytest.mark.parametrize("stored", [None, NOW - timedelta(minutes=30)])
def test_refresh_without_last_active_at_keeps_the_stored_value(
    refresh_storage: Any, user: Any, stored: Any
) -> None:
    record = make(refresh_storage, user, last_active_at=stored)

    refreshed = refresh_storage.refresh(
        record.id, updated_at=NOW, expires_at=NOW + timedelta(days=1)
    )

    assert refreshed.last_active_at == stored
    assert refresh_storage.get_any(record.id).last_active_at == stored
    assert refresh_storage.get_any(record.id).expires_at == NOW + timedelta(days=1)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_refresh_needs_the_session_active_at_updated_at(
    refresh_storage: Any, user: Any, offset: int
) -> None:
    record = make(refresh_storage, user, expires_at=NOW + offset * MICRO)
    before = snapshot(refresh_storage.get_any(record.id))

    refreshed = refresh_storage.refresh(
        record.id, updated_at=NOW, expires_at=NOW + timedelta(days=1), last_active_at=NOW
    )

    if offset < 0:
        assert refreshed is None
        assert snapshot(refresh_storage.get_any(record.id)) == before
    else:
        assert refreshed is not None
        assert refresh_storage.get_any(record.id).expires_at == NOW + timedelta(days=1)


def test_refresh_never_revives_a_revoked_session(refresh_storage: Any, user: Any) -> None:
    record = make(refresh_storage, user, expires_at=NOW + timedelta(days=1))
    refresh_storage.revoke(record.id, revoked_at=NOW - timedelta(minutes=1))
    before = snapshot(refresh_storage.get_any(record.id))

    refreshed = refresh_storage.refresh(
        record.id, updated_at=NOW, expires_at=NOW + timedelta(days=2), last_active_at=NOW
    )

    assert refreshed is None
    assert snapshot(refresh_storage.get_any(record.id)) == before


def test_refresh_of_missing_or_garbage_ids_is_none(refresh_storage: Any, user: Any) -> None:
    record = make(refresh_storage, user)

    for session_id in [record.id + 1000, *GARBAGE_IDS]:
        assert refresh_storage.refresh(session_id, updated_at=NOW, expires_at=NOW + MICRO) is None
    assert refresh_storage.get_any(record.id).expires_at == record.expires_at


def test_refresh_rejects_wrong_types(refresh_storage: Any, user: Any) -> None:
    record = make(refresh_storage, user)

    with pytest.raises(TypeError, match="updated_at"):
        refresh_storage.refresh(record.id, updated_at="now", expires_at=NOW)
    with pytest.raises(TypeError, match="expires_at"):
        refresh_storage.refresh(record.id, updated_at=NOW, expires_at=None)
    with pytest.raises(TypeError, match="last_active_at"):
        refresh_storage.refresh(record.id, updated_at=NOW, expires_at=NOW, last_active_at=1)


def race_refresh_against_revoke(
    storage: Any, db: Any, record: Any, *, bulk: bool, revoked_at: datetime, delay: float
) -> list[tuple[int, bool, Any]]:
    """Refresh ``record`` over and over while another thread revokes it.

    Returns ``(k, revoke_had_returned, result)`` per refresh attempt ``k``; the
    refresher stops three attempts after it saw the revocation return.
    """
    revoked = threading.Event()
    refreshing = threading.Event()
    start = threading.Barrier(2)
    attempts: list[tuple[int, bool, Any]] = []
    errors: list[BaseException] = []

    def refresher() -> None:
        try:
            start.wait()
            after_revoke = 0
            for k in itertools.count(1):
                known_revoked = revoked.is_set()
                result = storage.refresh(
                    record.id,
                    updated_at=NOW,
                    expires_at=NOW + timedelta(hours=1, seconds=k),
                    last_active_at=NOW + k * MICRO,
                )
                attempts.append((k, known_revoked, result))
                if result is not None:
                    refreshing.set()
                # SQLite writers wait by polling: leave the revoker gaps to get in.
                time.sleep(0.0002)
                after_revoke += known_revoked
                if after_revoke >= 3 or k > 5000:
                    break
        except BaseException as error:
            errors.append(error)
        finally:
            db.close()

    def revoker() -> None:
        try:
            start.wait()
            refreshing.wait(timeout=10)
            time.sleep(delay)
            if bulk:
                storage.revoke_all_for_user(record.user_id, revoked_at=revoked_at)
            else:
                storage.revoke(record.id, revoked_at=revoked_at)
            revoked.set()
        except BaseException as error:
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=refresher), threading.Thread(target=revoker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    return attempts


@pytest.mark.parametrize("bulk", [False, True])
def test_refresh_racing_a_revocation_never_outlives_it(
    refresh_storage: Any, user: Any, db: Any, bulk: bool
) -> None:
    storage = refresh_storage
    revoked_at = NOW + timedelta(minutes=1)
    for iteration in range(15):
        record = make(storage, user, expires_at=NOW + timedelta(hours=1))
        # Land the revocation somewhere inside the stream of refreshes.
        delay = random.Random(iteration).uniform(0, 0.002)

        attempts = race_refresh_against_revoke(
            storage, db, record, bulk=bulk, revoked_at=revoked_at, delay=delay
        )

        outcomes = [result is not None for _, _, result in attempts]
        successes = [(k, result) for k, _, result in attempts if result is not None]
        # Refreshes succeed until the revocation lands and never again after it.
        assert outcomes == sorted(outcomes, reverse=True)
        assert all(result is None for _, known_revoked, result in attempts if known_revoked)
        assert any(known_revoked for _, known_revoked, _ in attempts)
        assert successes
        for k, result in successes:
            assert result.revoked_at is None
            assert result.expires_at == NOW + timedelta(hours=1, seconds=k)
        # The stored row is the last successful refresh, revoked after it.
        final = storage.get_any(record.id)
        assert final.revoked_at == revoked_at
        last_k = successes[-1][0]
        assert final.expires_at == NOW + timedelta(hours=1, seconds=last_k)
        assert final.last_active_at == NOW + last_k * MICRO


# revoke, revoke_all_for_user


def test_revoke_marks_the_session_and_keeps_the_first_time(storage: Any, user: Any) -> None:
    record = make(storage, user)
    other = make(storage, user)

    storage.revoke(str(record.id), revoked_at=NOW.astimezone(timezone(timedelta(hours=4))))
    storage.revoke(record.id, revoked_at=NOW + timedelta(hours=1))

    stored = storage.get_any(record.id)
    assert stored.revoked_at == NOW
    assert stored.revoked_at.tzinfo == UTC
    assert stored.status == "revoked"
    assert storage.get(token_hash=record.token_hash, now=NOW) is None
    assert storage.get_any(other.id).revoked_at is None


def test_revoke_of_missing_or_garbage_ids_changes_nothing(storage: Any, user: Any) -> None:
    record = make(storage, user)

    for session_id in [record.id + 1000, *GARBAGE_IDS]:
        assert storage.revoke(session_id, revoked_at=NOW) is None
    assert storage.get_any(record.id).revoked_at is None
    with pytest.raises(TypeError, match="revoked_at"):
        storage.revoke(record.id, revoked_at="now")


def test_revoke_all_for_user_counts_what_it_revoked(
    storage: Any, user: Any, make_user: Any
) -> None:
    other_user = make_user()
    current = make(storage, user)
    others = [make(storage, user) for _ in range(3)]
    expired = make(storage, user, expires_at=NOW - timedelta(days=1))
    already = make(storage, user)
    storage.revoke(already.id, revoked_at=NOW - timedelta(days=1))
    bystander = make(storage, other_user)

    count = storage.revoke_all_for_user(
        str(user.id), revoked_at=NOW, except_session_id=str(current.id)
    )

    assert count == 4  # three others, and the expired one
    for record in [*others, expired]:
        assert storage.get_any(record.id).revoked_at == NOW
    assert storage.get_any(current.id).revoked_at is None
    assert storage.get_any(already.id).revoked_at == NOW - timedelta(days=1)
    assert storage.get_any(bystander.id).revoked_at is None
    assert storage.revoke_all_for_user(user.id, revoked_at=NOW, except_session_id=current.id) == 0
    assert storage.revoke_all_for_user(user.id, revoked_at=NOW) == 1
    assert storage.get_any(current.id).revoked_at == NOW


def test_revoke_all_with_garbage_ids(storage: Any, user: Any) -> None:
    records = [make(storage, user) for _ in range(2)]

    for garbage in GARBAGE_IDS:
        assert storage.revoke_all_for_user(garbage, revoked_at=NOW) == 0
    assert storage.get_any(records[0].id).revoked_at is None
    # An except id no session could have excludes nothing.
    assert storage.revoke_all_for_user(user.id, revoked_at=NOW, except_session_id="abc") == 2


# on_commit


def test_on_commit_outside_a_transaction_runs_at_once(storage: Any, user: Any) -> None:
    calls: list[str] = []
    make(storage, user)

    storage.on_commit(lambda: calls.append("ran"))

    assert calls == ["ran"]


def test_on_commit_waits_for_the_application_transaction(storage: Any, user: Any, db: Any) -> None:
    seen_from_elsewhere: list[Any] = []

    def other_connection_sees(record_id: Any) -> None:
        def look() -> None:
            seen_from_elsewhere.append(storage.get_any(record_id))
            db.close()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join()

    with db.atomic():
        record = make(storage, user)
        storage.on_commit(lambda: other_connection_sees(record.id))
        storage.on_commit(lambda: seen_from_elsewhere.append("second"))
        assert seen_from_elsewhere == []
        other_connection_sees(record.id)  # not committed yet
        assert seen_from_elsewhere == [None]

    assert seen_from_elsewhere[1].id == record.id
    assert seen_from_elsewhere[2] == "second"


def test_on_commit_is_dropped_when_the_transaction_rolls_back(
    storage: Any, user: Any, db: Any, models: StoreModels
) -> None:
    calls: list[str] = []

    with pytest.raises(RuntimeError), db.atomic():
        make(storage, user)
        storage.on_commit(lambda: calls.append("ran"))
        raise RuntimeError("application failure")

    with db.atomic():
        pass
    assert calls == []
    assert models.Session.select().count() == 0


def test_on_commit_is_dropped_with_the_savepoint_holding_the_write(
    storage: Any, user: Any, db: Any
) -> None:
    calls: list[str] = []

    with db.atomic():
        with pytest.raises(RuntimeError), db.atomic():
            dropped = make(storage, user)
            storage.on_commit(lambda: calls.append("inner"))
            raise RuntimeError("undo the savepoint")
        kept = make(storage, user)
        storage.on_commit(lambda: calls.append("outer"))
        assert calls == []

    assert calls == ["outer"]
    assert storage.get(token_hash=dropped.token_hash, now=NOW) is None
    assert storage.get(token_hash=kept.token_hash, now=NOW) is not None
    assert [r.token_hash for r in storage.list_for_user(user.id, now=NOW).records] == [
        kept.token_hash
    ]


def test_every_write_joins_the_application_transaction(storage: Any, user: Any, db: Any) -> None:
    record = make(storage, user)
    other = make(storage, user)

    with pytest.raises(RuntimeError), db.atomic():
        make(storage, user, token_hash="rolled-back")
        storage.refresh(record.id, updated_at=NOW, expires_at=NOW + timedelta(days=9))
        storage.revoke(other.id, revoked_at=NOW)
        storage.revoke_all_for_user(user.id, revoked_at=NOW)
        storage.purge_expired(now=NOW + timedelta(days=365))
        raise RuntimeError("roll it all back")

    assert storage.get(token_hash="rolled-back", now=NOW) is None
    assert snapshot(storage.get_any(record.id)) == snapshot(record)
    assert storage.get_any(other.id).revoked_at is None


def test_on_commit_callback_errors_propagate_and_non_callables_are_rejected(
    storage: Any,
) -> None:
    def fail() -> None:
        raise LookupError("hook failed")

    with pytest.raises(LookupError, match="hook failed"):
        storage.on_commit(fail)
    with pytest.raises(TypeError, match="callable"):
        storage.on_commit("not a function")


# purge_expired


def test_purge_deletes_sessions_ended_longer_ago_than_older_than(storage: Any, user: Any) -> None:
    long_expired = make(storage, user, expires_at=NOW - timedelta(days=31))
    recently_expired = make(storage, user, expires_at=NOW - timedelta(days=29))
    exactly_at_cutoff = make(storage, user, expires_at=NOW - timedelta(days=30))
    long_revoked = make(storage, user, expires_at=NOW + timedelta(days=300))
    storage.revoke(long_revoked.id, revoked_at=NOW - timedelta(days=31))
    recently_revoked = make(storage, user, expires_at=NOW + timedelta(days=300))
    storage.revoke(recently_revoked.id, revoked_at=NOW - timedelta(days=1))
    active = make(storage, user, expires_at=NOW + timedelta(days=1))

    assert storage.purge_expired(now=NOW) == 2

    assert storage.get_any(long_expired.id) is None
    assert storage.get_any(long_revoked.id) is None
    for kept in (recently_expired, exactly_at_cutoff, recently_revoked, active):
        assert storage.get_any(kept.id) is not None
    # The two expired ones are older than a day; the revocation is a day old, no older.
    assert storage.purge_expired(now=NOW, older_than=timedelta(days=1, seconds=1)) == 2
    assert storage.get_any(recently_revoked.id) is not None
    assert storage.purge_expired(now=NOW, older_than=timedelta(0)) == 1
    assert storage.get_any(recently_revoked.id) is None
    assert storage.get_any(active.id) is not None


def test_purge_defaults_to_the_current_time(storage: Any, user: Any) -> None:
    real_now = datetime.now(UTC)
    old = make(storage, user, expires_at=real_now - timedelta(days=40))
    recent = make(storage, user, expires_at=real_now - timedelta(days=20))

    assert storage.purge_expired() == 1
    assert storage.get_any(old.id) is None
    assert storage.get_any(recent.id) is not None


def test_purge_rejects_bad_arguments_and_handles_huge_ages(storage: Any, user: Any) -> None:
    make(storage, user, expires_at=NOW - timedelta(days=400))

    with pytest.raises(TypeError, match="older_than"):
        storage.purge_expired(older_than=30)
    with pytest.raises(ValueError, match="negative"):
        storage.purge_expired(older_than=timedelta(days=-1))
    with pytest.raises(TypeError, match="now"):
        storage.purge_expired(now="today")
    assert storage.purge_expired(now=NOW, older_than=timedelta.max) == 0
    assert storage.purge_expired(now=NOW) == 1


# Persistence


def test_sessions_and_cursors_survive_closing_and_reopening(
    storage: Any, user: Any, db: Any, db_target: Path | str
) -> None:
    records = [make(storage, user, updated_at=NOW - timedelta(minutes=i)) for i in range(4)]
    storage.revoke(records[1].id, revoked_at=NOW)
    storage.refresh(records[2].id, updated_at=NOW, expires_at=NOW + timedelta(days=3))
    first = storage.list_for_user(user.id, now=NOW, limit=2)
    before = {r.id: snapshot(storage.get_any(r.id)) for r in records}
    db.close()

    db2, models2 = open_models(db_target)
    try:
        reopened = PeeweeSessionStorage(models2.Session)
        after = {r.id: snapshot(reopened.get_any(r.id)) for r in records}
        assert after == before
        assert reopened.get_any(records[1].id).status == "revoked"
        assert reopened.get(token_hash=records[0].token_hash, now=NOW).id == records[0].id
        rest = reopened.list_for_user(user.id, now=NOW, limit=2, cursor=first.next_cursor)
        assert sorted(ids(first) + ids(rest)) == sorted(r.id for r in records)
        assert not set(ids(first)) & set(ids(rest))
    finally:
        db2.close()
