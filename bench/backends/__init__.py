"""The storages under test, each behind the same small ``Backend`` record.

A backend exposes up to three objects with Cross-Auth's protocol methods:
``accounts`` (``AccountsStorage``), ``sessions`` (``SessionStorage``) and
``secondary`` (``SecondaryStorage``). cross-auth-lite has all three;
SQLModel has accounts and sessions; Redis has secondary; raw sqlite3 has all
three with the same method signatures, so the workload calls every backend
the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GROUPS", "Backend", "record_id"]

#: Operation groups, and the ``Backend`` attribute each needs.
GROUPS = ("accounts", "sessions", "secondary")


@dataclass
class Backend:
    """One storage implementation under test."""

    key: str
    label: str
    accounts: Any = None
    sessions: Any = None
    secondary: Any = None
    close: Callable[[], None] = lambda: None
    notes: list[str] = field(default_factory=list)

    def has(self, group: str) -> bool:
        """Whether this backend implements the operations of ``group``."""
        return getattr(self, group) is not None


def record_id(record: Any) -> Any:
    """The id of a returned user or session: ``record.id``, or the record itself for raw ids."""
    return getattr(record, "id", record)
