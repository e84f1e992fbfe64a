"""cross-auth-lite: all the storage Cross-Auth needs, with no server.

SQLite through peewee for users, social accounts and sessions; diskcache for
short-lived OAuth state and codes. One directory, one call::

    import cross_auth_lite as lite
    from cross_auth.fastapi import CrossAuth

    store = lite.open("var/auth")
    auth = CrossAuth(providers=[...], **store.cross_auth_kwargs())
"""

from cross_auth_lite.accounts import PeeweeAccountsStorage
from cross_auth_lite.database import CommitCallbacksMixin, LiteSqliteDatabase, StoreClosedError
from cross_auth_lite.errors import (
    AmbiguousSocialAccountError,
    SocialAccountNotFoundError,
    StoreUnavailableError,
    UnknownUserError,
)
from cross_auth_lite.models import PeeweeSession, PeeweeSocialAccount, PeeweeUser
from cross_auth_lite.postgres import LitePostgresqlDatabase
from cross_auth_lite.schema import SchemaError
from cross_auth_lite.secondary import DiskCacheStorage, TextDisk
from cross_auth_lite.sessions import PeeweeSessionStorage
from cross_auth_lite.store import LiteStore
from cross_auth_lite.store import open_store as open

__version__ = "0.1.0"

__all__ = [
    "AmbiguousSocialAccountError",
    "CommitCallbacksMixin",
    "DiskCacheStorage",
    "LitePostgresqlDatabase",
    "LiteSqliteDatabase",
    "LiteStore",
    "PeeweeAccountsStorage",
    "PeeweeSession",
    "PeeweeSessionStorage",
    "PeeweeSocialAccount",
    "PeeweeUser",
    "SchemaError",
    "SocialAccountNotFoundError",
    "StoreClosedError",
    "StoreUnavailableError",
    "TextDisk",
    "UnknownUserError",
    "__version__",
    "open",
]
