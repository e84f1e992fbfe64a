"""``secondary_url="redis://..."``: Cross-Auth's ``RedisStorage`` as the store's cache.

A real ``redis-server`` runs on a free loopback port for the module (Debian's
``redis-server`` package); without it, or without the ``redis`` package, the
tests skip and say why. Accounts and sessions stay on SQLite, or on
PostgreSQL in the ``postgresql`` runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cross_auth import SecondaryStorage

import cross_auth_lite as lite
from tests import fake_redis
from tests.oauth import (
    ALICE,
    AUTH_REQUEST_PREFIX,
    Providers,
    counts,
    error_of,
    finish_login,
    make_app,
    mock_providers,
    query,
    sign_in,
    start_login,
)
from tests.pg_server import free_port, skip_or_fail

pytestmark = pytest.mark.all_backends

PROJECT_ROOT = Path(lite.__file__).resolve().parent.parent


@pytest.fixture
def redis_store(
    tmp_path: Path, redis_url: str, make_database_url: Callable[[], str | None]
) -> Iterator[lite.LiteStore]:
    with lite.open(
        tmp_path / "store", secondary_url=redis_url, database_url=make_database_url()
    ) as opened:
        yield opened


# The store


def test_the_cache_is_cross_auths_redis_storage(
    redis_store: lite.LiteStore, tmp_path: Path
) -> None:
    from cross_auth.storage.redis import RedisStorage

    assert isinstance(redis_store.secondary, RedisStorage)
    assert redis_store.cross_auth_kwargs()["storage"] is redis_store.secondary
    if isinstance(redis_store.database, lite.LiteSqliteDatabase):
        assert redis_store.path is not None
        assert not (redis_store.path / "cache").exists()  # nothing cached on disk
    else:  # PostgreSQL and Redis: the store needs no directory, and none was made
        assert redis_store.path is None
        assert not (tmp_path / "store").exists()


def test_close_releases_the_client(redis_store: lite.LiteStore) -> None:
    pool = redis_store.secondary.client.connection_pool
    redis_store.secondary.set("k", "v", 60)

    redis_store.close()

    connections = [*pool._available_connections, *pool._in_use_connections]
    assert connections
    assert all(connection._sock is None for connection in connections)  # disconnected


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secondary_url": "memcached://127.0.0.1:11211"}, "secondary_url .* is not supported"),
        ({"secondary_url": "/tmp/cache"}, r"secondary_url is not a URL \(its value is not shown"),
        ({"secondary_url": "redis://127.0.0.1:6379", "default_ttl": 60}, "default_ttl"),
        ({"database_url": "mysql://user:secret@db/auth"}, "database_url .* is not supported"),
        ({"database_url": "sqlite:///accounts.sqlite3"}, "database_url .* is not supported"),
    ],
)
def test_unknown_urls_are_refused_before_anything_is_created(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        lite.open(tmp_path / "store", **options)

    assert "secret" not in str(refused.value)


@pytest.mark.sqlite_only
def test_an_unreachable_redis_is_a_value_error_without_the_password(tmp_path: Path) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"

    with pytest.raises(ValueError, match="cannot use Redis at") as refused:
        lite.open(None, secondary_url=url)

    assert "hunter2" not in str(refused.value)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("query", ["", "protocol=3"], ids=["resp2", "resp3-asked"])
def test_a_redis_older_than_6_2_or_a_handshake_redis_py_cannot_read_is_refused(
    tmp_path: Path, query: str
) -> None:
    """The version is named; a HELLO answered with ``+OK`` is no driver's ``AttributeError``."""
    with pytest.raises(lite.ConnectionFailedError) as refused, fake_redis.old_redis(query) as url:
        lite.open(tmp_path / "store", secondary_url=url)

    message = str(refused.value)
    version = "is version 6.0.9; cross-auth-lite needs 6.2 or newer"
    if query:  # RESP3, as the URL asks: redis-py 8 cannot read the HELLO reply (5 ignores it)
        unreadable = "redis-py could not read the server's answer to its handshake"
        assert unreadable in message or version in message, message
    else:
        assert version in message
    assert fake_redis.PASSWORD not in message


#: The lowest redis-py that pyproject.toml allows, and the newest of each major since.
REDIS_PY_RELEASES = ("5.0.1", "6.4.0", "7.4.1", "8.2.0")


