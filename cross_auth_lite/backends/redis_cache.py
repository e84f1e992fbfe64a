"""Redis for short-lived state, when one machine is no longer enough.

``lite.open(path, secondary_url="redis://...")`` keeps OAuth state and codes in
Redis through Cross-Auth's own ``RedisStorage`` instead of the disk cache
(``pip install 'cross-auth-lite[redis]'``). The URL is checked before
anything is created, so a typo fails at once naming the URL (its password
hidden) and what is accepted instead; the server must answer and be Redis
6.2 or newer (``pop`` is ``GETDEL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cross_auth_lite.backends.url_checks import checked_url, redis_url_problem
from cross_auth_lite.errors import (
    ConnectionFailedError,
    MalformedURLError,
    MissingExtraError,
)
from cross_auth_lite.urls import redact_url, scheme_of, scrub

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

__all__ = ["REDIS_SCHEMES", "check_secondary_url", "connect_redis"]

#: URL schemes ``secondary_url`` accepts.
REDIS_SCHEMES = ("redis", "rediss", "unix")
#: ``pop`` uses GETDEL, added in Redis 6.2.
MINIMUM_REDIS = (6, 2)


def check_secondary_url(url: object) -> str:
    """``url`` if it names a Redis server; ``TypeError``/``UnsupportedURLError`` otherwise.

    A ``redis://`` URL that redis-py could not read is a ``MalformedURLError``.
    """
    return checked_url(
        "secondary_url",
        url,
        supported=lambda given: scheme_of(given) in REDIS_SCHEMES,
        advice=f"use a {', '.join(s + '://' for s in REDIS_SCHEMES)} URL, or leave it out "
        "for the disk cache in the store's directory",
        problem=redis_url_problem,
    )


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def _unusable(url: str, error: BaseException) -> MalformedURLError:
    """redis-py refused a value of the URL (``?db=x``, an unknown parameter)."""
    return MalformedURLError(
        "secondary_url", url, f"redis-py cannot use it: {scrub(str(error), url)}"
    )


def connect_redis(url: str) -> RedisStorage:
    """Cross-Auth's ``RedisStorage`` on the server at ``url``, checked to answer.

    ``url`` is one ``check_secondary_url`` accepted. Raises
    ``MissingExtraError`` without the ``redis`` package,
    ``MalformedURLError`` for a URL redis-py cannot use (an unknown
    parameter after ``?``), and ``ConnectionFailedError`` when the server
    cannot be reached, answers in a way redis-py cannot read, or is older
    than Redis 6.2. No error repeats the password.
    """
    try:
        import redis
        from cross_auth.storage.redis import RedisStorage
    except ImportError:
        raise MissingExtraError(
            "Redis support needs the redis package: pip install 'cross-auth-lite[redis]'"
        ) from None
    try:
        # RESP2 unless the URL asks otherwise (?protocol=3): every server and
        # proxy speaks it, and the store's commands (GET, SET, GETDEL) gain
        # nothing from RESP3. redis-py 8 asks for RESP3 with a HELLO that a
        # server or proxy without HELLO may answer in ways it cannot read.
        storage = RedisStorage.from_url(url, protocol=2)
    except (TypeError, ValueError) as error:
        raise _unusable(url, error) from None
    try:
        storage.client.ping()
        try:
            info = storage.client.info("server")
        except redis.ResponseError:
            info = {}  # INFO disabled (some managed services): trust the server
        version = str(info.get("redis_version", "")) if isinstance(info, dict) else ""
        if version and _version(version) < MINIMUM_REDIS:
            raise ConnectionFailedError(
                f"Redis at {redact_url(url)} is version {version}; cross-auth-lite needs "
                f"{'.'.join(map(str, MINIMUM_REDIS))} or newer (for GETDEL)"
            )
    except redis.RedisError as error:
        storage.close()
        reason = scrub(str(error), url)
        raise ConnectionFailedError(f"cannot use Redis at {redact_url(url)}: {reason}") from None
    except ConnectionFailedError:  # the version: a ValueError, but no fault of the URL
        storage.close()
        raise
    except (TypeError, ValueError) as error:  # redis-py builds its connection on first use
        storage.close()
        raise _unusable(url, error) from None
    except Exception as error:  # a reply redis-py could not read (its AttributeError...)
        storage.close()
        raise ConnectionFailedError(
            f"cannot use Redis at {redact_url(url)}: redis-py could not read the server's "
            f"answer to its handshake ({type(error).__name__})"
        ) from None
    except BaseException:
        storage.close()
        raise
    return storage
