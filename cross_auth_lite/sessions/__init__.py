"""Sessions: ``PeeweeSessionStorage``, Cross-Auth's session protocol.

``storage.py`` is the storage class (its conditional ``refresh`` included);
``queries.py`` the shapes of its variable statements and the one definition
of a session's status and retention; ``page.py`` what ``list_for_user``
returns; ``cursor.py`` the opaque keyset cursors.

It may import ``cross_auth_lite.database`` and the foundations.
"""
