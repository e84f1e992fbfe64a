"""What cross-auth-lite relies on inside its dependencies, in one place per dependency.

The store's fast paths reach past peewee's and diskcache's public API in a
few places (a per-thread connection state, an internal statement runner).
Every such reach lives in this package, one module per dependency, behind a
capability check made when a store opens: where what a fast path relies on
is missing or behaves otherwise (a new release changed it), the store runs
on the public API only, correct and slower, and says so once with a
``RuntimeWarning`` (``cross_auth_lite.adapters.portable``). Nothing outside
this package names a private attribute of peewee or diskcache.

This package imports only the standard library, peewee and diskcache.
"""
