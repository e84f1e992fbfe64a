"""The two read/write paths of ``PeeweeAccountsStorage`` agree.

Without an overridden filter hook the storage runs its hot statements as SQL
compiled once (``StatementCache``); a subclass overriding
``filter_user_query`` / ``filter_social_account_query`` builds every query
through peewee instead. Here the hooks of ``BuilderPath`` pass every query
through unchanged, so both paths must see the same rows: every call is made
on each path over the same data, and the results (rows as field dicts),
exceptions (type, message, attributes) and, for writes, the tables as SQL
reads them back must be equal.

The ``where`` conditions themselves are shared by the two paths (one lambda
gets slots or values), so what this compares is everything else: statement
building and cache keys, slot conversion, row readers, ordering. Inserts go
through the same compiled INSERT on both paths; in writes the paths differ
in the reads they make (retries, conflicts, the disconnect checks) and in
``update_social_account``'s UPDATE, compiled on one and built by peewee on
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cross_auth_lite as lite
from cross_auth_lite.adapters.portable import PORTABLE_ENV
from tests.factories import connect, identity, signup

pytestmark = pytest.mark.all_backends

Accounts = lite.PeeweeAccountsStorage[Any, Any]
Call = Callable[[Accounts], object]

PARIS = timezone(timedelta(hours=2))
EXPIRES = datetime(2031, 5, 4, 12, 30, 15, 250, tzinfo=PARIS)
LATER = datetime(2032, 1, 1, tzinfo=UTC)
TABLES = ("social_accounts", "users")  # in deletion order; the builder path makes no sessions


class BuilderPath(lite.PeeweeAccountsStorage[Any, Any]):
    """Pass-through filter hooks: the query-builder path over the same rows."""

    def filter_user_query(self, query: Any) -> Any:
        return query

    def filter_social_account_query(self, query: Any) -> Any:
        return query


def compiled_path(store: lite.LiteStore) -> Accounts:
    accounts = store.accounts
    assert accounts._plain_users is True
    assert accounts._plain_accounts is True
    return accounts


def builder_path(store: lite.LiteStore) -> Accounts:
    accounts = BuilderPath(store.models.User, store.models.SocialAccount)
    assert accounts._plain_users is False
    assert accounts._plain_accounts is False
    return accounts


# What a call did, in comparable form


def plain(value: object) -> object:
    """``value`` in a form whose equality is strict.

    Model instances become their class name, field dicts and dirty fields;
    every other value carries its type, so ``1`` is not ``True`` and a
    datetime keeps its offset.
    """
    if isinstance(value, peewee.Model):
        data = {
            # created_at is the clock at insert: only its presence compares.
            name: (field is not None if name == "created_at" else plain(field))
            for name, field in value.__data__.items()
        }
        return (type(value).__name__, data, sorted(value._dirty))
    if isinstance(value, list | tuple):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    return (type(value).__name__, value)


def outcome(call: Call, accounts: Accounts) -> object:
    """What ``call(accounts)`` returned or raised."""
    try:
        value = call(accounts)
    except Exception as error:
        attributes = {
            name: item
            for name, item in vars(error).items()
            if isinstance(item, str | int | type(None))
        }
        return ("raised", type(error), str(error), attributes)
    return ("returned", plain(value))


def report(disagreements: list[str], shown: int = 5) -> str:
    more = len(disagreements) - shown
    return "\n".join(disagreements[:shown] + ([f"... and {more} more"] if more > 0 else []))


def snapshot(
    store: lite.LiteStore, names: tuple[str, ...] = TABLES
) -> dict[str, list[dict[str, Any]]]:
    """Every table as SQL reads it: no storage and no model involved.

    ``created_at`` is the clock at insert, so only its presence is compared.
    """
    tables = {}
    for table in names:
        cursor = store.database.execute_sql(f"SELECT * FROM {table} ORDER BY id")
        names = [column[0] for column in cursor.description]
        tables[table] = [
            {
                name: (value is not None if name == "created_at" else value)
                for name, value in zip(names, row, strict=True)
            }
            for row in cursor.fetchall()
        ]
    return tables


def reset(store: lite.LiteStore) -> None:
    """Empty the tables; ids start at 1 again (SQLite reuses rowids of an empty table)."""
    database = store.database
    with database.atomic():
        for table in TABLES:
            database.execute_sql(f"DELETE FROM {table}")
            if isinstance(database, peewee.PostgresqlDatabase):  # faster than TRUNCATE
                database.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"
                )


def seed(accounts: Accounts, *, shared: bool) -> None:
    """Users 1-4 and social accounts 1-4 (1-6 in a shared store)."""
    ada, _ = signup(
        accounts,
        "ada@example.com",
        "gh-1",
        access_token_expires_at=EXPIRES,
        provider_email="ada@github.example",
        provider_email_verified=True,
    )  # user 1, account 1 (login)
    connect(accounts, ada.id, "gh-2", is_login_method=False)  # account 2
    bob, _ = signup(accounts, "bob@example.com", "gh-3")  # user 2, account 3
    carol = accounts.create_user(
        user_info={"email": "carol@example.com"}, extra_fields={"hashed_password": "pw-hash"}
    )  # user 3, has a password
    connect(accounts, carol.id, "gh-4", refresh_token_expires_at=LATER)  # account 4
    accounts.create_user(user_info={})  # user 4: no email, no accounts
    if shared:
        connect(accounts, bob.id, "gh-1", is_login_method=False)  # account 5: gh-1 twice
        connect(accounts, carol.id, "gh-2", is_login_method=False)  # account 6: gh-2 twice


# Reads

ODD_IDS: list[object] = ["abc", "", " ", "1.5", 2**80, -(2**80), None, True, 1.0, [1], "1\x00"]


def read_cases() -> dict[str, Call]:
    cases: dict[str, Call] = {}

    def add(name: str, call: Call) -> None:
        assert name not in cases
        cases[name] = call

    for email in ["ada@example.com", "carol@example.com", "ADA@example.com", "", "x\x00", None, 5]:
        add(f"find_user_by_email({email!r})", lambda a, e=email: a.find_user_by_email(e))
    for uid in [1, 2, 3, 4, 5, "1", "12", " 3 ", "-1", 0, *ODD_IDS]:
        add(f"find_user_by_id({uid!r})", lambda a, i=uid: a.find_user_by_id(i))
    for pid in ["gh-1", "gh-2", "gh-3", "gh-4", "gh-9"]:
        for user_id in [None, 1, "2", 3, 999, "abc", 2**80]:
            for login in [None, True, False]:

                def find(a: Accounts, p: str = pid, u: object = user_id, x: object = login) -> Any:
                    return a.find_social_account(
                        provider="github", provider_user_id=p, user_id=u, is_login_method=x
                    )

                add(f"find_social_account({pid}, user_id={user_id!r}, login={login})", find)
        add(
            f"find_social_account(gitlab, {pid})",
            lambda a, p=pid: a.find_social_account(provider="gitlab", provider_user_id=p),
        )
        add(
            f"has_social_account({pid})",
            lambda a, p=pid: a.has_social_account(provider="github", provider_user_id=p),
        )
    add(
        "find_social_account(login='yes')",
        lambda a: a.find_social_account(
            provider="github",
            provider_user_id="gh-1",
            is_login_method="yes",  # type: ignore[arg-type]
        ),
    )
    add(
        "find_social_account(provider=None)",
        lambda a: a.find_social_account(provider=None, provider_user_id="gh-1"),  # type: ignore[arg-type]
    )
    add(
        "has_social_account(provider=None)",
        lambda a: a.has_social_account(provider=None, provider_user_id="gh-1"),  # type: ignore[arg-type]
    )
    for account_id in [1, 2, 3, 4, 5, 6, 7, "2", " 6", *ODD_IDS]:
        add(
            f"find_social_account_by_id({account_id!r})",
            lambda a, i=account_id: a.find_social_account_by_id(i),
        )
    for uid in [1, 2, 3, 4, 5, "1", "3", *ODD_IDS]:
        add(f"list_social_accounts({uid!r})", lambda a, i=uid: a.list_social_accounts(user_id=i))
    return cases


READS = read_cases()


@pytest.fixture(params=["exclusive", "shared", "encrypted"])
def seeded_store(
    request: pytest.FixtureRequest, tmp_path: Path, make_database_url: Callable[[], str | None]
) -> Iterator[lite.LiteStore]:
    """A store of each kind holding ``seed``'s rows (encrypted: tokens under a key)."""
    kind = request.param
    with lite.open(
        tmp_path / kind,
        shared_connections=kind == "shared",
        encryption_key=lite.generate_key() if kind == "encrypted" else None,
        database_url=make_database_url(),
    ) as store:
        seed(store.accounts, shared=store.shared_connections)
        yield store


