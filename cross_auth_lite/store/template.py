"""New stores copied from a template: a fresh store costs two file writes, not a schema build.

Creating a store from scratch runs some seventy statements (the tables and
``lite_meta``, diskcache's ``Settings`` table, indexes and triggers) on three
connections, each closed with a checkpoint. What comes out is the same every
time for a given connection-sharing choice: nothing in the files belongs to
one store (no salt, id or time; the WAL, whose header has random salts, is
checkpointed away before the copy; an encryption key is recorded after the
copy, as for any store opened with a key). So each process builds one store
from scratch per choice, the first time one is needed, through the same
functions ``lite.open()`` uses, keeps the bytes of its two files, and writes
them into each new store directory. The copy is therefore the file
``lite.open()`` would have built, with the same modes (0700 directories,
0600 files, whatever the umask).

A new directory is laid out beside its place and renamed into it, whole.
Into an existing empty directory, each file is written under a temporary
name and published with ``os.link``, which never replaces a file. Either way
a process racing to create the same store gets there first or finds the
files and opens them as an existing store. Where neither can be done (a
filesystem without hard links, say), the store is built from scratch as
before. The copy's database and cache connect on first use.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import diskcache
import peewee
from diskcache.core import DBNAME

from cross_auth_lite.cache.storage import DiskCacheStorage
from cross_auth_lite.database.models import build_models
from cross_auth_lite.database.schema import ensure_schema
from cross_auth_lite.database.sqlite import BUSY_TIMEOUT_SECONDS, close_database, open_sqlite
from cross_auth_lite.errors import LiteError
from cross_auth_lite.private_files import (
    create_private_file,
    new_private_directory,
    private_directory,
    scratch_directory,
)

__all__ = ["StoreTemplate", "lay_out_store", "store_template"]


@dataclass(frozen=True)
class StoreTemplate:
    """The files of a new, empty store, as built from scratch once per process."""

    #: Whether the store lets several users connect one identity.
    shared_connections: bool
    #: The bytes of ``accounts.sqlite3`` and of ``cache/cache.db``.
    database: bytes
    cache: bytes
    #: What ``lite_meta`` holds.
    meta: dict[str, str]
    #: The (closed) ``diskcache.Cache`` the cache file was made with.
    cache_prototype: diskcache.Cache


_templates: dict[bool, StoreTemplate | None] = {}
_building = threading.Lock()


def store_template(*, shared_connections: bool) -> StoreTemplate | None:
    """The template of a new store, built the first time this process asks for it.

    ``None`` when it cannot be built (say, the temporary directory is not
    writable): new stores of this process are then built from scratch.
    """
    if shared_connections not in _templates:
        with _building:
            if shared_connections not in _templates:
                try:
                    _templates[shared_connections] = _build(shared_connections)
                except (LiteError, OSError, RuntimeError, sqlite3.Error, peewee.PeeweeException):
                    _templates[shared_connections] = None
    return _templates[shared_connections]


def _build(shared_connections: bool) -> StoreTemplate:
    scratch = Path(tempfile.mkdtemp(prefix="cross-auth-lite-template-"))
    try:
        database_file, cache_directory = scratch / "accounts.sqlite3", scratch / "cache"
        database = open_sqlite(database_file)
        try:
            models = build_models(database, shared_connections=shared_connections)
            meta = ensure_schema(database, models, shared_connections=shared_connections)
        finally:
            close_database(database)  # the last connection: the WAL is checkpointed and removed
        secondary = DiskCacheStorage(cache_directory, busy_timeout=BUSY_TIMEOUT_SECONDS)
        prototype = secondary.cache
        secondary.close()
        files = (database_file, cache_directory / DBNAME)
        for file in files:
            for suffix in ("-wal", "-journal"):
                if file.with_name(file.name + suffix).exists():
                    raise RuntimeError(f"{file.name} kept a {suffix} file after closing")
        return StoreTemplate(
            shared_connections=shared_connections,
            database=files[0].read_bytes(),
            cache=files[1].read_bytes(),
            meta=dict(meta),
            cache_prototype=prototype,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def lay_out_store(
    directory: Path,
    template: StoreTemplate,
    *,
    database_name: str,
    cache_name: str,
    private: bool = False,
) -> bool:
    """Write the template's files into ``directory``, which holds no store: True if done.

    ``private``: the directory is new and nobody else knows it yet, so the
    files are written in place. Otherwise each is published all at once,
    the cache file first (the database file is what makes a directory a
    store). False when a file could not be published (it exists already,
    the filesystem has no hard links, the disk is full...) or, in a private
    directory, ``cache/`` could not be made: whatever was
    published is a complete file, and ``lite.open()`` carries on as for an
    existing store, or from scratch, and raises what that raises.
    """
    if not private:
        cache = private_directory(directory / cache_name, role="cache directory")
    else:
        try:
            cache = new_private_directory(directory / cache_name)
        except OSError:
            return False
    at_once = not private
    return create_private_file(
        cache / DBNAME, template.cache, all_at_once=at_once
    ) and create_private_file(directory / database_name, template.database, all_at_once=at_once)


def new_store(
    directory: Path, template: StoreTemplate, *, database_name: str, cache_name: str
) -> bool:
    """Make the store ``directory``, which does not exist, from the template: True if done.

    The store is laid out in a new directory beside it and renamed into
    place, so it appears whole; a rename never replaces a directory that
    is not empty. False (nothing left behind) when that cannot be done,
    such as when ``directory`` appeared meanwhile holding something, or its
    parent is missing: the directory is then made, and the store opened or
    built, as ever.
    """
    parent = directory.parent
    if not parent.is_dir():
        return False
    staging = scratch_directory(parent, f".{directory.name}.")
    if staging is None:
        return False
    try:
        laid_out = lay_out_store(
            staging, template, database_name=database_name, cache_name=cache_name, private=True
        )
        if laid_out:
            os.rename(staging, directory)
            return True
    except (OSError, LiteError):
        pass
    shutil.rmtree(staging, ignore_errors=True)
    return False
