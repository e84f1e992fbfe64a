"""Hostile input at every public method of the three storages.

Wrong types, huge and empty strings, NUL bytes, lone surrogates, SQL-looking
text, huge and negative ids, naive, aware and extreme datetimes, forged
cursors. Whatever comes in, only ``TypeError``, ``ValueError`` (and its
subclasses: ``InvalidCursorError``, ``UnknownUserError``...) or Cross-Auth's
``CrossAuthException`` may come out: never a peewee or sqlite3 error, an
``OverflowError``, ``KeyError`` or ``AttributeError``. A call that raises
leaves the store exactly as it was; one that succeeds leaves it readable;
and a sentinel user, social account, session and cache entry that no call
can address read back unchanged throughout.

Lone surrogates (``"\\ud800"``) cannot be encoded for SQLite: the driver
raises ``UnicodeEncodeError``. That is accepted here: it is a ``ValueError``,
the call writes nothing, and no surrogate can be stored, so a lookup by one
could only have found nothing. ``test_lone_surrogates_are_value_errors``
pins that down.

Inputs that once reached the driver unchecked (years before 1000, datetimes
with no UTC equivalent, non-text emails, non-bool flags, unbindable or
primary-key ``extra_fields``, missing keys, a reused token hash) are in the
generated input, and each also has a test of its own at the end of the file.
"""

from __future__ import annotations

import enum
import reprlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import peewee
import pytest
from cross_auth.exceptions import CrossAuthException, InvalidCursorError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cross_auth_lite as lite
from cross_auth_lite.sessions.cursor import _digest, _text, encode_cursor
from tests.factories import identity as identity_data

ALLOWED = (TypeError, ValueError, CrossAuthException)
#: Errors that must never surface, even if some day one subclassed ValueError.
DRIVER_ERRORS = (peewee.PeeweeException, sqlite3.Error, OverflowError, KeyError, AttributeError)

EXAMPLES = 80
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FAR = datetime(9000, 1, 1, tzinfo=UTC)
SENTINEL_ID = -(10**12) - 7
SENTINEL_KEY = "sentinel:\x00ünï"
SENTINEL_VALUE = "sentinel value 🦀\x00"
TARGET_USER, SECOND_USER = 1, 2
TARGET_LOGIN, TARGET_CONNECTION = 1, 2
TARGET_SESSION = 1

COLUMN_NAMES = frozenset(
    {
        "id",
        "email",
        "email_verified",
        "hashed_password",
        "user",
        "user_id",
        "provider",
        "provider_user_id",
        "provider_email",
        "provider_email_verified",
        "is_login_method",
        "access_token",
        "refresh_token",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "scope",
        "token_hash",
        "created_at",
        "updated_at",
        "expires_at",
        "last_active_at",
        "revoked_at",
        "client_id",
        "client_name",
        "user_agent",
        "ip",
    }
)


# Values --------------------------------------------------------------------------


class Marker:
    """A value shown by name in hypothesis's reports, swapped for the real one at call time."""

    def __init__(self, name: str, value: Any = None) -> None:
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return self.name


OMIT = Marker("<omitted>")
HUGE_TEXT = Marker("<1 MB str>", "ab\x00ü🦀'; --" * 100_000)
HUGE_BYTES = Marker("<1 MB bytes>", b"\xff\x00" * 500_000)


def materialize(value: Any) -> Any:
    """``value`` with every ``Marker`` replaced by what it stands for (``OMIT`` keys dropped)."""
    if isinstance(value, Marker):
        return value.value
    if type(value) is dict:
        return {
            materialize(key): materialize(item) for key, item in value.items() if item is not OMIT
        }
    if type(value) is list:
        return [materialize(item) for item in value]
    if type(value) is tuple:
        return tuple(materialize(item) for item in value)
    return value


class StrSub(str):
    pass


class IntSub(int):
    pass


class Color(enum.IntEnum):
    RED = 1


class Provider(enum.StrEnum):
    GITHUB = "github"


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "a\udfffb",
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "%",
    "_%",
    "\\",
    "github",
    "gh-target",
    "target",
    "target@example.com",
    "1",
    " 1 ",
    "-1",
    "+1",
    "01",
    "1.0",
    "1e3",
    "0x1",
    "١",  # noqa: RUF001 (an Arabic-Indic digit: isdigit() but not ASCII)
    "9" * 19,
    "9" * 21,
    str(2**63),
    str(-(2**63)),
    "NaN",
    "null",
    "\u202e",
    "\ufeff",
    "🦀",
    "İß",
    "\n\r\t",
    "2026-06-01T12:00:00+00:00",
    "2026-06-01 12:00:00.000000",
    "x" * 600,
    HUGE_TEXT,
]
TEXT = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(st.characters(exclude_categories=()), max_size=30),  # surrogates included
)
OPTIONAL_TEXT = st.one_of(st.none(), TEXT)

