"""Keep OAuth secrets out of the demo's access log.

uvicorn logs each request line with its query string, and the sign-in's
query strings carry what must not be written down: the authorization
``code`` and the ``state`` on ``/auth/dev/callback``, the ``state`` and PKCE
challenge on ``/dev-oauth/authorize``. ``QueryValuesFilter`` on the
``uvicorn.access`` logger keeps the parameter names and replaces every value
with ``…``, for every request, before any handler formats the line.
"""

from __future__ import annotations

import logging

__all__ = ["ACCESS_LOGGER", "QueryValuesFilter", "install", "redact_query"]

#: The logger uvicorn writes request lines to (also under gunicorn's uvicorn workers).
ACCESS_LOGGER = "uvicorn.access"
_HIDDEN = "…"


def redact_query(path: str) -> str:
    """``path`` with each query value replaced: ``/cb?code=…&state=…``."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}={_HIDDEN}" if equals else _HIDDEN)
    return f"{base}?{'&'.join(parts)}"


class QueryValuesFilter(logging.Filter):
    """Rewrites uvicorn's access records so that no query value reaches a handler.

    uvicorn passes ``(client, method, path_with_query, http_version, status)``
    as the record's arguments; the path is replaced in place, so both the
    plain message and uvicorn's own ``AccessFormatter`` see the redacted one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's path (and, to be safe, any ``?`` in its message); keep it."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        elif isinstance(record.msg, str) and "?" in record.msg and not args:
            record.msg = " ".join(redact_query(word) for word in record.msg.split(" "))
        return True


def install() -> None:
    """Add ``QueryValuesFilter`` to the ``uvicorn.access`` logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryValuesFilter) for f in logger.filters):
        logger.addFilter(QueryValuesFilter())
