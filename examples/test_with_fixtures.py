"""How an app tests its sign-in with cross-auth-lite: real storage, offline provider.

Run it with ``pytest examples/test_with_fixtures.py`` once cross-auth-lite is
installed: its pytest plugin provides the ``lite_store`` fixture.
"""

from __future__ import annotations

from typing import Any

from cross_auth.fastapi import CrossAuth
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from cross_auth_lite import LiteStore
from cross_auth_lite.testing import DevIdentity, dev_provider, sign_in


def make_app(store: LiteStore) -> tuple[FastAPI, Any]:
    """The app under test: Cross-Auth on the store, and one page that needs a user."""
    provider = dev_provider(base_url="https://testserver", prefix="/auth")
    auth = CrossAuth(
        providers=[provider],
        **store.cross_auth_kwargs(),
        config={"session": {"cookies": {"auth": True}}},
    )
    app = FastAPI()
    app.include_router(auth.router, prefix="/auth")

    current_user = Depends(auth.require_current_user)

    @app.get("/me")
    def me(user: Any = current_user) -> dict[str, Any]:
        return {"id": user.id, "email": user.email}

    return app, provider


def test_a_signed_in_user_sees_their_profile(lite_store: LiteStore) -> None:
    app, provider = make_app(lite_store)
    client = TestClient(app, base_url="https://testserver")
    assert client.get("/me").status_code == 401

    response = sign_in(
        client, provider, DevIdentity("Ada", "ada@example.com", "ada-1"), next_url="/me"
    )

    assert response.headers["location"] == "/me"
    assert client.get("/me").json()["email"] == "ada@example.com"
    assert lite_store.accounts.find_user_by_email("ada@example.com") is not None