_ZONES = [
    None,
    UTC,
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
    timezone(timedelta(hours=5, minutes=30)),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/St_Johns"),
]
#: Datetimes of every year, in every kind of zone (some have no UTC equivalent).
STORABLE_DATETIMES = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(_ZONES),
    ),
    st.sampled_from(
        [
            NOW,
            NOW.replace(tzinfo=None),
            datetime.max,
            datetime.max.replace(tzinfo=UTC),
            datetime.min.replace(tzinfo=timezone(timedelta(hours=1))),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))),
            datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(1970, 1, 1),
            datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin")),
            datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),  # does not exist
        ]
    ),
)
#: Datetimes only compared against, never stored: the earliest ones too.
READ_DATETIMES = st.one_of(
    STORABLE_DATETIMES,
    st.sampled_from(
        [
            datetime.min,
            datetime.min.replace(tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-12))),
            datetime(999, 12, 31, 23, 59, 59),
        ]
    ),
)
#: Aware datetimes that have no UTC equivalent within datetime's range.
OVERFLOWING_DATETIMES = [
    datetime.min.replace(tzinfo=timezone(timedelta(hours=1))),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))),
]

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
_KEYS = st.one_of(
    st.text(max_size=6).filter(lambda key: key not in COLUMN_NAMES), st.integers(), st.none()
)
_OBJECTS = [
    Opaque(),
    Decimal("NaN"),
    Decimal("1E+400"),
    Fraction(1, 3),
    1 + 2j,
    date(2026, 6, 1),
    time(12, 0),
    timedelta(days=1),
    timedelta.max,
    uuid.UUID(int=1),
    range(3),
    StrSub("1"),
    StrSub("github"),
    IntSub(1),
    Color.RED,
    Provider.GITHUB,
    bytearray(b"x"),
    memoryview(b"1"),
    Ellipsis,
    MappingProxyType({"nope": 1}),
    frozenset({1}),
]
#: Anything at all; never a callable, never a mapping naming a column.
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers().filter(lambda value: value != SENTINEL_ID),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**80, -(2**80), 10**100]),
    st.floats(),
    st.binary(max_size=12),
    st.just(HUGE_BYTES),
    TEXT,
    STORABLE_DATETIMES,
    st.sampled_from(_OBJECTS),
    st.lists(_SCALARS, max_size=3),
    st.tuples(_SCALARS),
    st.dictionaries(_KEYS, _SCALARS, max_size=3),
    st.sets(st.integers(), max_size=3),
)
NON_MAPPINGS = ANY.filter(lambda value: not isinstance(value, Mapping))

#: Ids: about half name an existing target row, in some spelling.
IDS = st.one_of(
    st.sampled_from([1, 2, "1", "2", " 1 ", "0001"]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 3, 9999, "9999"]),
    st.integers(1, 30),
)
#: Owners for new rows: mostly existing users.
USER_IDS = st.one_of(st.sampled_from([TARGET_USER, SECOND_USER, "1", " 2 "]), IDS)
PROVIDERS = st.one_of(st.sampled_from(["github", "google"]), TEXT)
PROVIDER_USER_IDS = st.one_of(st.sampled_from(["gh-target", "gh-second"]), TEXT)
BOOLS = st.booleans()
OPTIONAL_BOOLS = st.one_of(st.none(), st.booleans())
OPTIONAL_STORABLE = st.one_of(st.none(), STORABLE_DATETIMES)
USER_INFO = st.one_of(
    st.fixed_dictionaries({}, optional={"email": OPTIONAL_TEXT, "email_verified": ANY}),
    st.fixed_dictionaries({"name": ANY, "id": ANY}),
)
#: Extra fields the store's models accept: none (they have no custom columns).
EXTRA = st.sampled_from([None, {}])
BAD_EXTRA = st.one_of(
    ANY,
    st.sampled_from(
        [
            {"email": "x@example.com"},
            {"email_verified": True},
            {"provider": "x"},
            {"user_id": 1},
            {"user": 1},
            {"is_login_method": False},
            {"access_token": "x"},
        ]
    ),
    st.dictionaries(
        st.sampled_from(["nope", "display_name", "", "\x00", "'; DROP TABLE users; --", "ID"]),
        _SCALARS,
        min_size=1,
        max_size=2,
    ),
)
TIMEDELTAS = st.one_of(
    st.timedeltas(),
    st.sampled_from([timedelta(0), timedelta(days=30), timedelta.max, -timedelta(seconds=1)]),
)
TTLS = st.one_of(
    st.none(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=False),
    st.sampled_from([0, -0.0, 1e-9, float("inf"), float("-inf"), 2**80, 2**2000]),
)
ORDERS = st.sampled_from(
    [
        "updated_at_desc",
        "updated_at_asc",
        "created_at_desc",
        "created_at_asc",
        "expires_at_desc",
        "expires_at_asc",
    ]
)
STATUSES = st.sampled_from([None, "active", "expired", "revoked"])


def _forge(payload: bytes) -> str:
    """A cursor carrying ``payload`` with a valid digest: what anyone can make."""
    return _text(_digest(payload) + payload)


_REAL_CURSOR = encode_cursor("updated_at_desc", NOW, TARGET_SESSION)
REAL_CURSORS = st.builds(encode_cursor, ORDERS, st.sampled_from([NOW, FAR]), IDS)
BAD_CURSORS = st.one_of(
    ANY,
    st.sampled_from(
        [
            _REAL_CURSOR[:-1],
            _REAL_CURSOR + "A",
            _REAL_CURSOR + "==",
            _REAL_CURSOR.swapcase(),
            "A" * 513,
            _forge(b'[1,"updated_at_desc",1208925819614629174706176,1]'),
            _forge(b'[1,"updated_at_desc",-4611686018427387904,1]'),
            _forge(b'[1,"updated_at_desc",-62135596800000000,1]'),  # 0001-01-01
            _forge(b'[1,"updated_at_desc",0,"abc"]'),
            _forge(b'[1,"updated_at_desc",0,1208925819614629174706176]'),
            _forge(b'[1,"updated_at_desc",0,-1]'),
            _forge(b'[1,"updated_at_desc",0,1.5]'),
            _forge(b'[1,"updated_at_desc",0,null]'),
            _forge(b'[1,"updated_at_desc",0,true]'),
            _forge(b'[2,"updated_at_desc",0,1]'),
            _forge(b'[true,"updated_at_desc",0,1]'),
            _forge(b'[1,"updated_at_desc",0]'),
            _forge(b'{"a":1}'),
            _forge(b"\xff\xfe"),
            _forge(b"[" * 300 + b"]" * 300),
            _forge(b"1e999999"),
        ]
    ),
)