def test_reads_agree(seeded_store: lite.LiteStore) -> None:
    compiled, built = compiled_path(seeded_store), builder_path(seeded_store)
    disagreements = []
    for name, call in READS.items():
        first = outcome(call, compiled)
        again = outcome(call, compiled)  # now from the cached statement
        other = outcome(call, built)
        if not first == again == other:
            disagreements.append(
                f"{name}:\n  compiled {first}\n  again    {again}\n  builder  {other}"
            )
    assert not disagreements, report(disagreements)

    # Each side took its own path: the compiled statements were built for the
    # reads, and the builder path compiled none (only inserts and the
    # filter-free identity lookup).
    compiled_keys = set(compiled._statements._statements)
    built_keys = set(built._statements._statements)
    assert {("user", "email"), ("user", "id"), ("accounts", "id", 1)} <= compiled_keys
    assert ("accounts", "owner", None) in compiled_keys
    assert any(key[0] == "accounts" and key[1][0] == "identity" for key in compiled_keys)
    assert not {key for key in built_keys if key[0] in ("user", "accounts")}


def test_the_shared_identity_is_ambiguous_on_both_paths(shared_store: lite.LiteStore) -> None:
    seed(shared_store.accounts, shared=True)
    call: Call = lambda a: a.find_social_account(provider="github", provider_user_id="gh-1")  # noqa: E731
    compiled = outcome(call, compiled_path(shared_store))
    assert compiled == outcome(call, builder_path(shared_store))
    assert compiled[:2] == ("raised", lite.AmbiguousSocialAccountError)  # type: ignore[index]


