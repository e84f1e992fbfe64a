"""Opening a store: ``lite.open()`` and the ``LiteStore`` it returns.

``opening.py`` checks the arguments and opens one back end of each kind;
``lite_store.py`` is the ``LiteStore``; ``location.py`` its directory,
found, created or laid out; ``template.py`` the template new stores are
copied from; ``token_keys.py`` the token key recorded when a store opens.

It may import every package below it: ``database``, ``accounts``,
``sessions``, ``cache``, ``housekeeping``, ``backends`` and the foundations.
"""

from cross_auth_lite.moved import moved_names

# What the module this package replaced exported: still there, with a warning.
_LOCATION = "cross_auth_lite.store.location"
__getattr__ = moved_names(
    __name__,
    {
        "CACHE_DIRNAME": (_LOCATION, "cross_auth_lite.admin.CACHE_DIRNAME"),
        "DATABASE_FILENAME": (_LOCATION, "cross_auth_lite.admin.DATABASE_FILENAME"),
        "LiteStore": ("cross_auth_lite.store.lite_store", "cross_auth_lite.LiteStore"),
        "open_store": ("cross_auth_lite.store.opening", "cross_auth_lite.open"),
        "store_directory": (_LOCATION, f"{_LOCATION}.store_directory"),
    },
)
