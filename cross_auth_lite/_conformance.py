"""Type-checked proof that the storages satisfy Cross-Auth's protocols.

Nothing here runs: ``mypy --strict`` (part of ``make test``) checks that each
storage can be passed where Cross-Auth expects its protocol, so a signature
that drifts from Cross-Auth's protocols fails the build.
"""

from __future__ import annotations

from cross_auth import AccountsStorage, SecondaryStorage, SessionStorage

from cross_auth_lite.accounts.storage import PeeweeAccountsStorage
from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.database.models import PeeweeSession, PeeweeSocialAccount, PeeweeUser
from cross_auth_lite.sessions.storage import PeeweeSessionStorage


def _accounts(storage: PeeweeAccountsStorage[PeeweeUser, PeeweeSocialAccount]) -> AccountsStorage:
    return storage


def _sessions(storage: PeeweeSessionStorage[PeeweeSession]) -> SessionStorage:
    return storage


def _secondary(storage: DiskCacheStorage) -> SecondaryStorage:
    return storage


__all__: list[str] = []