# Writes


def _user(email: str | None, **extra: Any) -> Any:
    return {
        "user_info": {"email": email},
        "email": email,
        "email_verified": True,
        "extra_fields": extra or None,
    }


def _signup(email: str | None, pid: str, **overrides: Any) -> Call:
    return lambda a: a.create_user_with_identity(
        user=_user(email), identity=lambda u: identity(u.id, pid, **overrides)
    )


def _refuse(user: Any) -> Any:
    raise RuntimeError("identity hook refused")


def _connect(user_id: object, pid: str, **overrides: Any) -> Call:
    return lambda a: a.create_social_account(**identity(user_id, pid, **overrides))


def _update(account_id: object, **overrides: Any) -> Call:
    values: dict[str, Any] = {
        "access_token": "access-2",
        "refresh_token": None,
        "access_token_expires_at": LATER,
        "refresh_token_expires_at": None,
        "scope": "repo",
        "provider_email": "new@github.example",
        "provider_email_verified": False,
    }
    values.update(overrides)
    return lambda a: a.update_social_account(account_id, **values)


def _disconnect(user_id: object, account_id: object, provider: object = "github") -> Call:
    return lambda a: a.disconnect_social_account(
        user_id=user_id,
        provider=provider,  # type: ignore[arg-type]
        social_account_id=account_id,
    )


