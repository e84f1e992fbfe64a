"""Sessions: ``PeeweeSessionStorage``, Cross-Auth's session protocol.

``storage.py`` is the storage class (its conditional ``refresh`` included);
``queries.py`` the shapes of its variable statements and the one definition
of a session's status and retention; ``page.py`` what ``list_for_user``
returns; ``cursor.py`` the opaque keyset cursors.

It may import ``cross_auth_lite.database`` and the foundations.
"""

from cross_auth_lite.moved import moved_names

# What the module this package replaced exported: still there, with a warning.
__getattr__ = moved_names(
    __name__,
    {
        "PeeweeSessionStorage": (
            "cross_auth_lite.sessions.storage",
            "cross_auth_lite.PeeweeSessionStorage",
        ),
        "SessionPage": ("cross_auth_lite.sessions.page", "cross_auth_lite.SessionPage"),
        "MAX_LIST_LIMIT": (
            "cross_auth_lite.sessions.page",
            "cross_auth_lite.sessions.page.MAX_LIST_LIMIT",
        ),
    },
)
