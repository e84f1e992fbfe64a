"""Work run in separate processes by the race tests (importable, so ``spawn`` can find it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite
from tests.factories import signup

#: Where a store is: its directory (``None``: a temporary one), and its database URL
#: (``None`` for SQLite in the directory).
Location = tuple[str | None, str | None]


def _wait(start: Any) -> None:
    """Say this process is ready (its store open), then wait for the others."""
    ready, go = start
    ready.put(True)
    go.wait(timeout=30)


def open_location(location: Location, **options: Any) -> lite.LiteStore:
    """Open the store at ``location``."""
    path, database_url = location
    directory = None if path is None else Path(path)
    return lite.open(directory, database_url=database_url, **options)


def open_only(location: Location, start: Any, results: Any) -> None:
    """Open (creating) the store once released; report ``opened`` or the error."""
    _wait(start)
    try:
        open_location(location).close()
    except Exception as error:
        results.put(f"{type(error).__name__}: {error}")
    else:
        results.put("opened")


def signup_same_identity(
    location: Location, shared: bool, index: int, start: Any, results: Any
) -> None:
    """Sign up a new user with identity ``github:race``; report ``won`` or the error code."""
    with open_location(location, shared_connections=shared) as store:
        _wait(start)
        try:
            signup(store.accounts, f"user{index}@example.com", "race")
        except CrossAuthException as error:
            results.put(error.error)
        except Exception as error:  # reported, so the test shows it instead of timing out
            results.put(f"{type(error).__name__}: {error}")
        else:
            results.put("won")


def pop_keys(path: str, keys: list[str], start: Any, results: Any) -> None:
    """Pop every key; report the values this process got."""
    with lite.open(Path(path)) as store:
        _wait(start)
        try:
            got = [value for key in keys if (value := store.secondary.pop(key)) is not None]
        except Exception as error:
            results.put(f"{type(error).__name__}: {error}")
        else:
            results.put(got)


def disconnect(
    location: Location, user_id: int, account_id: int, start: Any, results: Any
) -> None:
    """Disconnect one of a user's login methods; report the result."""
    with open_location(location) as store:
        _wait(start)
        try:
            result = store.accounts.disconnect_social_account(
                user_id=user_id, provider="github", social_account_id=account_id
            )
        except Exception as error:
            result = f"{type(error).__name__}: {error}"
        results.put(result)


def promote(location: Location, account_id: int, start: Any, results: Any) -> None:
    """Promote a shared connection to a login method; report ``won`` or the error code."""
    with open_location(location, shared_connections=True) as store:
        _wait(start)
        try:
            store.accounts.update_social_account(
                account_id,
                access_token=f"token-{account_id}",
                refresh_token=None,
                access_token_expires_at=None,
                refresh_token_expires_at=None,
                scope=None,
                user_info={},
                provider_email=None,
                provider_email_verified=None,
                enable_login=True,
            )
        except CrossAuthException as error:
            results.put(error.error)
        except Exception as error:  # reported, so the test shows it instead of timing out
            results.put(f"{type(error).__name__}: {error}")
        else:
            results.put("won")
