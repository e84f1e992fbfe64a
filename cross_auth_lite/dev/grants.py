"""Where the development provider keeps its codes and tokens: a Cross-Auth secondary storage.

An app served by several worker processes must redeem, in whichever worker
the callback lands, a code another worker issued. So codes and tokens live
in a ``SecondaryStorage`` every worker opens (the store's own
``store.secondary``), never in process memory:

- a code is stored with its TTL and redeemed with ``pop``, atomic in the
  storage, so it is single use across processes;
- an access token is stored with its TTL and read with ``get``;
- values are JSON text; keys are a prefix plus the SHA-256 of the code or
  token, so the storage (a file, a Redis server) never holds the secret
  itself, only what identifies it to whoever already has it.

Without a storage, a private ``DiskCacheStorage`` in a temporary directory
stands in: the same code paths, but only the process (indeed the server
object) that created it sees it, so it suits one process only.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cross_auth import SecondaryStorage

import cross_auth_lite as lite

__all__ = ["CODE_PREFIX", "TOKEN_PREFIX", "Grant", "GrantStore"]

#: Key prefix of authorization codes in the storage.
CODE_PREFIX = "dev-oauth:code:"
#: Key prefix of access tokens in the storage.
TOKEN_PREFIX = "dev-oauth:token:"


@dataclass(frozen=True)
class Grant:
    """What an authorization code stands for, until it is redeemed.

    ``identity`` is the userinfo document (``DevIdentity.userinfo()``).
    """

    client_id: str
    identity: dict[str, Any]
    redirect_uri: str
    code_challenge: str
    scope: str

    def to_json(self) -> str:
        """The grant as JSON text, for the storage."""
        return json.dumps(
            {
                "client_id": self.client_id,
                "identity": self.identity,
                "redirect_uri": self.redirect_uri,
                "code_challenge": self.code_challenge,
                "scope": self.scope,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Grant | None:
        """The grant in ``text``, or ``None`` if it is not one (a foreign or damaged value)."""
        try:
            data = json.loads(text)
            grant = cls(
                client_id=data["client_id"],
                identity=data["identity"],
                redirect_uri=data["redirect_uri"],
                code_challenge=data["code_challenge"],
                scope=data["scope"],
            )
        except (ValueError, TypeError, KeyError):
            return None
        fields = (grant.client_id, grant.redirect_uri, grant.code_challenge, grant.scope)
        if not all(isinstance(value, str) for value in fields):
            return None
        return grant if isinstance(grant.identity, dict) else None


def _key(prefix: str, secret: str) -> str:
    return prefix + hashlib.sha256(secret.encode("utf-8")).hexdigest()


class _PrivateStorage:
    """A ``DiskCacheStorage`` in a temporary directory, made on first use, removed with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._storage: lite.DiskCacheStorage | None = None

    def get(self) -> lite.DiskCacheStorage:
        with self._lock:
            if self._storage is None:
                directory = tempfile.TemporaryDirectory(prefix="cross-auth-lite-dev-")
                storage = lite.DiskCacheStorage(Path(directory.name) / "cache")
                # Closing the cache before the directory goes keeps diskcache quiet.
                weakref.finalize(self, _discard, storage, directory)
                self._storage = storage
            return self._storage


def _discard(storage: lite.DiskCacheStorage, directory: tempfile.TemporaryDirectory[str]) -> None:
    storage.close()
    directory.cleanup()


class GrantStore:
    """Codes and access tokens of one development provider, in ``storage``.

    ``storage=None`` uses a private temporary cache: one process only.
    """

    def __init__(self, storage: SecondaryStorage | None) -> None:
        self._shared = storage
        self._private = _PrivateStorage() if storage is None else None

    @property
    def shared(self) -> bool:
        """Whether the storage was given (and so may be seen by other processes)."""
        return self._shared is not None

    def _storage(self) -> SecondaryStorage:
        if self._shared is not None:
            return self._shared
        assert self._private is not None
        return self._private.get()

    def add_code(self, code: str, grant: Grant, ttl: int) -> None:
        """Keep ``grant`` under ``code`` for ``ttl`` seconds."""
        self._storage().set(_key(CODE_PREFIX, code), grant.to_json(), ttl)

    def redeem_code(self, code: str) -> Grant | None:
        """The grant of ``code``, removed as it is read; ``None`` if unknown, used or expired."""
        text = self._storage().pop(_key(CODE_PREFIX, code))
        return None if text is None else Grant.from_json(text)

    def add_token(self, token: str, identity: dict[str, Any], ttl: int) -> None:
        """Keep the userinfo ``identity`` under access ``token`` for ``ttl`` seconds."""
        self._storage().set(_key(TOKEN_PREFIX, token), json.dumps(identity), ttl)

    def token_identity(self, token: str) -> dict[str, Any] | None:
        """The userinfo behind ``token``; ``None`` if unknown or expired."""
        text = self._storage().get(_key(TOKEN_PREFIX, token))
        if text is None:
            return None
        try:
            identity = json.loads(text)
        except ValueError:
            return None
        return identity if isinstance(identity, dict) else None