@dataclass(frozen=True)
class Callback:
    """A commit callback that counts its calls."""

    calls: list[int] = field(default_factory=list)

    def __call__(self) -> None:
        self.calls.append(1)


class IdentityFailed(RuntimeError):
    """Raised by an identity builder on purpose: must propagate, writing nothing."""


@dataclass(frozen=True)
class Identity:
    """An identity builder for ``create_user_with_identity``: a fresh identity with overrides.

    ``user_id`` may be ``"<new id>"`` (the new user's id as a string).
    """

    overrides: dict[str, Any]

    def __call__(self, user: Any) -> dict[str, Any]:
        data = identity_data(user.id, f"new-{uuid.uuid4()}")
        data.update(materialize(self.overrides))
        if data["user_id"] == "<new id>":
            data["user_id"] = str(user.id)
        return data


@dataclass(frozen=True)
class Returns:
    """An identity builder returning something that is not an identity."""

    value: Any

    def __call__(self, user: Any) -> Any:
        return materialize(self.value)


def _raises(user: Any) -> Any:
    raise IdentityFailed("the identity builder failed")


_IDENTITY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "user_id": st.one_of(st.just("<new id>"), ANY),
    "provider": st.one_of(PROVIDERS, ANY),
    "provider_user_id": st.one_of(PROVIDER_USER_IDS, ANY),
    "access_token": st.one_of(OPTIONAL_TEXT, ANY),
    "refresh_token": st.one_of(OPTIONAL_TEXT, ANY),
    "access_token_expires_at": st.one_of(OPTIONAL_STORABLE, ANY),
    "refresh_token_expires_at": st.one_of(OPTIONAL_STORABLE, ANY),
    "scope": st.one_of(OPTIONAL_TEXT, ANY),
    "user_info": ANY,
    "provider_email": st.one_of(OPTIONAL_TEXT, ANY),
    "provider_email_verified": st.one_of(OPTIONAL_BOOLS, ANY),
    "is_login_method": st.one_of(BOOLS, ANY),
    "extra_fields": st.one_of(EXTRA, BAD_EXTRA),
}
IDENTITIES = st.builds(Identity, st.fixed_dictionaries({}, optional=_IDENTITY_FIELDS))
BAD_IDENTITIES = st.one_of(
    NON_MAPPINGS,  # not callable
    st.builds(Returns, NON_MAPPINGS),
    st.just(_raises),
    IDENTITIES,
)
USER_CREATES = st.fixed_dictionaries(
    {
        "user_info": st.one_of(USER_INFO, ANY),
        "email": st.one_of(OPTIONAL_TEXT, ANY),
        # None reaches the NOT NULL column: see the boolean flags' xfail test.
        "email_verified": st.one_of(BOOLS, ANY.filter(lambda value: value is not None)),
        "extra_fields": st.one_of(EXTRA, BAD_EXTRA),
    }
)


# Calls ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    valid: st.SearchStrategy[Any]
    hostile: st.SearchStrategy[Any] = ANY
    optional: bool = False


@dataclass(frozen=True)
class Case:
    params: dict[str, Param]
    #: Skip generated calls that would only show a known bug (``Harness``, kwargs).
    #: Exceptions besides ``ALLOWED`` that the call may raise.
    also_allowed: tuple[type[BaseException], ...] = ()
    #: Extra checks after a call that returned (``Harness``, kwargs, result).
    after: Callable[[Harness, dict[str, Any], Any], None] | None = None


@st.composite
def calls(draw: st.DrawFn, params: dict[str, Param]) -> dict[str, Any]:
    """Keyword arguments: all valid (a third of calls), one hostile, or each maybe hostile."""
    valid = ["<none>"] * (len(params) // 2 + 1)
    broken = draw(st.sampled_from([*valid, *params, "<each>"]))
    kwargs: dict[str, Any] = {}
    for name, param in params.items():
        if name == broken:
            kwargs[name] = draw(param.hostile)
            continue
        if param.optional and draw(st.booleans()):
            kwargs[name] = OMIT
            continue
        hostile = broken == "<each>" and draw(st.integers(0, 3)) == 0
        kwargs[name] = draw(param.hostile if hostile else param.valid)
    return kwargs


def P(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any] = ANY) -> Param:
    """A required parameter."""
    return Param(valid, hostile)


def Opt(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any] = ANY) -> Param:
    """A parameter that may be left out."""
    return Param(valid, hostile, optional=True)


# The store -----------------------------------------------------------------------