WRITES: dict[str, Call] = {
    # create_user
    "create_user new": lambda a: a.create_user(user_info={"email": "dan@example.com"}),
    "create_user verified from user_info": lambda a: a.create_user(
        user_info={"email": "dan@example.com", "email_verified": True}
    ),
    "create_user no email": lambda a: a.create_user(user_info={}),
    "create_user with password": lambda a: a.create_user(
        user_info={}, email="dan@example.com", extra_fields={"hashed_password": "h"}
    ),
    "create_user taken email": lambda a: a.create_user(user_info={"email": "ada@example.com"}),
    "create_user email not text": lambda a: a.create_user(user_info={"email": 5}),
    "create_user unknown extra field": lambda a: a.create_user(
        user_info={}, extra_fields={"nickname": "x"}
    ),
    "create_user user_info not a dict": lambda a: a.create_user(user_info=None),  # type: ignore[arg-type]
    # create_user_with_identity
    "signup new": _signup("dan@example.com", "gh-9"),
    "signup no email": _signup(None, "gh-9", is_login_method=False),
    "signup taken identity": _signup("dan@example.com", "gh-1"),
    "signup taken identity, not for login": _signup(
        "dan@example.com", "gh-1", is_login_method=False
    ),
    "signup taken email": _signup("ada@example.com", "gh-9"),
    "signup identity for another user": lambda a: a.create_user_with_identity(
        user=_user("dan@example.com"), identity=lambda u: identity(1, "gh-9")
    ),
    "signup identity hook raises": lambda a: a.create_user_with_identity(
        user=_user("dan@example.com"), identity=_refuse
    ),
    "signup user missing keys": lambda a: a.create_user_with_identity(
        user={"email": "dan@example.com"},  # type: ignore[typeddict-item]
        identity=lambda u: identity(u.id, "gh-9"),
    ),
    # create_social_account
    "connect new": _connect(4, "gh-9"),
    "connect new, string user id": _connect("4", "gh-9", is_login_method=False),
    "connect retry, same login": _connect(1, "gh-1"),
    "connect retry, login to connection": _connect(1, "gh-1", is_login_method=False),
    "connect retry, connection to login": _connect(1, "gh-2"),
    "connect retry, same connection": _connect(1, "gh-2", is_login_method=False),
    "connect another user's login": _connect(2, "gh-1"),
    "connect another user's login, not for login": _connect(2, "gh-1", is_login_method=False),
    "connect another user's login, third user": _connect(3, "gh-1", is_login_method=False),
    "connect another user's connection for login": _connect(2, "gh-2"),
    "connect unknown user": _connect(999, "gh-9"),
    "connect bad user id": _connect("abc", "gh-9"),
    "connect huge user id": _connect(2**80, "gh-9"),
    "connect token not text": _connect(4, "gh-9", access_token=5),
    "connect other provider": _connect(4, "gh-1", provider="gitlab"),
    # update_social_account
    "update": _update(1),
    "update string id": _update("3", extra_fields=None),
    "update enable login": _update(2, enable_login=True),
    "update enable login, shared identity owned": _update(5, enable_login=True),
    "update enable login, shared identity free": _update(6, enable_login=True),
    "update never demotes": _update(1, enable_login=False),
    "update unknown id": _update(999),
    "update bad id": _update("abc"),
    "update token not text": _update(1, access_token=b"x"),
    # disconnect_social_account
    "disconnect a connection": _disconnect(1, 2),
    "disconnect a last login method": _disconnect(2, 3),
    "disconnect a login method with another": _disconnect(1, 1),
    "disconnect with a password": _disconnect(3, 4),
    "disconnect a shared connection": _disconnect(2, 5),
    "disconnect wrong provider": _disconnect(1, 2, "gitlab"),
    "disconnect another user's": _disconnect(2, 1),
    "disconnect unknown user": _disconnect(999, 1),
    "disconnect string ids": _disconnect("1", "2"),
    "disconnect bad ids": _disconnect("abc", 2**80),
    "disconnect provider not text": _disconnect(1, 2, None),
    # delete_social_account
    "delete": lambda a: a.delete_social_account(1),
    "delete string id": lambda a: a.delete_social_account("6"),
    "delete unknown id": lambda a: a.delete_social_account(999),
    "delete bad id": lambda a: a.delete_social_account("abc"),
    "delete none": lambda a: a.delete_social_account(None),
}


@pytest.fixture(params=["exclusive", "shared"])
def twin_stores(
    request: pytest.FixtureRequest, tmp_path: Path, make_database_url: Callable[[], str | None]
) -> Iterator[tuple[lite.LiteStore, lite.LiteStore]]:
    """Two empty stores of one kind: one for each path."""
    shared = request.param == "shared"
    url_a, url_b = make_database_url(), make_database_url()
    with (
        lite.open(tmp_path / "a", shared_connections=shared, database_url=url_a) as a,
        lite.open(tmp_path / "b", shared_connections=shared, database_url=url_b) as b,
    ):
        yield a, b


