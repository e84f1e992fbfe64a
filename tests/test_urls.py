"""No password of a URL reaches a message: redact_url, the URL checks, the drivers' errors.

Every URL here fails before it could reach a server: it does not parse, or
it names a port nothing listens on (127.0.0.1:1), refused at once.
"""

from __future__ import annotations

import pickle
import re
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cross_auth_lite as lite
from cross_auth_lite.backends.postgres import check_database_url
from cross_auth_lite.backends.redis_cache import check_secondary_url
from cross_auth_lite.urls import scrub

# A password begins and ends with these, so a message showing any end of it is caught.
HEAD, TAIL = "Sekr1t", "Terc5"
#: What a URL gives meaning to, and what ends a value in one.
TRICKY = ["@", ":", "/", "?", "#", "&", "=", "%", "%ZZ", "%40", "[", "]", "'", "\\", " ", "://"]
PASSWORD = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from([*TRICKY, "password=", "?password="]),
    ),
    max_size=8,
).map(lambda parts: f"{HEAD}{''.join(parts)}{TAIL}")


def percent_encoded(password: str) -> str:
    return urllib.parse.quote(password, safe="")


def as_written(password: str) -> str:
    return password


def without_at(password: str) -> str:
    return password.replace("@", "%40")  # "ada:pass@word" would be a URL of host "word"


def in_a_query(password: str) -> str:
    return password.replace("&", "%26")  # a raw "&" would start the next parameter


def libpq_quoted(password: str) -> str:
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_unquoted(password: str) -> str:
    return re.sub(r"\s", "_", password)  # a space would end the value


Encoder = Callable[[str], str]

#: (parameter, URL with {} for the password, how the password is written in it)
POSTGRES_SHAPES: list[tuple[str, Encoder]] = [
    ("postgresql://ada:{}@127.0.0.1:1/auth", percent_encoded),
    ("postgres://ada:{}@127.0.0.1:1/auth?sslmode=disable", percent_encoded),
    ("postgresql://127.0.0.1:1/auth?password={}", percent_encoded),
    ("postgresql://127.0.0.1:1/auth?sslmode=disable&password={}", in_a_query),
    ("postgresql://127.0.0.1:1/auth?password={}=x", percent_encoded),
    ("postgresql://ada:{}@127.0.0.1:1/auth", as_written),
    ("postgresql://ada:{}@[::1", as_written),
    ("postgresql://ada:{}@[::1]x/auth", as_written),
    ("postgresql://ada:{}@127.0.0.1:abc/auth", as_written),
    ("postgresql://ada:{}@127.0.0.1:99999/auth", as_written),
    ("postgresql://ada:{}%ZZ@127.0.0.1:1/auth", as_written),
    ("postgresql://ada:{}@127.0.0.1:1/auth?password", as_written),
    ("postgresql://ada:{}", without_at),
    ("postgresql:/ada:{}@db/auth", as_written),
    ("postgresql:ada:{}@db/auth", as_written),
    ("host=127.0.0.1 port=1 password={}", libpq_quoted),
    ("password={} host=127.0.0.1", libpq_unquoted),
    ("host=127.0.0.1 password={}", as_written),
    ("mysql://ada:{}@db/auth", as_written),
]
REDIS_SHAPES: list[tuple[str, Encoder]] = [
    ("redis://:{}@127.0.0.1:1/0", percent_encoded),
    ("rediss://ada:{}@127.0.0.1:1/0", percent_encoded),
    ("redis://127.0.0.1:1/0?password={}", percent_encoded),
    ("unix://:{}@/nonexistent/redis.sock", percent_encoded),
    ("redis://:{}@127.0.0.1:1/0?db=x", percent_encoded),
    ("redis://:{}@127.0.0.1:1/0?no_such_option=1", percent_encoded),
    ("redis://:{}@127.0.0.1:1/0", as_written),
    ("redis://:{}@127.0.0.1:abc/0", as_written),
    ("redis://:{}@[::1", as_written),
    ("redis://:{}@[zz]/0", as_written),
    ("redis://127.0.0.1:1/0?password={}", in_a_query),
    ("memcached://:{}@127.0.0.1:1", as_written),
]
SHAPES = [("database_url", *shape) for shape in POSTGRES_SHAPES] + [
    ("secondary_url", *shape) for shape in REDIS_SHAPES
]


