"""``lite.open()``: one directory, three stores, ready for ``CrossAuth(...)``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import peewee

from cross_auth_lite.accounts import PeeweeAccountsStorage
from cross_auth_lite.database import BUSY_TIMEOUT_SECONDS, close_database, open_sqlite
from cross_auth_lite.encryption import EncryptionKey, token_cipher
from cross_auth_lite.errors import StoreLocationError, StoreNotFoundError
from cross_auth_lite.models import StoreModels, build_models
from cross_auth_lite.postgres import check_database_url, connect_postgresql
from cross_auth_lite.private_files import private_directory
from cross_auth_lite.redis_storage import check_secondary_url, connect_redis
from cross_auth_lite.schema import EXCLUSIVE, SHARED, ensure_schema, read_meta
from cross_auth_lite.secondary import DiskCacheStorage
from cross_auth_lite.sessions import PeeweeSessionStorage
from cross_auth_lite.token_keys import ensure_token_encryption
from cross_auth_lite.urls import redact_url

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

__all__ = ["DATABASE_FILENAME", "CACHE_DIRNAME", "LiteStore", "open_store"]

#: The SQLite file holding users, social accounts and sessions.
DATABASE_FILENAME = "accounts.sqlite3"
#: The diskcache directory holding short-lived state.
CACHE_DIRNAME = "cache"


class LiteStore:
    """Everything Cross-Auth stores, in one directory. Made by ``cross_auth_lite.open()``.

    ``secondary``, ``accounts`` and ``sessions`` are the three storages;
    ``cross_auth_kwargs()`` hands them to ``CrossAuth``. ``database`` is the
    peewee database (``with store.database.atomic():`` is an application
    transaction the storages join), ``models`` its model classes.
    """

    def __init__(
        self,
        *,
        path: Path,
        database: peewee.Database,
        models: StoreModels,
        secondary: DiskCacheStorage | RedisStorage,
        shared_connections: bool,
        ephemeral: bool = False,
        created: bool = False,
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
        self._closed = False

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
    def closed(self) -> bool:
        """True once ``close()`` has run."""
        return self._closed

    def cross_auth_kwargs(self) -> dict[str, Any]:
        """``{"storage", "accounts_storage", "session_storage"}`` for ``CrossAuth(**...)``."""
        return {
            "storage": self.secondary,
            "accounts_storage": self.accounts,
            "session_storage": self.sessions,
        }

    def close(self) -> None:
        """Close the database and the cache; remove the directory of an ephemeral store.

        Closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        self.secondary.close()
        close_database(self.database)
        if self._ephemeral:
            shutil.rmtree(self.path, ignore_errors=True)

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
) -> LiteStore:
    """Open (creating if needed) the store in directory ``path``.

    ``path=None`` makes an ephemeral store in a new temporary directory,
    removed again by ``close()``: handy in tests. The directory is created
    0700; it holds ``accounts.sqlite3`` and the ``cache/`` directory.

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

    ``create=False`` opens only a store that exists: where there is none,
    ``StoreNotFoundError`` is raised and nothing is created.

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
    if not isinstance(create, bool):
        raise TypeError("create must be a bool")
    cipher = token_cipher(encryption_key)  # a bad key fails before anything is created
    ephemeral = path is None
    if path is None:
        directory = Path(tempfile.mkdtemp(prefix="cross-auth-lite-"))
    elif create:
        directory = private_directory(path)
    else:
        directory = _existing_directory(path, database_url)
    secondary: DiskCacheStorage | RedisStorage | None = None
    database: peewee.Database | None = None
    try:
        if secondary_url is not None:
            secondary = connect_redis(secondary_url)
        else:
            secondary = DiskCacheStorage(
                directory / CACHE_DIRNAME, default_ttl=default_ttl, busy_timeout=busy_timeout
            )
        if database_url is not None:
            database = connect_postgresql(database_url)
        else:
            database = open_sqlite(directory / DATABASE_FILENAME, busy_timeout=busy_timeout)
        meta = read_meta(database)
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
        models = build_models(database, shared_connections=shared, cipher=cipher)
        ensure_schema(database, models, shared_connections=shared)
        ensure_token_encryption(database, cipher)
        return LiteStore(
            path=directory,
            database=database,
            models=models,
            secondary=secondary,
            shared_connections=shared,
            ephemeral=ephemeral,
            created=not meta,
        )
    except BaseException:
        if secondary is not None:
            secondary.close()
        if database is not None:
            close_database(database)
        if ephemeral:
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _existing_directory(path: str | os.PathLike[str], database_url: str | None) -> Path:
    """The directory of a store that must exist already (``create=False``)."""
    directory = Path(path).expanduser()
    if directory.exists() and not directory.is_dir():
        raise StoreLocationError(f"{directory} is not a directory")
    if database_url is None and not (directory / DATABASE_FILENAME).is_file():
        if not directory.exists():
            detail = "the directory does not exist"
        elif (directory / DATABASE_FILENAME).exists():
            detail = f"{DATABASE_FILENAME} is not a regular file"
        else:
            detail = f"{DATABASE_FILENAME} is missing"
        raise StoreNotFoundError(f"no store at {directory} ({detail})")
    return private_directory(directory)
