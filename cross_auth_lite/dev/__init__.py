"""A development OAuth2 provider that runs inside the app's own process.

``DevOAuthServer`` plays the identity provider (authorize, token, userinfo;
codes and tokens in memory). ``DevProvider`` is Cross-Auth's client for it,
reaching it by function call rather than over the network. The demo app
mounts the server's authorize page for people to click through;
``cross_auth_lite.testing`` uses the pair to sign users in from tests.
Needs nothing beyond Cross-Auth itself (httpx).
"""

from cross_auth_lite.dev.provider import DevProvider
from cross_auth_lite.dev.server import (
    DEFAULT_IDENTITY,
    AuthorizationRequest,
    DevIdentity,
    DevOAuthError,
    DevOAuthServer,
)

__all__ = [
    "DEFAULT_IDENTITY",
    "AuthorizationRequest",
    "DevIdentity",
    "DevOAuthError",
    "DevOAuthServer",
    "DevProvider",
]
