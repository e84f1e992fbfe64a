"""cross_auth_lite.testing: the sign-in helper apps use in their own tests."""

from __future__ import annotations

from typing import Any

import pytest
from cross_auth.fastapi import CrossAuth
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.testing import DevIdentity, dev_provider, sign_in


def _app(store: lite.LiteStore, *, prefix: str = "/auth") -> tuple[TestClient, Any]:
    provider = dev_provider(base_url="https://testserver", prefix=prefix)
    auth = CrossAuth(
        providers=[provider],
        **store.cross_auth_kwargs(),
        config={"session": {"cookies": {"auth": True}}},
    )
    app = FastAPI()
    app.include_router(auth.router, prefix=prefix)

    current_user = Depends(auth.require_current_user)

    @app.get("/me")
    def me(user: Any = current_user) -> dict[str, Any]:
        return {"email": user.email}

    return TestClient(app, base_url="https://testserver"), provider


def test_sign_in_creates_the_user_and_a_session(store: lite.LiteStore) -> None:
    client, provider = _app(store, prefix="/account")

    response = sign_in(
        client, provider, DevIdentity("Bo", "bo@example.com", "bo-1"), prefix="/account"
    )

    assert response.status_code in (302, 303)
    assert client.get("/me").json() == {"email": "bo@example.com"}
    user = store.accounts.find_user_by_email("bo@example.com")
    account = store.accounts.find_social_account(
        provider="dev", provider_user_id="bo-1", is_login_method=True
    )
    assert account is not None
    assert account.user_id == user.id
    assert (
        len(
            store.sessions.list_for_user(
                user.id, now=account.access_token_expires_at or _now()
            ).records
        )
        == 1
    )


def test_signing_in_twice_reuses_the_user(store: lite.LiteStore) -> None:
    client, provider = _app(store)
    sign_in(client, provider)
    sign_in(TestClient(client.app, base_url="https://testserver"), provider)
    assert store.models.User.select().count() == 1
    assert store.models.Session.select().count() == 2


def test_a_wrong_prefix_is_a_clear_failure(store: lite.LiteStore) -> None:
    client, provider = _app(store)
    with pytest.raises(AssertionError, match="did not redirect to the development provider"):
        sign_in(client, provider, prefix="/elsewhere")


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