@pytest.mark.sqlite_only
def test_each_redis_py_release_refuses_an_old_server_saying_its_version(tmp_path: Path) -> None:
    """Run under each release, installed by uv (at once, from uv's cache) into a folder of its own.

    One process imports cross-auth-lite once and forks a child per release,
    which imports that release alone (``python -m tests.fake_redis``).
    """
    uv = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).is_file():
        pytest.skip("uv is not installed (make installs it into .tools/)")
    targets = {release: tmp_path / f"redis-{release}" for release in REDIS_PY_RELEASES}
    install = [uv, "pip", "install", "--quiet", "--no-deps", "--target"]
    installs = {
        release: subprocess.Popen(
            [*install, str(target), f"redis=={release}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for release, target in targets.items()
    }
    for release, installing in installs.items():
        _, stderr = installing.communicate(timeout=120)
        if installing.returncode != 0:
            skip_or_fail(f"uv could not install redis=={release}: {stderr.strip()}")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    ran = subprocess.run(
        [sys.executable, "-m", "tests.fake_redis", *map(str, targets.values())],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)

    assert [result["redis"] for result in results] == list(REDIS_PY_RELEASES), results
    for result in results:
        assert result["error"] == "ConnectionFailedError", result
        assert "is version 6.0.9; cross-auth-lite needs 6.2 or newer" in result["message"]
        assert fake_redis.PASSWORD not in result["message"]


# Cross-Auth's secondary-storage protocol, on the server


def test_set_get_delete_pop(redis_store: lite.LiteStore) -> None:
    cache: SecondaryStorage = redis_store.secondary
    cache.set("oauth:state:a", "payload", 60)
    cache.set("plain", "")

    assert cache.get("oauth:state:a") == "payload"
    assert cache.get("oauth:state:a") == "payload"  # get does not consume
    assert cache.get("plain") == ""
    assert cache.pop("oauth:state:a") == "payload"
    assert cache.pop("oauth:state:a") is None
    cache.delete("plain")
    cache.delete("plain")  # a missing key is fine
    assert cache.get("plain") is None
    assert cache.get("missing") is None


def test_ttls_expire_and_non_positive_ones_delete(redis_store: lite.LiteStore) -> None:
    cache = redis_store.secondary
    cache.set("short", "v", 1)
    cache.set("gone", "v", 60)
    cache.set("gone", "v", 0)
    cache.set("kept", "v")

    assert cache.get("gone") is None
    assert redis_store.secondary.client.ttl("short") in (0, 1)
    time.sleep(1.1)
    assert cache.get("short") is None
    assert cache.pop("short") is None
    assert cache.get("kept") == "v"


def test_unicode_round_trips(redis_store: lite.LiteStore) -> None:
    text = "état 🎉 \x00 \u2028" * 100
    redis_store.secondary.set("k", text, 60)

    assert redis_store.secondary.get("k") == text
    assert redis_store.secondary.pop("k") == text


def test_threads_racing_pop_get_each_value_once(redis_store: lite.LiteStore) -> None:
    keys = [f"code:{i}" for i in range(300)]
    for key in keys:
        redis_store.secondary.set(key, f"value-of-{key}", 60)
    got: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def pop_all() -> None:
        barrier.wait()
        mine = [value for key in keys if (value := redis_store.secondary.pop(key)) is not None]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=pop_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Counter(got) == Counter(f"value-of-{key}" for key in keys)


# Cross-Auth's router on the store


@pytest.fixture
def providers() -> Iterator[Providers]:
    with mock_providers() as mocked:
        yield mocked


def test_browser_sign_in_parks_its_state_in_redis(
    redis_store: lite.LiteStore, providers: Providers
) -> None:
    app = make_app(redis_store, providers)
    browser = app.browser()

    authorization_url = start_login(browser, next_url="/home")

    key = AUTH_REQUEST_PREFIX + query(authorization_url)["state"]
    stored = json.loads(redis_store.secondary.get(key) or "null")
    assert stored["provider_id"] == "fake"
    assert 590 < redis_store.secondary.client.ttl(key) <= 600
    callback = providers["fake"].consent(authorization_url, ALICE)
    response = browser.get(callback)
    assert response.status_code == 302, response.text
    assert redis_store.secondary.get(key) is None  # the state was popped
    assert browser.get("/me").json()["email"] == ALICE.email
    assert counts(redis_store)["sessions"] == 1


def test_a_replayed_callback_fails_once_redis_popped_the_state(
    redis_store: lite.LiteStore, providers: Providers
) -> None:
    browser = make_app(redis_store, providers).browser()
    callback = providers["fake"].consent(start_login(browser), ALICE)
    assert finish_login(browser, callback).status_code == 302

    replay = finish_login(browser, callback)

    assert replay.status_code == 302
    assert error_of(replay) == "session_expired"
    assert counts(redis_store)["sessions"] == 1
    assert providers["fake"].token_requests == 1


def test_sign_in_again_after_reopening(
    tmp_path: Path,
    redis_url: str,
    providers: Providers,
    make_database_url: Callable[[], str | None],
) -> None:
    options: dict[str, Any] = {"secondary_url": redis_url, "database_url": make_database_url()}
    with lite.open(tmp_path / "store", **options) as store:
        sign_in(make_app(store, providers).browser(), providers, ALICE)
        first = store.accounts.find_user_by_email(ALICE.email)

    with lite.open(tmp_path / "store", **options) as store:
        browser = sign_in(make_app(store, providers).browser(), providers, ALICE)
        assert browser.get("/me").json()["id"] == first.id
        assert counts(store)["users"] == 1
        assert counts(store)["sessions"] == 2
