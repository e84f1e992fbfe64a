"""Exceptions cross-auth-lite raises beyond Cross-Auth's own.

Ownership conflicts surface as Cross-Auth's documented
``CrossAuthException("account_already_linked")``; everything here is a
``ValueError`` so callers that handle bad input generically keep working.
"""

from __future__ import annotations

from cross_auth.exceptions import CrossAuthException

__all__ = [
    "AmbiguousSocialAccountError",
    "SocialAccountNotFoundError",
    "StoreUnavailableError",
    "UnknownUserError",
    "account_already_linked",
    "email_already_registered",
]


class StoreUnavailableError(OSError):
    """A store file cannot be used right now: locked, read-only, full, or failing.

    The message names the file and the cause. The operation changed
    nothing; once the cause is gone the same store works again.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


#: SQLite's messages for conditions outside the program, and how to say them.
_UNAVAILABLE = {
    "database is locked": "locked by another process; gave up waiting",
    "attempt to write a readonly database": "read-only (check the file and directory permissions)",
    "database or disk is full": "no space left (disk full or file size limit reached)",
    "disk I/O error": "disk I/O error",
    "unable to open database file": "cannot open the file (missing directory or no permission)",
}


def unavailable(path: str, error: BaseException) -> StoreUnavailableError | None:
    """A ``StoreUnavailableError`` for ``error`` when it is one of those conditions."""
    message = str(error)
    for known, reason in _UNAVAILABLE.items():
        if message.startswith(known):
            return StoreUnavailableError(path, reason)
    return None


class AmbiguousSocialAccountError(ValueError):
    """An identity lookup without ``user_id`` or ``is_login_method`` matched several rows.

    With shared connections one identity can be connected to many users;
    callers resolving a user must say which connection they mean.
    """


class SocialAccountNotFoundError(ValueError):
    """The social account to update does not exist (or a query filter hides it)."""


class UnknownUserError(ValueError):
    """A write referred to a user id that no user has."""


def account_already_linked(provider: str, provider_user_id: str) -> CrossAuthException:
    """The identity belongs to another user (or is another user's login method)."""
    return CrossAuthException(
        "account_already_linked",
        f"The {provider} account {provider_user_id!r} is already linked to another user",
        status_code=409,
    )


def email_already_registered() -> CrossAuthException:
    """Another user already has this email (a concurrent signup won)."""
    return CrossAuthException(
        "email_already_registered",
        "A user with this email address already exists",
        status_code=409,
    )
