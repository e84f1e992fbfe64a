"""A refused write's error as the storages raise it: which constraint, never the values.

PostgreSQL explains a constraint violation in a DETAIL line that repeats
the refused row (``Failing row contains (...)``, provider tokens included)
or the key's value (``Key (token_hash)=(...)``), and its drivers put that
line in the error's message. SQLite names only the constraint. So a
PostgreSQL driver's ``IntegrityError`` is raised in its place as the same
peewee class holding the message's first line (the constraint) and the
key's columns, with the driver's ``sqlstate``; the driver's error, which
holds the values, is dropped from the exception chain, not kept as a cause.

This happens where writes run: in ``LitePostgresqlDatabase.execute_sql``
and bulk ``execute_many`` for a store's own database, and around each
storage method that writes (``quoting_no_values``) for a database of the
application's own class, a plain ``peewee.PostgresqlDatabase`` say.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import peewee

__all__ = ["quoting_no_values", "without_values"]

CallableT = TypeVar("CallableT", bound=Callable[..., Any])

# "Key (provider, provider_user_id)=(github, 1) already exists.": the columns.
_KEY_COLUMNS = re.compile(r"^DETAIL:\s+Key \(([^)]*)\)=", re.MULTILINE)
# The drivers whose messages may quote values: psycopg 3 and psycopg2.
_QUOTING_DRIVERS = ("psycopg", "psycopg2")


def without_values(error: peewee.IntegrityError) -> peewee.IntegrityError:
    """``error`` as it is raised: itself when it quotes no values, else a copy without them.

    The copy is of ``error``'s class, its message the first line of the
    driver's (the constraint) and, of a ``Key (...)=(...)`` DETAIL, the
    columns; ``sqlstate`` (and psycopg2's name for it, ``pgcode``) is the
    driver's. It holds no ``orig``: the driver's error holds the values.
    """
    driver: Any = getattr(error, "orig", None)
    if driver is None or type(driver).__module__.partition(".")[0] not in _QUOTING_DRIVERS:
        return error
    text = str(driver).strip()
    message = text.splitlines()[0] if text else type(error).__name__
    key = _KEY_COLUMNS.search(text)
    if key is not None:
        message += f" (Key ({key[1]}))"
    cleaned: Any = type(error)(message)
    cleaned.sqlstate = cleaned.pgcode = getattr(driver, "sqlstate", None) or getattr(
        driver, "pgcode", None
    )
    result: peewee.IntegrityError = cleaned
    return result


def quoting_no_values(method: CallableT) -> CallableT:
    """``method`` (a storage's write), raising nothing that quotes a refused row's values.

    A refused write's ``IntegrityError`` is raised ``without_values``; an
    error the storage raised because of one (``UnknownUserError``, a
    duplicate token hash...) keeps it as its cause, cleaned the same way.
    """

    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except peewee.IntegrityError as error:
            cleaned = without_values(error)
            if cleaned is error:
                raise
            raise cleaned from None
        except Exception as error:
            _clean_causes(error)
            raise

    return write  # type: ignore[return-value]


def _clean_causes(error: BaseException) -> None:
    """Replace each driver-quoting ``IntegrityError`` in ``error``'s chain by its clean copy."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        for name in ("__cause__", "__context__"):
            cause = getattr(link, name)
            if isinstance(cause, peewee.IntegrityError):
                cleaned = without_values(cause)
                if cleaned is not cause:
                    setattr(link, name, cleaned)
        link = link.__cause__ or link.__context__
