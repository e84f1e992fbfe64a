"""A throwaway Redis server for the test suite (and the documentation's examples).

``redis_server`` (a session fixture, in the root ``conftest.py``) runs Debian's
``redis-server`` on a free loopback port; without it, or without the ``redis``
package, the tests that need it skip and say why (or fail, with
``$CROSS_AUTH_LITE_REQUIRE_SERVERS=1``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.pg_server import free_port, skip_or_fail


def _redis_unavailable() -> str | None:
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis package is not installed (pip install 'cross-auth-lite[redis]')"
    if shutil.which("redis-server") is None:
        return "redis-server not found: install Debian's redis-server package"
    return None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throwaway Redis server for the session; its URL."""
    reason = _redis_unavailable()
    if reason:
        skip_or_fail(reason)
    import redis

    directory = tempfile.mkdtemp(prefix="cross-auth-lite-redis-")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", directory],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.02)
        client.close()
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)