def assert_hidden(text: str, password: str) -> None:
    assert HEAD not in text, text
    assert TAIL not in text, text
    assert password not in text


@settings(max_examples=300, deadline=None)
@given(shape=st.sampled_from(SHAPES), password=PASSWORD)
def test_redact_url_never_shows_the_password(
    shape: tuple[str, str, Encoder], password: str
) -> None:
    _, template, encode = shape
    url = template.format(encode(password))

    assert_hidden(lite.redact_url(url), password)
    assert_hidden(scrub(f'a driver\'s message quoting "{url}"', url), password)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), password=PASSWORD)
def test_no_error_of_open_shows_the_password(
    shape: tuple[str, str, Encoder], password: str
) -> None:
    parameter, template, encode = shape
    url = template.format(encode(password))

    with tempfile.TemporaryDirectory() as scratch:
        path = None if parameter == "database_url" else Path(scratch) / "store"
        with pytest.raises(lite.LiteError) as raised:
            lite.open(path, **{parameter: url})

    error = raised.value
    assert isinstance(error, lite.UnsupportedURLError | lite.ConnectionFailedError), error
    assert_hidden(f"{error} {error!r} {getattr(error, 'url', '')}", password)
    if isinstance(error, lite.UnsupportedURLError):
        assert error.parameter == parameter


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ada:pw@db:5432/auth", "postgresql://ada:***@db:5432/auth"),
        ("postgresql://ada@db/auth", "postgresql://ada@db/auth"),
        ("postgresql://db/auth?password=pw&sslmode=require", None),
        ("postgresql://db/auth?sslpassword=pw", "postgresql://db/auth?sslpassword=***"),
        ("sqlite:///foo.db", None),
        ("/tmp/cache", None),
        ("redis://cache:6379/0", None),
        ("postgresql://a:5432,[::1]:5433/auth", None),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/auth", None),
        ("postgresql://ada:secret@[::1", "postgresql://ada:***@[::1"),
        ("postgresql://ada:se%ZZcret@127.0.0.1:1/db", "postgresql://ada:***@127.0.0.1:1/db"),
        ("postgresql://ada:se/cr@et@db/auth", "postgresql://ada:***@db/auth"),
        ("redis://:secret@127.0.0.1:abc/0", "redis://:***@127.0.0.1:abc/0"),
        ("postgresql://db:secret/auth", "postgresql://***"),
        ("postgresql:/ada:secret@db", "postgresql:***"),
        ("host=127.0.0.1 port=1 password=secret", "host=127.0.0.1 port=1 password=***"),
        ("host=h  password = 'se cr\\'et'  dbname=a", "host=h  password = ***"),
        ("host=h password=pass phrase port=1", "host=h password=***"),
        ("host=h password='secret", "host=h ***"),
        ("host=h dbname=postgresql://ada:secret@db", "host=h dbname=postgresql://ada:***@db"),
        ("", None),
    ],
)
def test_redact_url_hides_only_the_password(url: str, shown: str | None) -> None:
    if shown is None:
        shown = url.replace("password=pw", "password=***")
    assert lite.redact_url(url) == shown


def test_a_drivers_message_is_scrubbed_of_the_url_and_its_password() -> None:
    url = "postgresql://ada:hunter2@[::1"
    message = 'end of string reached in URI: "postgresql://ada:hunter2@[::1" (hunter2)'

    assert scrub(message, url) == 'end of string reached in URI: "postgresql://ada:***@[::1" (***)'
    assert scrub("password 'hun\\'ter2'", "host=h password='hun\\'ter2'") == "password ***"