def test_writes_agree(twin_stores: tuple[lite.LiteStore, lite.LiteStore]) -> None:
    """Each write on the seeded data, once per path, in stores seeded through that path."""
    a, b = twin_stores
    compiled, built = compiled_path(a), builder_path(b)
    shared = a.shared_connections
    disagreements = []
    for index, (name, call) in enumerate(WRITES.items()):
        reset(a)
        reset(b)
        seed(compiled, shared=shared)
        seed(built, shared=shared)
        before = snapshot(a)
        if index == 0:  # the same every time
            assert before == snapshot(b), "the seeds differ"
        results = outcome(call, compiled), outcome(call, built)
        tables = snapshot(a), snapshot(b)
        if results[0] != results[1] or tables[0] != tables[1]:
            disagreements.append(
                f"{name}:\n  compiled {results[0]}\n  builder  {results[1]}"
                f"\n  tables   {tables[0]}\n  vs       {tables[1]}"
            )
        elif results[0][0] == "raised":  # type: ignore[index]
            assert tables[0] == before, f"{name} raised but wrote"
    assert not disagreements, report(disagreements)


# Random sequences of calls, on SQLite

EMAILS = st.sampled_from(["ada@example.com", "bob@example.com", "carol@example.com"])
PIDS = st.sampled_from(["gh-1", "gh-2", "gh-3"])
IDS = st.one_of(st.integers(1, 6), st.sampled_from(["1", "2", "abc", 2**80]))
OPTIONAL_FLAGS = st.sampled_from([None, True, False])


def _operations() -> st.SearchStrategy[tuple[str, Call]]:
    def op(name: str, make: Callable[..., Call], *args: st.SearchStrategy[Any]) -> Any:
        return st.tuples(*args).map(lambda values: (f"{name}{values!r}", make(*values)))

    return st.one_of(
        op(
            "create_user",
            lambda email, password: (
                lambda a: a.create_user(
                    user_info={"email": email},
                    extra_fields={"hashed_password": "h"} if password else None,
                )
            ),
            EMAILS,
            st.booleans(),
        ),
        op(
            "signup",
            lambda email, pid, login: _signup(email, pid, is_login_method=login),
            EMAILS,
            PIDS,
            st.booleans(),
        ),
        op(
            "connect",
            lambda uid, pid, login: _connect(uid, pid, is_login_method=login),
            IDS,
            PIDS,
            st.booleans(),
        ),
        op("update", lambda i, login: _update(i, enable_login=login), IDS, st.booleans()),
        op("disconnect", _disconnect, IDS, IDS),
        op("delete", lambda i: lambda a: a.delete_social_account(i), IDS),
        op("find_user_by_email", lambda e: lambda a: a.find_user_by_email(e), EMAILS),
        op("find_user_by_id", lambda i: lambda a: a.find_user_by_id(i), IDS),
        op(
            "find_social_account",
            lambda pid, uid, login: (
                lambda a: a.find_social_account(
                    provider="github", provider_user_id=pid, user_id=uid, is_login_method=login
                )
            ),
            PIDS,
            st.one_of(st.none(), IDS),
            OPTIONAL_FLAGS,
        ),
        op("find_social_account_by_id", lambda i: lambda a: a.find_social_account_by_id(i), IDS),
        op("list_social_accounts", lambda i: lambda a: a.list_social_accounts(user_id=i), IDS),
        op(
            "has_social_account",
            lambda pid: lambda a: a.has_social_account(provider="github", provider_user_id=pid),
            PIDS,
        ),
    )


@pytest.mark.parametrize("shared", [False, True], ids=["exclusive", "shared"])
def test_random_call_sequences_agree(tmp_path: Path, shared: bool) -> None:
    with (
        lite.open(tmp_path / "a", shared_connections=shared) as a,
        lite.open(tmp_path / "b", shared_connections=shared) as b,
    ):
        compiled, built = compiled_path(a), builder_path(b)
        built_on_a = builder_path(a)

        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.lists(_operations(), max_size=12))
        def run(operations: list[tuple[str, Call]]) -> None:
            reset(a)
            reset(b)
            for name, call in operations:
                here = outcome(call, compiled)
                assert here == outcome(call, built), name
                if name.startswith(("find", "list", "has")):
                    assert here == outcome(call, built_on_a), name
                assert snapshot(a) == snapshot(b), name

        run()


