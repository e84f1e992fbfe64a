"""Small builders for test data, written against the public storage API."""

from __future__ import annotations

from typing import Any

from cross_auth_lite import PeeweeAccountsStorage


def identity(user_id: Any, provider_user_id: str = "gh-1", **overrides: Any) -> dict[str, Any]:
    """A complete ``SocialAccountCreate`` for ``user_id``."""
    data: dict[str, Any] = {
        "user_id": user_id,
        "provider": "github",
        "provider_user_id": provider_user_id,
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "access_token_expires_at": None,
        "refresh_token_expires_at": None,
        "scope": "read:user",
        "user_info": {"id": provider_user_id},
        "provider_email": None,
        "provider_email_verified": None,
        "is_login_method": True,
        "extra_fields": None,
    }
    data.update(overrides)
    return data


def signup(
    accounts: PeeweeAccountsStorage[Any, Any],
    email: str,
    provider_user_id: str = "gh-1",
    **identity_overrides: Any,
) -> tuple[Any, Any]:
    """Create a user with a GitHub identity through ``create_user_with_identity``."""
    return accounts.create_user_with_identity(
        user={
            "user_info": {"email": email},
            "email": email,
            "email_verified": True,
            "extra_fields": None,
        },
        identity=lambda user: identity(user.id, provider_user_id, **identity_overrides),  # type: ignore[arg-type,return-value]
    )


def connect(
    accounts: PeeweeAccountsStorage[Any, Any],
    user_id: Any,
    provider_user_id: str,
    *,
    is_login_method: bool = True,
    **overrides: Any,
) -> Any:
    """Attach an identity to an existing user."""
    data = identity(user_id, provider_user_id, is_login_method=is_login_method, **overrides)
    return accounts.create_social_account(**data)
