"""``LiteStore``: what ``lite.open()`` returns, one directory holding three storages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import peewee

from cross_auth_lite.accounts.storage import PeeweeAccountsStorage
from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.database.models import StoreModels
from cross_auth_lite.database.schema import EXCLUSIVE, SHARED
from cross_auth_lite.database.sqlite import close_database
from cross_auth_lite.housekeeping.housekeeper import Housekeeper
from cross_auth_lite.sessions.storage import PeeweeSessionStorage
from cross_auth_lite.store.location import remove_ephemeral_directory

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

__all__ = ["LiteStore"]


class LiteStore:
    """Everything Cross-Auth stores, in one directory. Made by ``cross_auth_lite.open()``.

    ``secondary``, ``accounts`` and ``sessions`` are the three storages;
    ``cross_auth_kwargs()`` hands them to ``CrossAuth``. ``database`` is the
    peewee database (``with store.database.atomic():`` is an application
    transaction the storages join), ``models`` its model classes. ``path`` is
    the store's directory, or ``None`` for a store kept wholly in PostgreSQL
    and Redis, which needs none. ``housekeeper`` is the store's
    ``Housekeeper`` (``None`` when opened with ``housekeeping=False``).
    """

    def __init__(
        self,
        *,
        path: Path | None,
        database: peewee.Database,
        models: StoreModels,
        secondary: DiskCacheStorage | RedisStorage,
        shared_connections: bool,
        ephemeral: bool = False,
        created: bool = False,
        encryption_turned_on: bool = False,
    ) -> None:
        self.path = path
        self.database = database
        self.models = models
        self.secondary = secondary
        self.shared_connections = shared_connections
        self.accounts: PeeweeAccountsStorage[Any, Any] = PeeweeAccountsStorage(
            models.User, models.SocialAccount
        )
        self.sessions: PeeweeSessionStorage[Any] = PeeweeSessionStorage(models.Session)
        self._ephemeral = ephemeral
        self._created = created
        self._encryption_turned_on = encryption_turned_on
        self._closed = False
        self.housekeeper: Housekeeper | None = None

    @property
    def ephemeral(self) -> bool:
        """True for a store in a temporary directory that ``close()`` removes."""
        return self._ephemeral

    @property
    def connections(self) -> str:
        """``"exclusive"`` or ``"shared"``: how identities may be connected, fixed at creation."""
        return SHARED if self.shared_connections else EXCLUSIVE

    @property
    def created(self) -> bool:
        """True when this ``open()`` created the store's tables (a new store)."""
        return self._created

    @property
    def encryption_turned_on(self) -> bool:
        """True when this ``open()`` turned token encryption on: the store's first key.

        From then on the store opens only with that key (or with keys
        including it); a tool can say so to whoever gave it.
        """
        return self._encryption_turned_on

    @property
    def closed(self) -> bool:
        """True once ``close()`` has run."""
        return self._closed

    @property
    def portable(self) -> bool:
        """True when the store runs on peewee's or diskcache's public API only.

        That is portable mode: asked for with ``$CROSS_AUTH_LITE_PORTABLE=1``
        when the store opened, or taken by itself (with one
        ``RuntimeWarning``) because a dependency's internals are not what the
        fast paths expect. Behaviour is the same either way; only speed differs.
        """
        parts = (self.database, self.secondary)
        return any(getattr(part, "fast_paths", True) is False for part in parts)

    @property
    def location(self) -> str:
        """Where the store is, for messages: its directory, else its database URL (no password)."""
        if self.path is not None and not self._ephemeral:
            return str(self.path.absolute())
        database = self.database
        return str(getattr(database, "display_name", None) or self.path)

    def cross_auth_kwargs(self) -> dict[str, Any]:
        """``{"storage", "accounts_storage", "session_storage"}`` for ``CrossAuth(**...)``."""
        return {
            "storage": self.secondary,
            "accounts_storage": self.accounts,
            "session_storage": self.sessions,
        }

    def close(self) -> None:
        """Stop housekeeping, close the database and the cache; remove an ephemeral store.

        Housekeeping stops after the batch in progress, if any (milliseconds).
        Closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self.housekeeper is not None:
                self.housekeeper.stop()  # between two batches: promptly
        finally:
            try:
                self.secondary.close()
            finally:
                try:
                    close_database(self.database)
                finally:
                    if self._ephemeral and self.path is not None:
                        remove_ephemeral_directory(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<LiteStore {str(self.path)!r} {state}>"