class Harness:
    """A store with targets (ids 1, 2: any call may change them) and sentinels (untouchable)."""

    def __init__(self, directory: Path) -> None:
        # No housekeeping: its lease row in lite_meta would change the state compared.
        self.store = lite.open(directory, housekeeping=False)
        self.ensure_targets()
        models = self.store.models
        models.User.create(
            id=SENTINEL_ID,
            email="sentinel@example.invalid",
            email_verified=True,
            hashed_password="sentinel-password-hash",
        )
        models.SocialAccount.create(
            id=SENTINEL_ID,
            user=SENTINEL_ID,
            provider="sentinel-provider",
            provider_user_id="sentinel-identity",
            access_token="sentinel-access",
            access_token_expires_at=FAR,
        )
        models.Session.create(
            id=SENTINEL_ID,
            user=SENTINEL_ID,
            token_hash="sentinel-token-hash",
            created_at=NOW,
            updated_at=NOW,
            expires_at=datetime.max.replace(tzinfo=UTC),
            last_active_at=NOW,
            user_agent="sentinel/1.0",
            ip="203.0.113.7",
        )
        self.store.secondary.set(SENTINEL_KEY, SENTINEL_VALUE)
        self.sentinels = self._sentinel_rows()

    def close(self) -> None:
        self.store.close()

    def ensure_targets(self) -> None:
        """(Re)create the target rows a previous call may have removed; make session 1 active."""
        models, db = self.store.models, self.store.database
        rows: list[tuple[type[peewee.Model], dict[str, Any]]] = [
            (models.User, {"id": TARGET_USER, "email": "target@example.com"}),
            (models.User, {"id": SECOND_USER, "email": "second@example.com"}),
            (
                models.SocialAccount,
                {
                    "id": TARGET_LOGIN,
                    "user": TARGET_USER,
                    "provider": "github",
                    "provider_user_id": "gh-target",
                },
            ),
            (
                models.SocialAccount,
                {
                    "id": TARGET_CONNECTION,
                    "user": TARGET_USER,
                    "provider": "github",
                    "provider_user_id": "gh-second",
                    "is_login_method": False,
                },
            ),
            (
                models.Session,
                {
                    "id": TARGET_SESSION,
                    "user": TARGET_USER,
                    "token_hash": "target-token",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "expires_at": FAR,
                },
            ),
        ]
        for model, values in rows:
            if not model.select().where(model._meta.primary_key == values["id"]).exists():
                try:
                    with db.atomic():
                        model.create(**values)
                except peewee.IntegrityError:
                    pass  # a call took its identity or token: fine, it is just gone
        session = models.Session
        revive = session.update(revoked_at=None, expires_at=FAR)
        revive.where(session.id == TARGET_SESSION).execute()
        self.store.secondary.set("target", "target value")

    def token_exists(self, token_hash: object) -> bool:
        if type(token_hash) is not str:
            return False
        try:
            return bool(
                self.store.database.execute_sql(
                    "SELECT 1 FROM sessions WHERE token_hash = ?", (token_hash,)
                ).fetchone()
            )
        except UnicodeEncodeError:
            return False

    def snapshot(self) -> tuple[Any, ...]:
        db = self.store.database
        tables = tuple(
            db.execute_sql(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("users", "social_accounts", "sessions", "lite_meta")
        )
        cache = self.store.secondary.cache._sql(
            "SELECT rowid, key, raw, expire_time, tag, mode, filename, value"
            " FROM Cache ORDER BY rowid"
        ).fetchall()
        return (*tables, cache)

    def _sentinel_rows(self) -> tuple[Any, ...]:
        db = self.store.database
        rows = tuple(
            db.execute_sql(f"SELECT * FROM {table} WHERE id = ?", (SENTINEL_ID,)).fetchall()
            for table in ("users", "social_accounts", "sessions")
        )
        return (*rows, self.store.secondary.get(SENTINEL_KEY))

    def call(
        self, label: str, method: Callable[..., Any], kwargs: dict[str, Any], case: Case
    ) -> None:
        """Call ``method(**kwargs)`` and check everything the module promises."""
        before = self.snapshot()
        error: Exception | None = None
        try:
            result = method(**kwargs)
        except Exception as raised:
            error = raised
        if error is None:
            if case.after is not None:
                case.after(self, kwargs, result)
            self.check_readable(label, kwargs)
        else:
            described = _describe(label, kwargs, error)
            allowed = (*ALLOWED, *case.also_allowed)
            if not isinstance(error, allowed) or isinstance(error, DRIVER_ERRORS):
                raise AssertionError(described) from error
            assert self.snapshot() == before, f"{described} changed the store"
        self.check_whole(label, kwargs)

    def check_whole(self, label: str, kwargs: dict[str, Any]) -> None:
        db, cache = self.store.database, self.store.secondary.cache
        where = f"after {label}({_show(kwargs)})"
        assert db.transaction_depth() == 0, where
        assert not db.connection().in_transaction, where
        assert not cache._con.in_transaction, where
        assert db.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)], where
        assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == [], where
        assert cache._sql("PRAGMA integrity_check").fetchall() == [("ok",)], where
        assert self._sentinel_rows() == self.sentinels, f"sentinel changed {where}"
        accounts, sessions = self.store.accounts, self.store.sessions
        user = accounts.find_user_by_id(SENTINEL_ID)
        assert user is not None, where
        assert user.email == "sentinel@example.invalid", where
        account = accounts.find_social_account(
            provider="sentinel-provider", provider_user_id="sentinel-identity"
        )
        assert account is not None, where
        assert account.access_token_expires_at == FAR, where
        session = sessions.get(token_hash="sentinel-token-hash", now=NOW)
        assert session is not None, where
        assert session.id == SENTINEL_ID, where

    def check_readable(self, label: str, kwargs: dict[str, Any]) -> None:
        """Every row reads back through the storages, with the types Cross-Auth expects."""
        where = f"after {label}({_show(kwargs)})"
        db = self.store.database
        accounts, sessions, secondary = (
            self.store.accounts,
            self.store.sessions,
            self.store.secondary,
        )
        try:
            for (user_id,) in db.execute_sql("SELECT id FROM users").fetchall():
                user = accounts.find_user_by_id(user_id)
                assert user is not None, where
                _check_types(user, _USER_TYPES, where)
                for account in accounts.list_social_accounts(user_id=user_id):
                    _check_types(account, _ACCOUNT_TYPES, where)
                page = sessions.list_for_user(user_id, now=NOW, limit=1000)
                for record in page.records:
                    _check_types(record, _SESSION_TYPES, where)
            for (session_id,) in db.execute_sql("SELECT id FROM sessions").fetchall():
                assert sessions.get_any(session_id) is not None, where
            for key in secondary.keys(prefix=""):
                assert type(secondary.get(key)) in (str, type(None)), where
        except AssertionError:
            raise
        except Exception as error:
            raise AssertionError(f"store unreadable {where}: {error!r}") from error


