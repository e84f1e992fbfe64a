"""The disk cache: ``DiskCacheStorage``, short-lived state on diskcache.

``storage.py`` is the storage class (text only, TTLs, atomic ``pop``);
``rows.py`` the one statement behind each call, on diskcache's own table,
TTL check included; ``errors.py`` what a busy, read-only or full cache
file raises; ``template_copy.py`` a cache copied from the store template,
opened without statements.

It may import ``cross_auth_lite.adapters`` (diskcache's internals),
``cross_auth_lite.database`` (error translation) and the foundations.
"""
