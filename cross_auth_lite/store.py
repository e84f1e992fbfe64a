"""``lite.open()``: one directory, three stores, ready for ``CrossAuth(...)``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import peewee

from cross_auth_lite.accounts import PeeweeAccountsStorage
from cross_auth_lite.cache_copy import copied_cache_storage
from cross_auth_lite.database import (
    BUSY_TIMEOUT_SECONDS,
    close_database,
    open_sqlite,
    sqlite_database,
)
from cross_auth_lite.encryption import EncryptionKey, token_cipher
from cross_auth_lite.errors import StoreNotFoundError
from cross_auth_lite.housekeeping import Housekeeper, HousekeepingSettings
from cross_auth_lite.models import StoreModels, build_models
from cross_auth_lite.postgres import check_database_url, connect_postgresql
from cross_auth_lite.redis_storage import check_secondary_url, connect_redis
from cross_auth_lite.schema import EXCLUSIVE, SHARED, ensure_schema, read_meta
from cross_auth_lite.secondary import DiskCacheStorage
from cross_auth_lite.sessions import PeeweeSessionStorage
from cross_auth_lite.store_location import (
    CACHE_DIRNAME,
    DATABASE_FILENAME,
    copy_template,
    ephemeral_directory,
    existing_directory,
    new_store_directory,
    remove_ephemeral_directory,
    store_directory,
)
from cross_auth_lite.store_template import StoreTemplate
from cross_auth_lite.token_keys import ensure_token_encryption, tokens_encrypted
from cross_auth_lite.urls import redact_url

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

__all__ = ["CACHE_DIRNAME", "DATABASE_FILENAME", "LiteStore", "open_store", "store_directory"]


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


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    shared_connections: bool | None = None,
    default_ttl: int | float | None = None,
    busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    encryption_key: EncryptionKey | None = None,
    database_url: str | None = None,
    secondary_url: str | None = None,
    create: bool = True,
    without_token_key: bool = False,
    housekeeping: bool | HousekeepingSettings = True,
) -> LiteStore:
    """Open (creating if needed) the store in directory ``path``.

    ``path=None`` makes an ephemeral store in a new temporary directory,
    removed again by ``close()`` (or, if it is never closed, when the
    process exits): handy in tests. A missing directory is
    created 0700 (and so are missing parents); it holds ``accounts.sqlite3``
    and the ``cache/`` directory. An existing directory is used as it is,
    its permissions untouched (``cross-auth-lite check`` reports loose
    ones), if it is empty or holds a store; a directory holding anything
    else is refused with ``StoreExistsError`` and left as it was.

    ``shared_connections=True`` lets several users connect the same provider
    identity (one of them at most as a login method); it is fixed when the
    store is created. ``None`` (the default) opens an existing store as it was
    created and makes a new one exclusive; a ``bool`` that contradicts the
    store raises ``SchemaError``. ``default_ttl`` (seconds) applies to cache writes that
    give no TTL. ``busy_timeout`` (seconds) is how long a write waits for
    another process holding the database before ``StoreUnavailableError``.

    ``encryption_key`` (a Fernet key, or several: the first encrypts, all
    decrypt; default ``$CROSS_AUTH_LITE_ENCRYPTION_KEY``) encrypts provider
    access and refresh tokens at rest; needs the ``[encryption]`` extra. Once
    a store has been opened with a key, opening it without the key, or with
    keys that lack the current one, raises ``EncryptionKeyError``.

    ``database_url="postgresql://..."`` keeps users, social accounts and
    sessions in that PostgreSQL database instead of ``accounts.sqlite3``
    (``[postgres]`` extra); ``secondary_url="redis://..."`` keeps the
    short-lived state in Redis through Cross-Auth's ``RedisStorage`` instead
    of ``cache/`` (``[redis]`` extra; ``default_ttl`` is then refused). Any
    other kind of URL is an ``UnsupportedURLError``.

    With ``database_url`` alone, ``path`` holds only the disk cache; with
    ``secondary_url`` alone, only ``accounts.sqlite3``; with both, the store
    needs no directory: none is created and ``store.path`` is ``None``.

    ``without_token_key=True`` opens a store whose tokens are encrypted even
    when no key is given: everything works but provider tokens, which then
    cannot be read or written (``EncryptionKeyError`` at the first access);
    for administration that never touches a token (``cross-auth-lite stats``,
    ``users``, ``sessions``, ``purge``). A key given is used as usual.

    ``create=False`` opens only a store that exists: where there is none,
    ``StoreNotFoundError`` is raised and nothing is created.

    ``housekeeping`` (on by default) has a background thread look after the
    store: two seconds after open and then at most hourly (across all the
    processes using it), it deletes sessions that ended more than 30 days
    ago and expired cache entries, in small batches, and gives freed pages
    back to the filesystem; see ``cross_auth_lite.housekeeping``.
    ``HousekeepingSettings(retention=..., interval=...)`` changes how;
    ``False`` turns it off (``cross-auth-lite purge`` still cleans up on
    demand).

    Every error it raises is a ``cross_auth_lite.LiteError`` (besides
    ``TypeError``/``ValueError`` for arguments of the wrong kind); on error
    nothing is left open.
    """
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    if shared_connections is not None and not isinstance(shared_connections, bool):
        raise TypeError("shared_connections must be a bool or None")
    if database_url is not None:
        check_database_url(database_url)
    if secondary_url is not None:
        check_secondary_url(secondary_url)
        if default_ttl is not None:
            raise ValueError("default_ttl applies to the disk cache, not to secondary_url")
    if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
        raise TypeError(f"busy_timeout must be a number, not {type(busy_timeout).__name__}")
    if not 0 <= busy_timeout <= 3600:
        raise ValueError(f"busy_timeout must be between 0 and 3600 seconds, not {busy_timeout!r}")
    if not isinstance(create, bool) or not isinstance(without_token_key, bool):
        raise TypeError("create and without_token_key must be bools")
    if not isinstance(housekeeping, bool | HousekeepingSettings):
        raise TypeError("housekeeping must be a bool or a HousekeepingSettings")
    cipher = token_cipher(encryption_key)  # a bad key fails before anything is created
    directory: Path | None = None
    # New local stores are copied from a template (built once per process).
    shape = bool(shared_connections) if create and not database_url and not secondary_url else None
    template: StoreTemplate | None = None
    if database_url is None or secondary_url is None:
        if path is not None and create:
            directory, template = new_store_directory(path, shape)
        elif path is not None:
            directory = existing_directory(path, database_url)
    ephemeral = directory is None and (database_url is None or secondary_url is None)
    if ephemeral:
        directory = ephemeral_directory()
    secondary: DiskCacheStorage | RedisStorage | None = None
    database: peewee.Database | None = None
    try:
        if ephemeral and shape is not None:
            assert directory is not None
            template = copy_template(directory, shape, private=True)
        if secondary_url is not None:
            secondary = connect_redis(secondary_url)
        elif template is not None:
            assert directory is not None
            secondary = copied_cache_storage(
                directory / CACHE_DIRNAME,
                template.cache_prototype,
                default_ttl=default_ttl,
                busy_timeout=busy_timeout,
            )
        else:
            assert directory is not None
            secondary = DiskCacheStorage(
                directory / CACHE_DIRNAME, default_ttl=default_ttl, busy_timeout=busy_timeout
            )
        if database_url is not None:
            database = connect_postgresql(database_url)
        elif template is not None:
            assert directory is not None
            # A file just copied: connected on first use, like the cache.
            database = sqlite_database(directory / DATABASE_FILENAME, busy_timeout=busy_timeout)
        else:
            assert directory is not None
            database = open_sqlite(directory / DATABASE_FILENAME, busy_timeout=busy_timeout)
        # A copied template holds the schema and its lite_meta rows, and no key yet.
        meta = {} if template is not None else read_meta(database)
        if not meta and not create:
            raise StoreNotFoundError(
                f"no cross-auth-lite store in {redact_url(database_url)} "
                "(it has no lite_meta table)"
                if database_url
                else f"no store at {directory} ({DATABASE_FILENAME} has no lite_meta table)"
            )
        shared = (
            meta.get("connections") == SHARED if shared_connections is None else shared_connections
        )
        locked = cipher is None and without_token_key and tokens_encrypted(meta)
        models = build_models(
            database, shared_connections=shared, cipher=cipher, tokens_locked=locked
        )
        if template is None:
            ensure_schema(database, models, shared_connections=shared)
        if not locked and (template is None or cipher is not None):
            ensure_token_encryption(database, cipher)
        store = LiteStore(
            path=directory,
            database=database,
            models=models,
            secondary=secondary,
            shared_connections=shared,
            ephemeral=ephemeral,
            created=not meta,
            encryption_turned_on=cipher is not None and not tokens_encrypted(meta),
        )
        if housekeeping is not False:
            settings = HousekeepingSettings() if housekeeping is True else housekeeping
            store.housekeeper = Housekeeper(
                database=database,
                models=models,
                secondary=secondary,
                location=store.location,
                settings=settings,
            )
            store.housekeeper.start()
        return store
    except BaseException:
        if secondary is not None:
            secondary.close()
        if database is not None:
            close_database(database)
        if ephemeral and directory is not None:
            remove_ephemeral_directory(directory)
        raise