_AWARE = "aware datetime"
_USER_TYPES = {"email": (str, None), "email_verified": (bool,), "hashed_password": (str, None)}
_ACCOUNT_TYPES = {
    "provider": (str,),
    "provider_user_id": (str,),
    "provider_email": (str, None),
    "provider_email_verified": (bool, None),
    "is_login_method": (bool,),
    "access_token": (str, None),
    "refresh_token": (str, None),
    "scope": (str, None),
    "access_token_expires_at": (_AWARE, None),
    "refresh_token_expires_at": (_AWARE, None),
}
_SESSION_TYPES = {
    "token_hash": (str,),
    "created_at": (_AWARE,),
    "updated_at": (_AWARE,),
    "expires_at": (_AWARE,),
    "last_active_at": (_AWARE, None),
    "revoked_at": (_AWARE, None),
    "client_id": (str, None),
    "client_name": (str, None),
    "user_agent": (str, None),
    "ip": (str, None),
    "status": ("active", "expired", "revoked"),
}


def _check_types(record: Any, types: dict[str, tuple[Any, ...]], where: str) -> None:
    for name, allowed in types.items():
        value = getattr(record, name)
        ok = any(
            (kind is None and value is None)
            or (kind == _AWARE and isinstance(value, datetime) and value.tzinfo is not None)
            or (isinstance(kind, type) and type(value) is kind)
            or (isinstance(kind, str) and kind != _AWARE and value == kind)
            for kind in allowed
        )
        assert ok, f"{type(record).__name__} {record.id}.{name} = {value!r:.80} {where}"


_short = reprlib.Repr()
_short.maxstring = _short.maxother = 80


def _show(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{name}={_short.repr(value)}" for name, value in kwargs.items())


def _describe(label: str, kwargs: dict[str, Any], error: BaseException) -> str:
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    return f"{label}({_show(kwargs)}) raised {kind}: {str(error)[:200]}"


@contextmanager
def harness(directory: Path) -> Iterator[Harness]:
    opened = Harness(directory)
    try:
        yield opened
    finally:
        opened.close()


def _run(tmp_path: Path, storage: str, method: str, case: Case) -> None:
    with harness(tmp_path / "store") as h:
        target = getattr(getattr(h.store, storage), method)
        label = f"{storage}.{method}"

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        )
        @given(calls(case.params))
        def run(kwargs: dict[str, Any]) -> None:
            real = materialize(kwargs)
            h.ensure_targets()
            h.call(label, target, real, case)

        run()


# The cases -----------------------------------------------------------------------


def _callback_ran(h: Harness, kwargs: dict[str, Any], result: Any) -> None:
    assert kwargs["callback"].calls == [1]  # outside a transaction: at once


CALLBACK = Param(st.builds(Callback))

SECONDARY_CASES: dict[str, Case] = {
    "set": Case(
        {"key": P(st.one_of(st.just("target"), TEXT)), "value": P(TEXT), "ttl": Opt(TTLS)}
    ),
    "get": Case({"key": P(st.one_of(st.just("target"), TEXT))}),
    "delete": Case({"key": P(st.one_of(st.just("target"), TEXT))}),
    "pop": Case({"key": P(st.one_of(st.just("target"), TEXT))}),
    "keys": Case({"prefix": Opt(st.one_of(st.just("tar"), TEXT))}),
}


SESSION_CASES: dict[str, Case] = {
    "create": Case(
        {
            "token_hash": P(TEXT),
            "user_id": P(USER_IDS),
            "created_at": P(STORABLE_DATETIMES),
            "updated_at": P(STORABLE_DATETIMES),
            "expires_at": P(STORABLE_DATETIMES),
            "client_id": Opt(OPTIONAL_TEXT),
            "client_name": Opt(OPTIONAL_TEXT),
            "user_agent": Opt(OPTIONAL_TEXT),
            "ip": Opt(OPTIONAL_TEXT),
            "last_active_at": Opt(OPTIONAL_STORABLE),
        },
    ),
    "get": Case(
        {
            "token_hash": P(st.one_of(st.just("target-token"), TEXT)),
            "now": P(READ_DATETIMES),
        }
    ),
    "get_any": Case({"session_id": P(IDS)}),
    "list_for_user": Case(
        {
            "user_id": P(IDS),
            "now": P(READ_DATETIMES),
            "status": Opt(STATUSES),
            "order_by": Opt(ORDERS),
            "limit": Opt(st.one_of(st.integers(1, 2000), st.sampled_from([1, 1000, 1001, 2**80]))),
            "cursor": Opt(st.one_of(st.none(), REAL_CURSORS), BAD_CURSORS),
        }
    ),
    "refresh": Case(
        {
            "session_id": P(IDS),
            "updated_at": P(STORABLE_DATETIMES),
            "expires_at": P(STORABLE_DATETIMES),
            "last_active_at": Opt(OPTIONAL_STORABLE),
        }
    ),
    "revoke": Case({"session_id": P(IDS), "revoked_at": P(STORABLE_DATETIMES)}),
    "revoke_all_for_user": Case(
        {
            "user_id": P(IDS),
            "revoked_at": P(STORABLE_DATETIMES),
            "except_session_id": Opt(st.one_of(st.none(), IDS)),
        }
    ),
    "on_commit": Case({"callback": CALLBACK}, after=_callback_ran),
    "purge_expired": Case(
        {"now": Opt(OPTIONAL_STORABLE), "older_than": Opt(TIMEDELTAS)},
    ),
}

