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
    "UnknownUserError",
    "account_already_linked",
    "email_already_registered",
]


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
