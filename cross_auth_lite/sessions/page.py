"""What one ``list_for_user`` call returns: a ``SessionPage`` of the user's sessions.

``PeeweeSessionStorage.list_for_user`` fills it with at most
``MAX_LIST_LIMIT`` records; ``cross_auth_lite.sessions.storage`` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from cross_auth_lite.database.models import PeeweeSession

__all__ = ["MAX_LIST_LIMIT", "SessionModelT", "SessionPage"]

SessionModelT = TypeVar("SessionModelT", bound=PeeweeSession)

#: The most records one ``list_for_user`` page holds; larger limits are lowered to it.
MAX_LIST_LIMIT = 1000


@dataclass(frozen=True)
class SessionPage(Generic[SessionModelT]):
    """One page of ``list_for_user``: the records, and the cursor of the next page.

    ``next_cursor`` is ``None`` on the last page.
    """

    records: list[SessionModelT]
    next_cursor: str | None = None
