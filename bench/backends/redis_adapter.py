"""Cross-Auth's ``RedisStorage`` against the local server ``bench.redis_server`` started."""

from __future__ import annotations

from cross_auth.storage.redis import RedisStorage

from bench.backends import Backend

__all__ = ["open_backend"]


def open_backend(url: str) -> Backend:
    """``RedisStorage.from_url(url)`` on an emptied database."""
    storage = RedisStorage.from_url(url)
    storage.client.flushdb()
    return Backend(key="redis", label="Redis", secondary=storage, close=storage.close)
