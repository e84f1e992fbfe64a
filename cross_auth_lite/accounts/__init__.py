"""Users and social accounts: ``PeeweeAccountsStorage``, Cross-Auth's accounts protocol.

``storage.py`` is the storage class; ``passwords.py`` the password hashes
Cross-Auth's password sign-in accepts.

It may import ``cross_auth_lite.database`` and the foundations.
"""
