"""Sign users in from an app's own tests, offline, through its real Cross-Auth router.

A thin layer over ``cross_auth_lite.dev``, the development provider: a
``DevProvider`` goes into ``CrossAuth(providers=[...])`` like GitHub's
would, and ``sign_in`` plays the browser and the person at the provider:

```python
from cross_auth.fastapi import CrossAuth
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from cross_auth_lite.testing import DevIdentity, dev_provider, sign_in


def test_profile(lite_store):
    provider = dev_provider(base_url="https://testserver", prefix="/auth")
    auth = CrossAuth(
        providers=[provider],
        **lite_store.cross_auth_kwargs(),
        config={"session": {"cookies": {"auth": True}}},  # adds the login route
    )
    app = FastAPI()
    app.include_router(auth.router, prefix="/auth")
    current_user = Depends(auth.require_current_user)

    @app.get("/profile")
    def profile(user=current_user):
        return {"email": user.email}

    client = TestClient(app, base_url="https://testserver")

    response = sign_in(client, provider, DevIdentity("Ada", "ada@example.com", "ada-1"))

    assert response.status_code in (302, 303)  # the session cookie is now in client
    assert client.get("/profile").json() == {"email": "ada@example.com"}
```

Nothing leaves the process: the provider answers its own token and userinfo
requests by function call. Use an ``https://`` base URL for the test client:
Cross-Auth's cookies are ``Secure`` by default.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from cross_auth import SecondaryStorage

from cross_auth_lite.dev import DEFAULT_IDENTITY, DevIdentity, DevOAuthServer, DevProvider

__all__ = ["DEFAULT_IDENTITY", "DevIdentity", "DevProvider", "dev_provider", "sign_in"]


class _Client(Protocol):
    """What ``sign_in`` needs of a client: Starlette's ``TestClient`` or an ``httpx.Client``."""

    def get(self, url: str, **kwargs: Any) -> Any: ...


def dev_provider(
    *,
    base_url: str = "https://testserver",
    prefix: str = "/auth",
    storage: SecondaryStorage | None = None,
) -> DevProvider:
    """A development provider (id ``dev``) for an app whose Cross-Auth router is at ``prefix``.

    ``base_url`` is where the test client sends requests; the provider's
    registered redirect URI is ``{base_url}{prefix}/dev/callback``.
    ``storage`` keeps its codes and tokens (e.g. ``lite_store.secondary``);
    without one they stay private to this provider (see ``DevOAuthServer``).
    """
    server = DevOAuthServer(
        base_url=base_url,
        redirect_path=f"{prefix.rstrip('/')}/{DevProvider.id}/callback",
        storage=storage,
    )
    return DevProvider(server)


def sign_in(
    client: _Client,
    provider: DevProvider,
    identity: DevIdentity = DEFAULT_IDENTITY,
    *,
    prefix: str = "/auth",
    next_url: str | None = None,
) -> Any:
    """Sign ``identity`` in through the app's login route; return the callback's response.

    Starts at ``{prefix}/{provider.id}/login`` (with ``next`` when given),
    approves the authorization request at the development provider as
    ``identity``, and follows the redirect back to the app's callback. The
    client keeps the cookies the app set; on success the response is
    Cross-Auth's redirect to ``next_url`` and the client holds a session.
    Raises ``AssertionError`` with the app's answer when a step fails.
    """
    params = {"next": next_url} if next_url else None
    login = client.get(
        f"{prefix.rstrip('/')}/{provider.id}/login", params=params, follow_redirects=False
    )
    location = login.headers.get("location", "")
    if login.status_code not in (302, 303, 307) or not location.startswith(
        provider.server.authorize_url
    ):
        raise AssertionError(
            f"login did not redirect to the development provider: {login.status_code} {location!r}"
        )
    request = provider.server.check_authorization_request(
        dict(parse_qsl(urlsplit(location).query))
    )
    callback = provider.server.approve(request, identity)
    return client.get(callback, follow_redirects=False)