# Fast paths against portable mode (peewee's own reading and writing)

SESSION_TABLES = ("sessions", *TABLES)


def mode_store(
    path: Path, mode: str, url: str | None, monkeypatch: pytest.MonkeyPatch
) -> lite.LiteStore:
    """A store opened on the fast paths or in portable mode (fixed when it opens)."""
    if mode == "portable":
        monkeypatch.setenv(PORTABLE_ENV, "1")
    try:
        store = lite.open(path, database_url=url)
    finally:
        monkeypatch.delenv(PORTABLE_ENV, raising=False)
    assert store.database.fast_paths is (mode == "fast")
    return store


def session_cases() -> dict[str, Call]:
    at = datetime(2030, 6, 1, tzinfo=PARIS)
    cases: dict[str, Call] = {}
    for i, user_id in enumerate([1, "2", 3, 999, "abc"]):
        cases[f"create({user_id!r})"] = lambda s, i=i, u=user_id: s.create(
            token_hash=f"t{i}",
            user_id=u,
            created_at=at,
            updated_at=at,
            expires_at=at + timedelta(days=i),
            client_id="web",
            ip="127.0.0.1",
            last_active_at=at if i % 2 else None,
        )
    cases["create taken hash"] = lambda s: s.create(
        token_hash="t0", user_id=1, created_at=at, updated_at=at, expires_at=at
    )
    for name, now in [("before", at), ("after", at + timedelta(days=2)), ("utc", LATER)]:
        for token in ["t0", "t1", "t2", "t9"]:
            cases[f"get({token}, {name})"] = lambda s, t=token, n=now: s.get(token_hash=t, now=n)
    for session_id in [1, "2", 3, 99, *ODD_IDS]:
        cases[f"get_any({session_id!r})"] = lambda s, i=session_id: s.get_any(i)
    cases["refresh 1"] = lambda s: s.refresh(
        1, updated_at=LATER, expires_at=LATER, last_active_at=LATER
    )
    cases["refresh unknown"] = lambda s: s.refresh(99, updated_at=LATER, expires_at=LATER)
    cases["revoke 2"] = lambda s: s.revoke(2, revoked_at=at)
    for status in ["active", "all"]:
        for limit in [1, 2, 10]:

            def page(s: Any, st: str = status, n: int = limit) -> Any:
                pages, cursor = [], None
                while True:
                    found = s.list_for_user(1, now=at, limit=n, status=st, cursor=cursor)
                    pages.append((list(found.records), found.next_cursor))
                    cursor = found.next_cursor
                    if cursor is None or len(pages) > 5:
                        return pages

            cases[f"list_for_user({status}, {limit})"] = page
    return cases


