"""``lite.open()``: arguments checked, each back end opened, the store assembled.

``open_store`` checks every argument before it creates anything, then opens
the cache (``open_disk_cache``, or Redis) and the database
(``open_sqlite_database``, or PostgreSQL), and builds the store on them
(``assemble_store``: models, schema, token key, housekeeping). On any error
what was opened is closed again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from cross_auth_lite.backends.postgres import check_database_url, connect_postgresql
from cross_auth_lite.backends.redis_cache import check_secondary_url, connect_redis
from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.cache.template_copy import copied_cache_storage
from cross_auth_lite.database.models import build_models
from cross_auth_lite.database.schema import SHARED, ensure_schema, read_meta
from cross_auth_lite.database.sqlite import (
    BUSY_TIMEOUT_SECONDS,
    close_database,
    open_sqlite,
    sqlite_database,
)
from cross_auth_lite.encryption import EncryptionKey, TokenCipher, token_cipher
from cross_auth_lite.errors import StoreNotFoundError
from cross_auth_lite.housekeeping.housekeeper import Housekeeper
from cross_auth_lite.housekeeping.settings import HousekeepingSettings
from cross_auth_lite.store.lite_store import LiteStore
from cross_auth_lite.store.location import (
    CACHE_DIRNAME,
    DATABASE_FILENAME,
    copy_template,
    ephemeral_directory,
    existing_directory,
    new_store_directory,
    remove_ephemeral_directory,
)
from cross_auth_lite.store.template import StoreTemplate
from cross_auth_lite.store.token_keys import ensure_token_encryption, tokens_encrypted
from cross_auth_lite.urls import redact_url

if TYPE_CHECKING:
    from cross_auth.storage.redis import RedisStorage

__all__ = ["assemble_store", "open_disk_cache", "open_sqlite_database", "open_store"]


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
    back to the filesystem; see ``cross_auth_lite.housekeeping.housekeeper``.
    ``HousekeepingSettings(retention=..., interval=...)`` changes how;
    ``False`` turns it off (``cross-auth-lite purge`` still cleans up on
    demand).

    Every error it raises is a ``cross_auth_lite.LiteError`` (besides
    ``TypeError``/``ValueError`` for arguments of the wrong kind); on error
    nothing is left open.
    """
    _check_options(path, shared_connections, busy_timeout, create, without_token_key, housekeeping)
    _check_urls(database_url, secondary_url, default_ttl)
    cipher = token_cipher(encryption_key)  # a bad key fails before anything is created
    # New local stores are copied from a template (built once per process).
    shape = bool(shared_connections) if create and not database_url and not secondary_url else None
    urls = (database_url, secondary_url)
    directory: Path | None = None
    template: StoreTemplate | None = None
    ephemeral = False
    secondary: DiskCacheStorage | RedisStorage | None = None
    database: peewee.Database | None = None
    try:
        if not create:  # finding an existing store makes nothing: a missing one is said first
            directory, template, ephemeral = _directory(path, shape, create, urls)
        # The servers before the directory: one that cannot be reached leaves nothing on disk.
        if secondary_url is not None:
            secondary = connect_redis(secondary_url)
        if database_url is not None:
            database = connect_postgresql(database_url)
        if create:
            directory, template, ephemeral = _directory(path, shape, create, urls)
        if ephemeral and shape is not None:
            assert directory is not None
            template = copy_template(directory, shape, private=True)
        if secondary is None:
            assert directory is not None
            secondary = open_disk_cache(
                directory, template, default_ttl=default_ttl, busy_timeout=busy_timeout
            )
        if database is None:
            assert directory is not None
            database = open_sqlite_database(directory, template, busy_timeout=busy_timeout)
        return assemble_store(
            directory,
            database,
            secondary,
            database_url=database_url,
            from_template=template is not None,
            shared_connections=shared_connections,
            cipher=cipher,
            create=create,
            without_token_key=without_token_key,
            housekeeping=housekeeping,
            ephemeral=ephemeral,
        )
    except BaseException:
        if secondary is not None:
            secondary.close()
        if database is not None:
            close_database(database)
        if ephemeral and directory is not None:
            remove_ephemeral_directory(directory)
        raise


