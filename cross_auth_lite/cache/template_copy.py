"""A ``DiskCacheStorage`` on a cache file copied from a template, opened without statements.

``diskcache.Cache()`` rewrites every setting and re-creates every table of
a file that already has them (some thirty statements on two connections).
A copy of the template's file holds exactly the template's settings, so the
new ``Cache`` is made from the template cache's state instead, with the new
directory (``adapters.diskcache_internals.cache_like``); its connections
open on first use, as always. In portable mode, or with a diskcache whose
``Cache`` or ``Disk`` keeps state not known there, it is opened the usual way.
"""

from __future__ import annotations

from pathlib import Path

import diskcache

from cross_auth_lite.adapters.diskcache_internals import cache_like
from cross_auth_lite.cache.storage import CACHE_SETTINGS, DiskCacheStorage, TextDisk

__all__ = ["copied_cache_storage"]


def copied_cache_storage(
    directory: Path,
    prototype: diskcache.Cache,
    *,
    default_ttl: int | float | None,
    busy_timeout: float,
) -> DiskCacheStorage:
    """The storage of cache ``directory``, whose ``cache.db`` is a byte copy of ``prototype``'s.

    The storage owns the cache: ``close()`` closes it.
    """
    cache = None
    if type(prototype.disk) is TextDisk:
        cache = cache_like(prototype, directory, busy_timeout, frozenset(CACHE_SETTINGS))
    if cache is None:
        return DiskCacheStorage(directory, default_ttl=default_ttl, busy_timeout=busy_timeout)
    storage = DiskCacheStorage(cache, default_ttl=default_ttl)
    storage._owns_cache = True
    return storage
