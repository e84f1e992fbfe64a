"""Helpers for the CLI tests: running ``main`` in-process, and a store with a bit of everything.

No tests here; the tests in ``tests/cli/`` import from it, as do a few others
(their fixtures are in ``tests/cli/conftest.py``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite.cli import main

# A real bcrypt hash (of "correct horse"), so seeding needs no slow hashing.
PASSWORD_HASH = "$2b$04$Ba08VVx0.ZlnlVZpKf4ksewSS4nR8WW0CrBHKxHpp9h/NS5cNJLJy"


@dataclass
class Result:
    """What one ``main([...])`` call did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)


def run(capsys: pytest.CaptureFixture[str], data: Path | None, *args: str) -> Result:
    """``main([--data DATA, *args])`` in-process, with its exit status and output."""
    argv = ([] if data is None else ["--data", str(data)]) + list(args)
    code = main(argv)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def assert_one_line_error(result: Result, code: int = 1, contains: str = "") -> None:
    """The command failed with ``code`` and one ``cross-auth-lite: error:`` line, no traceback."""
    assert result.code == code, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("cross-auth-lite: error: "), result.err
    assert "Traceback" not in result.err
    assert contains in lines[0], lines[0]


def seed(
    data_dir: Path | None, *, shared_connections: bool = False, **open_options: Any
) -> dict[str, Any]:
    """A store with three users, three identities, five sessions and two cache entries.

    ada: verified, password, github + google identities, sessions active,
    expired (yesterday) and revoked. bob: github identity that is not a login
    method, one active session and one that ended 60 days ago. A third user
    has no email. Cache: one live entry, one expired (only the live one in Redis).
    ``open_options`` go to ``lite.open`` (``database_url=``, ``secondary_url=``).
    """
    now = datetime.now(UTC)
    with lite.open(data_dir, shared_connections=shared_connections, **open_options) as store:
        accounts, sessions, user_model = store.accounts, store.sessions, store.models.User
        ada = accounts.create_user(user_info={}, email="ada@example.com", email_verified=True)
        user_model.update(hashed_password=PASSWORD_HASH).where(user_model.id == ada.id).execute()
        bob = accounts.create_user(user_info={}, email="bob@example.com")
        nobody = accounts.create_user(user_info={}, email=None)
        github = accounts.create_social_account(
            user_id=ada.id,
            provider="github",
            provider_user_id="gh-1",
            access_token="access-secret",
            refresh_token="refresh-secret",
            access_token_expires_at=now + timedelta(hours=1),
            scope="read:user",
            provider_email="ada@github.example",
            provider_email_verified=True,
        )
        accounts.create_social_account(user_id=ada.id, provider="google", provider_user_id="g-1")
        accounts.create_social_account(
            user_id=bob.id, provider="github", provider_user_id="gh-2", is_login_method=False
        )

        def session(user: Any, token: str, expires: timedelta, **extra: Any) -> Any:
            start = now - timedelta(days=90)
            return sessions.create(
                token_hash=token,
                user_id=user.id,
                created_at=start,
                updated_at=start,
                expires_at=now + expires,
                **extra,
            )

        active = session(
            ada,
            "hash-active",
            timedelta(days=7),
            client_name="Laptop",
            user_agent="Mozilla/5.0",
            ip="192.0.2.1",
            last_active_at=now - timedelta(minutes=5),
        )
        expired = session(ada, "hash-expired", timedelta(days=-1))
        revoked = session(ada, "hash-revoked", timedelta(days=7))
        sessions.revoke(revoked.id, revoked_at=now - timedelta(hours=1))
        bob_active = session(bob, "hash-bob", timedelta(days=1))
        dead = session(bob, "hash-dead", timedelta(days=-60))
        store.secondary.set("state:live", "value", ttl=3600)
        if isinstance(store.secondary, lite.DiskCacheStorage):
            store.secondary.set("state:old", "value", ttl=3600)
            # Expired already; set directly, as diskcache culls expired rows on every set().
            store.secondary.cache._sql(
                "UPDATE Cache SET expire_time = ? WHERE key = ?", (time.time() - 10, "state:old")
            )
    return {
        "ada": ada.id,
        "bob": bob.id,
        "nobody": nobody.id,
        "github": github.id,
        "active": active.id,
        "expired": expired.id,
        "revoked": revoked.id,
        "bob_active": bob_active.id,
        "dead": dead.id,
    }