def _check_options(
    path: object,
    shared_connections: object,
    busy_timeout: object,
    create: object,
    without_token_key: object,
    housekeeping: object,
) -> None:
    """Refuse an argument of the wrong kind or out of range, before anything is made."""
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    if shared_connections is not None and not isinstance(shared_connections, bool):
        raise TypeError("shared_connections must be a bool or None")
    if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
        raise TypeError(f"busy_timeout must be a number, not {type(busy_timeout).__name__}")
    if not 0 <= busy_timeout <= 3600:
        raise ValueError(f"busy_timeout must be between 0 and 3600 seconds, not {busy_timeout!r}")
    if not isinstance(create, bool) or not isinstance(without_token_key, bool):
        raise TypeError("create and without_token_key must be bools")
    if not isinstance(housekeeping, bool | HousekeepingSettings):
        raise TypeError("housekeeping must be a bool or a HousekeepingSettings")


def _check_urls(database_url: str | None, secondary_url: str | None, default_ttl: object) -> None:
    """Refuse a malformed or unsupported URL (never quoting it), before any driver reads it."""
    if database_url is not None:
        check_database_url(database_url)
    if secondary_url is not None:
        check_secondary_url(secondary_url)
        if default_ttl is not None:
            raise ValueError("default_ttl applies to the disk cache, not to secondary_url")


def _directory(
    path: str | os.PathLike[str] | None,
    shape: bool | None,
    create: bool,
    urls: tuple[str | None, str | None],
) -> tuple[Path | None, StoreTemplate | None, bool]:
    """The store's directory, the template laid out in it if any, and whether it is ephemeral.

    ``urls`` are the database and secondary URLs: a store wholly on servers
    has no directory; without ``path`` it is a new temporary one.
    """
    database_url, secondary_url = urls
    directory: Path | None = None
    template: StoreTemplate | None = None
    if database_url is None or secondary_url is None:
        if path is not None and create:
            directory, template = new_store_directory(path, shape)
        elif path is not None:
            directory = existing_directory(path, database_url)
    ephemeral = directory is None and (database_url is None or secondary_url is None)
    if ephemeral:
        directory = ephemeral_directory()
    return directory, template, ephemeral


def open_disk_cache(
    directory: Path,
    template: StoreTemplate | None,
    *,
    default_ttl: int | float | None,
    busy_timeout: float,
) -> DiskCacheStorage:
    """The store's ``cache/`` directory: a template's copy opened as it is, else opened whole."""
    if template is not None:
        return copied_cache_storage(
            directory / CACHE_DIRNAME,
            template.cache_prototype,
            default_ttl=default_ttl,
            busy_timeout=busy_timeout,
        )
    return DiskCacheStorage(
        directory / CACHE_DIRNAME, default_ttl=default_ttl, busy_timeout=busy_timeout
    )


def open_sqlite_database(
    directory: Path, template: StoreTemplate | None, *, busy_timeout: float
) -> peewee.Database:
    """The store's ``accounts.sqlite3``; a file just copied is connected on first use."""
    if template is not None:
        return sqlite_database(directory / DATABASE_FILENAME, busy_timeout=busy_timeout)
    return open_sqlite(directory / DATABASE_FILENAME, busy_timeout=busy_timeout)


def assemble_store(
    directory: Path | None,
    database: peewee.Database,
    secondary: DiskCacheStorage | RedisStorage,
    *,
    database_url: str | None,
    from_template: bool,
    shared_connections: bool | None,
    cipher: TokenCipher | None,
    create: bool,
    without_token_key: bool,
    housekeeping: bool | HousekeepingSettings,
    ephemeral: bool,
) -> LiteStore:
    """The ``LiteStore`` on an open database and cache: models, schema, token key, housekeeping.

    A copied template holds the schema and its ``lite_meta`` rows, and no key
    yet, so ``from_template`` skips reading and building them.
    """
    meta = {} if from_template else read_meta(database)
    if not meta and not create:
        raise StoreNotFoundError(
            f"no cross-auth-lite store in {redact_url(database_url)} (it has no lite_meta table)"
            if database_url
            else f"no store at {directory} ({DATABASE_FILENAME} has no lite_meta table)"
        )
    shared = (
        meta.get("connections") == SHARED if shared_connections is None else shared_connections
    )
    locked = cipher is None and without_token_key and tokens_encrypted(meta)
    models = build_models(database, shared_connections=shared, cipher=cipher, tokens_locked=locked)
    if not from_template:
        ensure_schema(database, models, shared_connections=shared)
    if not locked and (not from_template or cipher is not None):
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
