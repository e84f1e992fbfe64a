"""The development provider keeps its codes and tokens in a Cross-Auth secondary storage.

Two ``DevOAuthServer`` objects configured alike on one lite store stand for
two worker processes of one app: a code either issues is redeemed by either,
once; tokens work on both; nothing secret is a key in the storage.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import cross_auth_lite as lite
from cross_auth_lite.dev import DevIdentity, DevOAuthError, DevOAuthServer
from cross_auth_lite.testing import dev_provider

BASE = "https://app.example"
SECRET = "the-shared-client-secret"
GRACE = DevIdentity("Grace", "grace@example.com", "dev-grace")


def _server(store: lite.LiteStore, **kwargs: object) -> DevOAuthServer:
    options: dict[str, object] = {"storage": store.secondary, "client_secret": SECRET}
    return DevOAuthServer(base_url=BASE, **{**options, **kwargs})  # type: ignore[arg-type]


def _issue(server: DevOAuthServer, identity: DevIdentity = GRACE) -> str:
    request = server.check_authorization_request(
        {
            "client_id": server.client_id,
            "redirect_uri": server.redirect_uri,
            "response_type": "code",
            "state": "st",
        }
    )
    return parse_qs(urlsplit(server.approve(request, identity)).query)["code"][0]


def _redeem(server: DevOAuthServer, code: str) -> dict[str, object]:
    return server.exchange(
        {
            "grant_type": "authorization_code",
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "code": code,
            "redirect_uri": server.redirect_uri,
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> lite.LiteStore:
    with lite.open(tmp_path / "store") as opened:
        yield opened  # type: ignore[misc]


def test_a_code_from_one_server_is_redeemed_once_by_another(store: lite.LiteStore) -> None:
    first, second = _server(store), _server(store)
    assert first is not second
    code = _issue(first)

    tokens = _redeem(second, code)

    access_token = str(tokens["access_token"])
    for server in (first, second):
        assert server.userinfo(f"Bearer {access_token}") == GRACE.userinfo()
    for server in (first, second):  # single use, whichever server tries again
        with pytest.raises(DevOAuthError) as refused:
            _redeem(server, code)
        assert refused.value.error == "invalid_grant"


def test_the_storage_holds_hashes_of_codes_and_tokens_not_the_secrets(
    store: lite.LiteStore,
) -> None:
    server = _server(store)
    code = _issue(server)
    code_key = "dev-oauth:code:" + hashlib.sha256(code.encode()).hexdigest()
    assert store.secondary.keys("dev-oauth:") == [code_key]
    assert code not in (store.secondary.get(code_key) or "")

    token = str(_redeem(server, code)["access_token"])

    token_key = "dev-oauth:token:" + hashlib.sha256(token.encode()).hexdigest()
    assert store.secondary.keys("dev-oauth:") == [token_key]  # the code is gone
    assert all(code not in key and token not in key for key in store.secondary.keys(""))


def test_codes_and_tokens_expire_in_the_storage(store: lite.LiteStore) -> None:
    server = _server(store, code_ttl=1, token_ttl=1)
    stale_code = _issue(server)
    token = str(_redeem(server, _issue(server))["access_token"])
    assert server.userinfo(f"Bearer {token}")["email"] == GRACE.email

    time.sleep(1.1)

    with pytest.raises(DevOAuthError) as expired:
        _redeem(_server(store), stale_code)
    assert expired.value.error == "invalid_grant"
    with pytest.raises(DevOAuthError) as stale_token:
        server.userinfo(f"Bearer {token}")
    assert stale_token.value.status == 401


def test_the_token_endpoint_takes_the_secret_every_worker_shares(store: lite.LiteStore) -> None:
    first, second = _server(store), _server(store)
    form = {
        "grant_type": "authorization_code",
        "client_id": first.client_id,
        "client_secret": first.client_secret,
        "redirect_uri": first.redirect_uri,
    }
    # A client that knows the one secret, reaching whichever worker.
    assert second.exchange({**form, "code": _issue(first)})["token_type"] == "Bearer"
    stranger = _server(store, client_secret="not-the-shared-one")
    with pytest.raises(DevOAuthError) as refused:
        stranger.exchange({**form, "code": _issue(first)})
    assert (refused.value.error, refused.value.status) == ("invalid_client", 401)


def test_a_server_of_another_client_finds_no_grant_on_the_same_storage(
    store: lite.LiteStore,
) -> None:
    other_client = _server(store, client_id="another-app")
    with pytest.raises(DevOAuthError) as foreign:
        _redeem(other_client, _issue(_server(store)))
    assert foreign.value.error == "invalid_grant"


def test_without_a_storage_the_codes_are_private_to_the_server() -> None:
    alone, other = DevOAuthServer(base_url=BASE), DevOAuthServer(base_url=BASE)
    assert alone.client_secret != other.client_secret  # random per server when not given
    code = _issue(alone)
    other_kind = DevOAuthServer(base_url=BASE, client_secret=alone.client_secret)
    with pytest.raises(DevOAuthError):
        _redeem(other_kind, code)
    assert _redeem(alone, code)["token_type"] == "Bearer"


def test_dev_provider_takes_a_storage(store: lite.LiteStore) -> None:
    provider = dev_provider(storage=store.secondary)
    code = _issue(provider.server)
    assert len(store.secondary.keys("dev-oauth:code:")) == 1
    assert _redeem(provider.server, code)["token_type"] == "Bearer"


def test_an_empty_client_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        DevOAuthServer(base_url=BASE, client_secret="")


def test_the_dev_package_imports_without_fastapi(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n.startswith("cross_auth_lite.dev")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("fastapi", "starlette"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the [demo] extra were missing
    dev = importlib.import_module("cross_auth_lite.dev")
    assert "BrowserErrorPages" in dev.__all__
    assert dev.DevOAuthServer(base_url=BASE).client_id == "cross-auth-lite-demo"
    assert "<!doctype html>" in dev.layout("t", "<p>b</p>")
    with pytest.raises(ModuleNotFoundError):
        _ = dev.dev_provider_router  # needs FastAPI, asked for only now


def test_a_token_lives_a_minute_not_an_hour(store: lite.LiteStore) -> None:
    """One token row per sign-in: kept an hour, a loaded demo's cache grew by megabytes."""
    server = _server(store)
    assert server.token_ttl <= 60
    reply = _redeem(server, _issue(server))
    assert 0 < int(reply["expires_in"]) <= 60
    (key,) = store.secondary.keys("dev-oauth:token:")
    _, expire_time = store.secondary.cache.get(key, expire_time=True)
    assert expire_time is not None
    assert expire_time - time.time() <= 61