_CREDENTIALS = {
    "access_token": P(OPTIONAL_TEXT),
    "refresh_token": P(OPTIONAL_TEXT),
    "access_token_expires_at": P(OPTIONAL_STORABLE),
    "refresh_token_expires_at": P(OPTIONAL_STORABLE),
    "scope": P(OPTIONAL_TEXT),
}
ACCOUNT_CASES: dict[str, Case] = {
    "find_user_by_email": Case({"email": P(TEXT)}),
    "find_user_by_id": Case({"id": P(IDS)}),
    "find_social_account": Case(
        {
            "provider": P(PROVIDERS),
            "provider_user_id": P(PROVIDER_USER_IDS),
            "user_id": Opt(st.one_of(st.none(), IDS)),
            "is_login_method": Opt(OPTIONAL_BOOLS),
        }
    ),
    "has_social_account": Case(
        {"provider": P(PROVIDERS), "provider_user_id": P(PROVIDER_USER_IDS)}
    ),
    "find_social_account_by_id": Case({"social_account_id": P(IDS)}),
    "list_social_accounts": Case({"user_id": P(IDS)}),
    "create_user": Case(
        {
            "user_info": P(USER_INFO),
            "email": Opt(OPTIONAL_TEXT),
            "email_verified": Opt(OPTIONAL_BOOLS),
            "extra_fields": Opt(EXTRA, BAD_EXTRA),
        }
    ),
    "create_user_with_identity": Case(
        {
            "user": P(USER_CREATES, NON_MAPPINGS),
            "identity": P(IDENTITIES, BAD_IDENTITIES),
        },
        also_allowed=(IdentityFailed,),
    ),
    "create_social_account": Case(
        {
            "user_id": P(USER_IDS),
            "provider": P(PROVIDERS),
            "provider_user_id": P(PROVIDER_USER_IDS),
            **_CREDENTIALS,
            "user_info": P(USER_INFO),
            "provider_email": P(OPTIONAL_TEXT),
            "provider_email_verified": P(OPTIONAL_BOOLS),
            "is_login_method": P(BOOLS),
            "extra_fields": Opt(EXTRA, BAD_EXTRA),
        }
    ),
    "update_social_account": Case(
        {
            "social_account_id": P(IDS),
            **_CREDENTIALS,
            "user_info": Opt(USER_INFO),
            "provider_email": Opt(OPTIONAL_TEXT),
            "provider_email_verified": Opt(OPTIONAL_BOOLS),
            "enable_login": Opt(BOOLS),
            "extra_fields": Opt(EXTRA, BAD_EXTRA),
        }
    ),
    "disconnect_social_account": Case(
        {"user_id": P(IDS), "provider": P(PROVIDERS), "social_account_id": P(IDS)}
    ),
    "delete_social_account": Case({"social_account_id": P(IDS)}),
    "on_commit": Case({"callback": CALLBACK}, after=_callback_ran),
}


@pytest.mark.parametrize("method", list(SECONDARY_CASES))
def test_secondary_survives_hostile_input(tmp_path: Path, method: str) -> None:
    _run(tmp_path, "secondary", method, SECONDARY_CASES[method])


@pytest.mark.parametrize("method", list(SESSION_CASES))
def test_sessions_survive_hostile_input(tmp_path: Path, method: str) -> None:
    _run(tmp_path, "sessions", method, SESSION_CASES[method])


@pytest.mark.parametrize("method", list(ACCOUNT_CASES))
def test_accounts_survive_hostile_input(tmp_path: Path, method: str) -> None:
    _run(tmp_path, "accounts", method, ACCOUNT_CASES[method])


def test_lone_surrogates_are_value_errors(tmp_path: Path) -> None:
    """The driver's ``UnicodeEncodeError`` is the accepted answer: a ``ValueError``, no write."""
    with harness(tmp_path / "store") as h:
        store = h.store
        attempts: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
            ("secondary.set", store.secondary.set, {"key": "\ud800", "value": "v"}),
            ("secondary.set", store.secondary.set, {"key": "k", "value": "\udfff"}),
            ("secondary.pop", store.secondary.pop, {"key": "\ud800"}),
            (
                "accounts.create_user",
                store.accounts.create_user,
                {"user_info": {}, "email": "\ud800"},
            ),
            (
                "accounts.find_user_by_email",
                store.accounts.find_user_by_email,
                {"email": "\ud800"},
            ),
            (
                "sessions.create",
                store.sessions.create,
                {
                    "token_hash": "\ud800",
                    "user_id": TARGET_USER,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "expires_at": FAR,
                },
            ),
        ]
        for label, method, kwargs in attempts:
            before = h.snapshot()
            with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
                method(**kwargs)
            assert h.snapshot() == before, label
            h.check_whole(label, kwargs)


# Inputs that once escaped as driver errors ----------------------------------------
#
# Each passes whichever way the input is handled: accepted and done right, or
# refused cleanly (``_refused_or``).


