"""A ``DiskCacheStorage`` on a cache file copied from a template, opened without statements.

``diskcache.Cache()`` rewrites every setting and re-creates every table of
a file that already has them (some thirty statements on two connections).
A copy of the template's file holds exactly the template's settings, so the
new ``Cache`` is made from the template cache's state instead, with the new
directory; its connections open on first use, as always. A diskcache whose
``Cache`` or ``Disk`` keeps state not known here is opened the usual way.
"""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import Final

import diskcache
from diskcache.core import DEFAULT_SETTINGS, METADATA

from cross_auth_lite.secondary import CACHE_SETTINGS, DiskCacheStorage, TextDisk

__all__ = ["copied_cache_storage"]

#: What a ``diskcache.Cache`` holds besides the settings it read from its file:
#: where it is, its ``Disk``, its connections, and the page size.
_CACHE_STATE: Final = {"_directory", "_disk", "_local", "_page_size", "_timeout", "_txn_id"}
_CACHE_ATTRIBUTES: Final = {*_CACHE_STATE, *DEFAULT_SETTINGS, *METADATA, *CACHE_SETTINGS}
_DISK_ATTRIBUTES: Final = frozenset({"_directory", "min_file_size", "pickle_protocol"})


def copied_cache_storage(
    directory: Path,
    prototype: diskcache.Cache,
    *,
    default_ttl: int | float | None,
    busy_timeout: float,
) -> DiskCacheStorage:
    """The storage of cache ``directory``, whose ``cache.db`` is a byte copy of ``prototype``'s.

    ``diskcache.Cache()`` would rewrite every setting and re-create every
    table of a file that already has them (some thirty statements on two
    connections); the file being a copy, the settings it would read are the
    prototype's, so the ``Cache`` is made from the prototype's state with the
    new directory, its connections opened on first use as always. A
    ``diskcache`` whose ``Cache`` keeps state not known here is opened the
    usual way. The storage owns the cache: ``close()`` closes it.
    """
    cache = _cache_like(prototype, directory, busy_timeout)
    if cache is None:
        return DiskCacheStorage(directory, default_ttl=default_ttl, busy_timeout=busy_timeout)
    storage = DiskCacheStorage(cache, default_ttl=default_ttl)
    storage._owns_cache = True
    return storage


def _cache_like(
    prototype: diskcache.Cache, directory: Path, busy_timeout: float
) -> diskcache.Cache | None:
    location = str(directory)
    if (
        set(vars(prototype)) != _CACHE_ATTRIBUTES
        or type(prototype.disk) is not TextDisk
        or set(vars(prototype.disk)) != _DISK_ATTRIBUTES
        # diskcache would expand "~" and "$NAME" in the path, and open another directory
        or os.path.expanduser(os.path.expandvars(location)) != location
    ):
        return None
    cache: diskcache.Cache = object.__new__(type(prototype))
    vars(cache).update(vars(prototype))
    disk = copy.copy(prototype.disk)
    disk._directory = location
    vars(cache).update(
        _directory=location,
        _disk=disk,
        _local=threading.local(),
        _timeout=busy_timeout,
        _txn_id=None,
    )
    return cache
