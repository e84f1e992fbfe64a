"""peewee's debug log of a store's statements: the SQL, never the values.

peewee logs every statement it runs as ``(sql, params)`` at DEBUG on the
``peewee`` logger. A store's parameters are its users' emails and password
hashes, provider tokens and session token hashes, none of which may reach a
log line. So a store's own databases log ``(sql, params)`` with each value
replaced by ``…``:

- a statement a store runs straight on the driver connection (its fast
  paths) is logged by ``log_statement``;
- a statement run by peewee's own ``execute_sql`` is logged by peewee inside
  ``execute_hiding_values``, and ``HiddenValues``, a filter on the ``peewee``
  logger, rewrites that record before any handler sees it.

Records of any other database, an application's own, are left as peewee
wrote them. The filter is added to the ``peewee`` logger once, when this
module is imported; ``logging.config`` keeps it, but code that removes a
logger's filters removes it too. To see the values, register a query hook
(``database.query_hooks``): it is handed each statement with its parameters.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["HIDDEN", "HiddenValues", "execute_hiding_values", "hidden_values", "log_statement"]

#: What stands for each value in a logged statement's parameters.
HIDDEN = "…"

_PEEWEE_LOG = logging.getLogger("peewee")
_DEBUG = logging.DEBUG


class _Hiding(threading.local):
    #: How many of a store's calls of peewee's ``execute_sql`` this thread is inside.
    depth = 0


_hiding = _Hiding()


def hidden_values(params: Any) -> Any:
    """``params`` with every value replaced by ``HIDDEN`` (``None`` stays ``None``)."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return dict.fromkeys(params, HIDDEN)
    return [HIDDEN] * len(params)


def log_statement(sql: str, params: Any) -> None:
    """Log one statement as peewee's ``execute_sql`` does, its values hidden."""
    if _PEEWEE_LOG.isEnabledFor(_DEBUG):
        _PEEWEE_LOG.debug((sql, hidden_values(params)))


def execute_hiding_values(execute: Callable[[str, Any], Any], sql: str, params: Any) -> Any:
    """``execute(sql, params)``, peewee's ``execute_sql``, its debug record's values hidden."""
    # Always counted, not only while DEBUG is on: another thread may turn it on meanwhile.
    _hiding.depth += 1
    try:
        return execute(sql, params)
    finally:
        _hiding.depth -= 1


class HiddenValues(logging.Filter):
    """Hides the values of the statements peewee logs inside ``execute_hiding_values``.

    Installed once on the ``peewee`` logger; a record logged outside that
    call, or in another thread, passes as it is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if _hiding.depth and isinstance(message, tuple) and len(message) == 2:
            sql, params = message
            record.msg = (sql, hidden_values(params))
        return True


_PEEWEE_LOG.addFilter(HiddenValues())