def _refused_or(h: Harness, call: Callable[[], Any], check: Callable[[Any], None]) -> None:
    """``call()`` raises ``TypeError``/``ValueError`` writing nothing, or ``check`` passes."""
    before = h.snapshot()
    try:
        result = call()
    except (TypeError, ValueError):
        assert h.snapshot() == before, "refused, but wrote"
    else:
        check(result)


def _refused(h: Harness, call: Callable[[], Any]) -> None:
    """``call()`` raises ``TypeError`` or ``ValueError`` and writes nothing."""
    before = h.snapshot()
    with pytest.raises((TypeError, ValueError)):
        call()
    assert h.snapshot() == before


def _user(email: Any = "new@example.com", email_verified: Any = True) -> Any:
    """A ``UserCreate`` for ``create_user_with_identity``."""
    return {
        "user_info": {},
        "email": email,
        "email_verified": email_verified,
        "extra_fields": None,
    }


def _new_identity(**overrides: Any) -> Callable[[Any], Any]:
    return lambda user: identity_data(user.id, "new", **overrides)


def _session(store: lite.LiteStore, token: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "token_hash": token,
        "user_id": TARGET_USER,
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + timedelta(days=1),
    }
    values.update(overrides)
    return store.sessions.create(**values)


def _update(store: lite.LiteStore, account_id: int = TARGET_LOGIN, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "access_token": None,
        "refresh_token": None,
        "access_token_expires_at": None,
        "refresh_token_expires_at": None,
        "scope": None,
    }
    values.update(changes)
    return store.accounts.update_social_account(account_id, **values)


def test_session_created_before_year_1000_reads_back(tmp_path: Path) -> None:
    early = datetime(999, 12, 31, tzinfo=UTC)

    def check(record: Any) -> None:
        again = h.store.sessions.get_any(record.id)
        assert again is not None
        assert again.created_at == early
        h.store.sessions.list_for_user(TARGET_USER, now=NOW)

    with harness(tmp_path / "store") as h:
        _refused_or(h, lambda: _session(h.store, "early", created_at=early), check)


def test_session_that_expired_before_year_1000_is_not_active(tmp_path: Path) -> None:
    def check(record: Any) -> None:
        assert h.store.sessions.get(token_hash="early", now=NOW) is None

    with harness(tmp_path / "store") as h:
        expires_at = datetime(999, 1, 1, tzinfo=UTC)
        _refused_or(h, lambda: _session(h.store, "early", expires_at=expires_at), check)


def test_purge_with_a_cutoff_before_year_1000_keeps_live_sessions(tmp_path: Path) -> None:
    def check(deleted: Any) -> None:
        assert deleted == 0
        assert h.store.sessions.get_any(live.id) is not None

    with harness(tmp_path / "store") as h:
        live = _session(h.store, "live")
        older_than = timedelta(days=365 * 1600)
        _refused_or(
            h, lambda: h.store.sessions.purge_expired(now=NOW, older_than=older_than), check
        )


def test_refresh_to_before_year_1000_writes_nothing_or_reads_back(tmp_path: Path) -> None:
    early = datetime(999, 1, 1, tzinfo=UTC)

    def check(record: Any) -> None:
        again = h.store.sessions.get_any(TARGET_SESSION)
        assert again is not None
        assert again.expires_at == early

    with harness(tmp_path / "store") as h:
        refresh = h.store.sessions.refresh
        _refused_or(h, lambda: refresh(TARGET_SESSION, updated_at=NOW, expires_at=early), check)


def test_token_expiry_before_year_1000_reads_back(tmp_path: Path) -> None:
    early = datetime(5, 6, 7)

    def check(account: Any) -> None:
        found = h.store.accounts.find_social_account_by_id(account.id)
        assert found is not None
        assert found.access_token_expires_at == early.replace(tzinfo=UTC)

    with harness(tmp_path / "store") as h:
        data = identity_data(TARGET_USER, "early", access_token_expires_at=early)
        _refused_or(h, lambda: h.store.accounts.create_social_account(**data), check)


_OVERFLOW_CALLS: dict[str, Callable[[lite.LiteStore, datetime], Any]] = {
    "sessions.create": lambda s, v: _session(s, "overflow", created_at=v),
    "sessions.get": lambda s, v: s.sessions.get(token_hash="target-token", now=v),
    "sessions.list_for_user": lambda s, v: s.sessions.list_for_user(TARGET_USER, now=v),
    "sessions.refresh": lambda s, v: s.sessions.refresh(
        TARGET_SESSION, updated_at=NOW, expires_at=v
    ),
    "sessions.revoke": lambda s, v: s.sessions.revoke(TARGET_SESSION, revoked_at=v),
    "sessions.revoke_all_for_user": lambda s, v: s.sessions.revoke_all_for_user(
        TARGET_USER, revoked_at=v
    ),
    "sessions.purge_expired": lambda s, v: s.sessions.purge_expired(now=v),
    "accounts.create_social_account": lambda s, v: s.accounts.create_social_account(
        **identity_data(TARGET_USER, "overflow", access_token_expires_at=v)
    ),
    "accounts.update_social_account": lambda s, v: _update(s, refresh_token_expires_at=v),
    "accounts.create_user_with_identity": lambda s, v: s.accounts.create_user_with_identity(
        user=_user(), identity=_new_identity(access_token_expires_at=v)
    ),
}