@pytest.mark.parametrize(
    ("parameter", "url", "problem"),
    [
        ("database_url", "postgresql://ada:hunter2@[::1", "no closing ']'"),
        ("database_url", "postgresql://ada:hunter2@[::1]x/auth", "followed by ':PORT'"),
        ("database_url", "postgresql://ada:hun%ZZter2@db/auth", "write a '%' as %25"),
        ("database_url", "postgresql://ada:hun ter2@db/auth", "write a space as %20"),
        ("database_url", "postgresql://ada:hunter2@db:abc/auth", "port is not a number"),
        ("database_url", "postgresql://ada:hunter2@db:99999/auth", "port is not a number"),
        ("database_url", "postgresql://ada:hun/ter2@db/auth", "'@' that does not end"),
        ("database_url", "postgresql://ada:hun@ter2@db/auth", "'@' that does not end"),
        ("database_url", "postgresql://db/auth?password", "NAME=VALUE"),
        ("database_url", "postgresql://db/auth?password=hun=ter2", "NAME=VALUE"),
        ("database_url", "postgresql://db/a%00uth?password=hunter2", "%00"),
        ("database_url", "postgresql://ada:hunter2@::1/auth", "not in brackets"),
        ("secondary_url", "redis://:hunter2@127.0.0.1:abc/0", "port is not a number"),
        ("secondary_url", "redis://:hunter2@[::1", "no closing ']'"),
        ("secondary_url", "redis://:hunter2@[zz]/0", "host or port cannot be read"),
        ("secondary_url", "redis://:hunter2@a:1,b:2/0", "port is not a number"),
    ],
)
def test_a_malformed_url_is_refused_naming_its_parameter_before_anything_is_made(
    tmp_path: Path, parameter: str, url: str, problem: str
) -> None:
    with pytest.raises(lite.MalformedURLError) as raised:
        lite.open(tmp_path / "store", **{parameter: url})

    error = raised.value
    assert isinstance(error, lite.UnsupportedURLError)
    assert (error.parameter, error.url) == (parameter, lite.redact_url(url))
    assert problem in error.advice
    assert str(error) == f"{parameter} {error.url!r} is malformed: {error.advice}"
    assert "hunter2" not in str(error)
    copied = pickle.loads(pickle.dumps(error))
    assert (type(copied), str(copied)) == (lite.MalformedURLError, str(error))
    assert not (tmp_path / "store").exists()


def test_a_stray_at_is_explained_once() -> None:
    with pytest.raises(lite.MalformedURLError) as raised:
        lite.open(database_url="postgresql://ada:hun@ter2@db/auth")
    advice = raised.value.advice
    assert advice == (
        "it has an '@' that does not end the user name and password: write every other '@' "
        "as %40, and '/', '?' and '#' in the user name and password as %2F, %3F and %23"
    )
    assert advice.count("%40") == 1


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://",
        "postgresql:///auth?host=/var/run/postgresql",
        "postgresql://%2Fvar%2Frun%2Fpostgresql/auth",
        "postgres://ada@db.example:5432/auth?sslmode=require&options=-csearch_path%3Dauth&",
        "postgresql://ada:p%40ss@a:5432,[::1]:5433,[fe80::1%25lo]/auth",
        "postgresql://ada:@db:/auth",
    ],
)
def test_urls_libpq_reads_pass_the_check(url: str) -> None:
    assert check_database_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost",
        "redis://:p%40ss@127.0.0.1:6379/0?socket_timeout=5",
        "rediss://ada:pw@[::1]:6380/2",
        "unix:///var/run/redis.sock?db=1",
        "unix://:pw@/var/run/redis.sock",
    ],
)
def test_urls_redis_reads_pass_the_check(url: str) -> None:
    assert check_secondary_url(url) == url


def test_an_unreachable_server_is_named_with_the_reason_and_no_password() -> None:
    with pytest.raises(lite.ConnectionFailedError) as postgres:
        lite.open(None, database_url="postgresql://ada:hunter2@127.0.0.1:1/auth")
    with pytest.raises(lite.ConnectionFailedError) as redis:
        lite.open(None, secondary_url="redis://:hunter2@127.0.0.1:1/0")

    assert str(postgres.value).startswith(
        "cannot use PostgreSQL at postgresql://ada:***@127.0.0.1:1/auth: "
    )
    # The driver's own reason follows (its wording varies between releases).
    assert str(postgres.value).endswith("Connection refused")
    assert str(redis.value).startswith("cannot use Redis at redis://:***@127.0.0.1:1/0: ")
    assert "Connection refused" in str(redis.value)
    assert "hunter2" not in str(postgres.value) + str(redis.value)


def test_a_parameter_redis_py_refuses_is_malformed_without_the_password() -> None:
    with pytest.raises(lite.MalformedURLError) as raised:
        lite.open(None, secondary_url="redis://:hunter2@127.0.0.1:1/0?no_such_option=1")

    assert raised.value.parameter == "secondary_url"
    assert "no_such_option" in raised.value.advice
    assert "hunter2" not in str(raised.value)