def test_fast_and_portable_agree(
    tmp_path: Path, make_database_url: Callable[[], str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users, social accounts and sessions read and written alike on both paths."""
    fast = mode_store(tmp_path / "fast", "fast", make_database_url(), monkeypatch)
    portable = mode_store(tmp_path / "portable", "portable", make_database_url(), monkeypatch)
    with fast, portable:
        seed(fast.accounts, shared=False)
        seed(portable.accounts, shared=False)
        disagreements = []
        for name, call in READS.items():
            here, there = outcome(call, fast.accounts), outcome(call, portable.accounts)
            if here != there:
                disagreements.append(f"{name}:\n  fast     {here}\n  portable {there}")
        for name, call in session_cases().items():
            here, there = outcome(call, fast.sessions), outcome(call, portable.sessions)
            tables = snapshot(fast, SESSION_TABLES), snapshot(portable, SESSION_TABLES)
            if here != there or tables[0] != tables[1]:
                disagreements.append(f"{name}:\n  fast     {here}\n  portable {there}")
        assert not disagreements, report(disagreements)


# Statements rendered once per process and store shape


def test_stores_of_one_shape_share_sql_but_convert_with_their_own_fields(tmp_path: Path) -> None:
    """A second store of a shape takes the SQL rendered for the first, not its conversions.

    Each store's tokens are encrypted with its own key: were the second
    store's parameters bound to the first store's fields, its tokens would
    be written under the first store's key.
    """
    from cryptography.fernet import Fernet, InvalidToken

    from cross_auth_lite.database import statements
    from cross_auth_lite.encryption import PREFIX

    keys = [lite.generate_key(), lite.generate_key()]
    stores = [lite.open(tmp_path / str(n), encryption_key=key) for n, key in enumerate(keys)]
    with stores[0], stores[1]:
        for store in stores:
            signup(store.accounts, "ada@example.com", access_token="secret-access")
        assert stores[0].accounts.find_user_by_email("ada@example.com") is not None
        rendered = dict(statements._RENDERED)
        # The second store's first lookup renders nothing new.
        assert stores[1].accounts.find_user_by_email("ada@example.com") is not None
        assert rendered == statements._RENDERED
        for store, key, other in ((stores[0], *keys), (stores[1], *keys[::-1])):
            (token,) = store.database.execute_sql(
                "SELECT access_token FROM social_accounts"
            ).fetchone()
            body = token.removeprefix(PREFIX)
            assert Fernet(key).decrypt(body.encode()) == b"secret-access"
            with pytest.raises(InvalidToken):
                Fernet(other).decrypt(body.encode())
            account = store.accounts.find_social_account(
                provider="github", provider_user_id="gh-1", is_login_method=True
            )
            assert account is not None
            assert account.access_token == "secret-access"


def test_only_a_stores_own_models_share_rendered_sql(tmp_path: Path) -> None:
    """A model an application declares (or a subclass of a store's) renders its own SQL."""
    from cross_auth_lite.database.shapes import store_shape

    with lite.open(tmp_path / "store") as store:
        assert store_shape(store.models.User) is not None
        assert store_shape(store.models.Session) is store_shape(store.models.User)

        class Own(store.models.User):  # type: ignore[name-defined,misc]
            class Meta:
                table_name = "users"

        assert store_shape(Own) is None


def test_a_row_reader_reads_repeated_instants_as_python_value_does(tmp_path: Path) -> None:
    """Timestamp text equal to an earlier column's takes its datetime: the same values."""
    from cross_auth_lite.database.row_readers import RowReader

    with lite.open(tmp_path / "store") as store:
        model = store.models.Session
        fields = model._meta.sorted_fields
        reader = RowReader(model, fields)
        same, other = "2030-06-01 10:00:00.000000", "2030-06-02 10:00:00.250000"
        offset = "2030-06-01T12:00:00+02:00"  # not lite's format: python_value's other branch
        for created, updated, expires, last_active, revoked in [
            (same, same, other, same, None),
            (same, other, same, other, same),
            (offset, offset, same, offset, None),
            (same, None, same, None, same),
        ]:
            columns = {
                "id": 1,
                "token_hash": "t",
                "created_at": created,
                "updated_at": updated,
                "expires_at": expires,
                "last_active_at": last_active,
                "revoked_at": revoked,
                "client_id": None,
                "client_name": None,
                "user_agent": None,
                "ip": None,
                "user_id": 1,
            }
            row = tuple(columns[field.column_name] for field in fields)
            read = reader.instance(row)
            for field, value in zip(fields, row, strict=True):
                expected = None if value is None else field.python_value(value)
                got = read.__data__[field.name]
                assert got == expected, (field.name, row)
                if isinstance(expected, datetime):
                    assert got.tzinfo is UTC
            read.updated_at = datetime(2031, 1, 1, tzinfo=UTC)  # one field changes alone
            assert read.created_at == fields[2].python_value(row[2])


def test_models_on_a_database_of_the_applications_own_render_their_own_sql() -> None:
    """``build_models`` on a proxy or a plain peewee database: no shape, nothing shared."""
    from cross_auth_lite.database.models import build_models
    from cross_auth_lite.database.shapes import store_shape

    for database in (peewee.DatabaseProxy(), peewee.SqliteDatabase(":memory:")):
        models = build_models(database)
        assert all(store_shape(model) is None for model in models.all())