@pytest.mark.parametrize("call", list(_OVERFLOW_CALLS))
@pytest.mark.parametrize("value", OVERFLOWING_DATETIMES, ids=["min+01:00", "max-01:00"])
def test_datetimes_beyond_utc_range_are_refused(
    tmp_path: Path, call: str, value: datetime
) -> None:
    with harness(tmp_path / "store") as h:
        _refused(h, lambda: _OVERFLOW_CALLS[call](h.store, value))


_NOT_TEXT = [[1], 2**80, b"bytes", Opaque()]
_NOT_TEXT_IDS = ["list", "2**80", "bytes", "object"]


@pytest.mark.parametrize("value", _NOT_TEXT, ids=_NOT_TEXT_IDS)
def test_create_social_account_refuses_a_provider_email_that_is_not_text(
    tmp_path: Path, value: Any
) -> None:
    with harness(tmp_path / "store") as h:
        data = identity_data(TARGET_USER, "new", provider_email=value)
        _refused(h, lambda: h.store.accounts.create_social_account(**data))


@pytest.mark.parametrize("value", _NOT_TEXT, ids=_NOT_TEXT_IDS)
@pytest.mark.parametrize("where", ["user email", "identity provider_email"])
def test_signup_refuses_an_email_that_is_not_text(tmp_path: Path, value: Any, where: str) -> None:
    if where == "user email":
        user, build = _user(email=value), _new_identity()
    else:
        user, build = _user(), _new_identity(provider_email=value)
    with harness(tmp_path / "store") as h:
        _refused(h, lambda: h.store.accounts.create_user_with_identity(user=user, identity=build))


@pytest.mark.parametrize("value", _NOT_TEXT, ids=_NOT_TEXT_IDS)
def test_update_social_account_refuses_a_provider_email_that_is_not_text(
    tmp_path: Path, value: Any
) -> None:
    with harness(tmp_path / "store") as h:
        _refused(h, lambda: _update(h.store, provider_email=value))


@pytest.mark.parametrize("value", [[1], 2**80, Opaque()], ids=["list", "2**80", "object"])
def test_extra_field_values_of_the_wrong_type_are_refused(tmp_path: Path, value: Any) -> None:
    with harness(tmp_path / "store") as h:
        extra = {"hashed_password": value}
        _refused(
            h,
            lambda: h.store.accounts.create_user(
                user_info={}, email="new@example.com", extra_fields=extra
            ),
        )


@pytest.mark.parametrize("how", ["create_user id='abc'", "create_user id=1", "update id=999"])
def test_extra_fields_cannot_set_the_primary_key(tmp_path: Path, how: str) -> None:
    with harness(tmp_path / "store") as h:
        accounts = h.store.accounts
        if how.startswith("update"):
            _refused(h, lambda: _update(h.store, extra_fields={"id": 999}))
        else:
            extra = {"id": "abc" if "abc" in how else TARGET_USER}
            _refused(
                h,
                lambda: accounts.create_user(
                    user_info={}, email="new@example.com", extra_fields=extra
                ),
            )


@pytest.mark.parametrize("missing", ["user_info", "email", "user_id", "provider"])
def test_signup_with_a_missing_key_is_refused(tmp_path: Path, missing: str) -> None:
    user = _user()
    user.pop(missing, None)

    def build(new: Any) -> dict[str, Any]:
        data = identity_data(new.id, "new")
        data.pop(missing, None)
        return data

    with harness(tmp_path / "store") as h:
        _refused(h, lambda: h.store.accounts.create_user_with_identity(user=user, identity=build))


_FLAG_CALLS: dict[str, Callable[[lite.LiteStore], Any]] = {
    "create_user email_verified='false'": lambda s: s.accounts.create_user(
        user_info={}, email="new@example.com", email_verified="false"
    ),
    "signup email_verified='false'": lambda s: s.accounts.create_user_with_identity(
        user=_user(email_verified="false"), identity=_new_identity()
    ),
    "signup email_verified=None": lambda s: s.accounts.create_user_with_identity(
        user=_user(email_verified=None), identity=_new_identity()
    ),
    "create_social_account provider_email_verified='false'": lambda s: (
        s.accounts.create_social_account(
            **identity_data(TARGET_USER, "new", provider_email_verified="false")
        )
    ),
    "update_social_account enable_login='false'": lambda s: _update(
        s, TARGET_CONNECTION, enable_login="false"
    ),
}


@pytest.mark.parametrize("call", list(_FLAG_CALLS))
def test_boolean_flags_that_are_not_bools_are_refused(tmp_path: Path, call: str) -> None:
    with harness(tmp_path / "store") as h:
        _refused(h, lambda: _FLAG_CALLS[call](h.store))


def test_duplicate_token_hash_is_not_a_driver_error(tmp_path: Path) -> None:
    with harness(tmp_path / "store") as h:
        before = h.snapshot()
        with pytest.raises((ValueError, CrossAuthException)):
            _session(h.store, "target-token")
        assert h.snapshot() == before


def test_known_cursor_errors_are_invalid_cursor_errors(tmp_path: Path) -> None:
    """Forged cursors with a valid digest are refused as ``InvalidCursorError``, not crashes."""
    with harness(tmp_path / "store") as h:
        for payload in [
            b'[1,"updated_at_desc",1208925819614629174706176,1]',
            b'[1,"updated_at_desc",0,"abc"]',
            b'[1,"updated_at_desc",0,1208925819614629174706176]',
            b"[" * 300 + b"]" * 300,
            b"\xff\xfe",
        ]:
            with pytest.raises(InvalidCursorError):
                h.store.sessions.list_for_user(TARGET_USER, now=NOW, cursor=_forge(payload))
