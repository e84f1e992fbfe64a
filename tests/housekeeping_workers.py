"""Work run in separate processes by the housekeeping tests (importable, so ``spawn`` finds it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import cross_auth_lite as lite

DEAD_PREFIX = "dead-"


def sign_in_while_housekeeping(
    path: str, dead: int, index: int, start: tuple[Any, Any], results: Any
) -> None:
    """Wake this process's housekeeper, then write sessions until some pass has finished.

    Reports ``("ok", passes made here, sessions they removed, writes made while
    the pass was half-way, writes made)``, or ``("error", message)``.
    """
    try:
        options = lite.HousekeepingSettings(first_delay=3600.0, batch_size=20, pause=0.01)
        store = lite.open(path, housekeeping=options, busy_timeout=5.0)
        with store:
            user = store.accounts.find_user_by_email("ada@example.com")
            session: Any = store.models.Session
            ready, go = start
            ready.release()
            go.wait(timeout=60)
            assert store.housekeeper is not None
            store.housekeeper.wake()
            during = writes = 0
            while lite.admin.last_housekeeping(store.database) is None:
                left = session.select().where(session.token_hash.startswith(DEAD_PREFIX)).count()
                now = datetime.now(UTC)
                store.sessions.create(
                    token_hash=f"worker{index}-{writes}",
                    user_id=user.id,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(hours=1),
                )
                writes += 1
                during += 0 < left < dead
        housekeeper = store.housekeeper  # closed: its thread has stopped
        result = housekeeper.last_result
        removed = 0 if result is None else result.sessions
        results.put(("ok", housekeeper.runs, removed, during, writes))
    except Exception as error:  # reported, so the test shows it instead of timing out
        results.put(("error", f"{type(error).__name__}: {error}"))
