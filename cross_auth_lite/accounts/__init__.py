"""Users and social accounts: ``PeeweeAccountsStorage``, Cross-Auth's accounts protocol.

``storage.py`` is the storage class; ``passwords.py`` the password hashes
Cross-Auth's password sign-in accepts.

It may import ``cross_auth_lite.database`` and the foundations.
"""

from cross_auth_lite.moved import moved_names

# What the module this package replaced exported: still there, with a warning.
__getattr__ = moved_names(
    __name__,
    {
        "PeeweeAccountsStorage": (
            "cross_auth_lite.accounts.storage",
            "cross_auth_lite.PeeweeAccountsStorage",
        )
    },
)
