"""Where a store keeps its data beyond one machine: database and cache URLs.

``lite.open(path, database_url=..., secondary_url=...)`` checks both URLs here
before creating anything, so a typo fails at once with a ``ValueError`` naming
the URL (its password hidden) and what is accepted instead.

- ``database_url``: ``postgresql://`` (or ``postgres://``) puts users, social
  accounts and sessions in PostgreSQL (``cross_auth_lite.postgres``).
- ``secondary_url``: ``redis://``, ``rediss://`` or ``unix://`` puts the
  short-lived state in Redis through Cross-Auth's own ``RedisStorage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cross_auth_lite.postgres import POSTGRES_SCHEMES, is_postgres_url, redact_url

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

__all__ = ["REDIS_SCHEMES", "check_database_url", "check_secondary_url", "open_redis"]

#: URL schemes ``secondary_url`` accepts.
REDIS_SCHEMES = ("redis", "rediss", "unix")
#: ``pop`` uses GETDEL, added in Redis 6.2.
MINIMUM_REDIS = (6, 2)


def _scheme(url: str) -> str:
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator else ""


def check_database_url(url: object) -> str:
    """``url`` if it names a PostgreSQL database; ``TypeError``/``ValueError`` otherwise."""
    if not isinstance(url, str):
        raise TypeError(f"database_url must be a str or None, not {type(url).__name__}")
    if not is_postgres_url(url):
        raise ValueError(
            f"database_url {redact_url(url)!r} is not supported: use a "
            f"{' or '.join(s + '://' for s in POSTGRES_SCHEMES)} URL, or leave it out "
            "for SQLite in the store's directory"
        )
    return url


def check_secondary_url(url: object) -> str:
    """``url`` if it names a Redis server; ``TypeError``/``ValueError`` otherwise."""
    if not isinstance(url, str):
        raise TypeError(f"secondary_url must be a str or None, not {type(url).__name__}")
    if _scheme(url) not in REDIS_SCHEMES:
        raise ValueError(
            f"secondary_url {redact_url(url)!r} is not supported: use a "
            f"{', '.join(s + '://' for s in REDIS_SCHEMES)} URL, or leave it out for the "
            "disk cache in the store's directory"
        )
    return url


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def open_redis(url: str) -> RedisStorage:
    """Cross-Auth's ``RedisStorage`` on the server at ``url``, checked to answer.

    Raises ``ImportError`` without the ``redis`` package, and ``ValueError``
    when the server cannot be reached or is older than Redis 6.2.
    """
    check_secondary_url(url)
    try:
        import redis
        from cross_auth.storage.redis import RedisStorage
    except ImportError:
        raise ImportError(
            "Redis support needs the redis package: pip install 'cross-auth-lite[redis]'"
        ) from None
    storage = RedisStorage.from_url(url)
    try:
        storage.client.ping()
        try:
            info = storage.client.info("server")
        except redis.ResponseError:
            info = {}  # INFO disabled (some managed services): trust the server
        version = str(info.get("redis_version", "")) if isinstance(info, dict) else ""
        if version and _version(version) < MINIMUM_REDIS:
            raise ValueError(
                f"Redis at {redact_url(url)} is version {version}; cross-auth-lite needs "
                f"{'.'.join(map(str, MINIMUM_REDIS))} or newer (for GETDEL)"
            )
    except redis.RedisError as error:
        storage.close()
        raise ValueError(f"cannot use Redis at {redact_url(url)}: {error}") from None
    except BaseException:
        storage.close()
        raise
    return storage
