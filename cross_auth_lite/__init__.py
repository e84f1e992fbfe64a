"""cross-auth-lite: all the storage Cross-Auth needs, with no server.

SQLite through peewee for users, social accounts and sessions; diskcache for
short-lived OAuth state and codes. One directory, one call:

```python
import cross_auth_lite as lite
from cross_auth.fastapi import CrossAuth
from cross_auth.social_providers.github import GitHubProvider

store = lite.open("var/auth")
auth = CrossAuth(
    providers=[GitHubProvider(client_id="...", client_secret="...")],
    **store.cross_auth_kwargs(),
    config={"session": {"cookies": {"auth": True}}},  # browser sign-in
)
```

Everything in ``__all__`` here is public, and so is the administration
namespace ``cross_auth_lite.admin`` (``lite.admin.check_store(...)``);
every exception the library raises derives from ``LiteError``.
"""

from cross_auth_lite import admin, errors
from cross_auth_lite.accounts.passwords import check_password, hash_password
from cross_auth_lite.accounts.storage import PeeweeAccountsStorage
from cross_auth_lite.backends.postgres import LitePostgresqlDatabase
from cross_auth_lite.cache.storage import CACHE_SETTINGS, DiskCacheStorage, TextDisk
from cross_auth_lite.database.models import (
    PeeweeSession,
    PeeweeSocialAccount,
    PeeweeUser,
    identity_indexes,
)
from cross_auth_lite.database.sqlite import CommitCallbacksMixin, LiteSqliteDatabase
from cross_auth_lite.encryption import generate_key
from cross_auth_lite.errors import *  # noqa: F403 - every exception (errors.__all__)
from cross_auth_lite.housekeeping.settings import HousekeepingSettings
from cross_auth_lite.moved import moved_names
from cross_auth_lite.private_files import private_output
from cross_auth_lite.sessions.page import SessionPage
from cross_auth_lite.sessions.storage import PeeweeSessionStorage
from cross_auth_lite.store.lite_store import LiteStore
from cross_auth_lite.store.opening import open_store as open
from cross_auth_lite.urls import redact_url

__version__ = "0.1.0"

__all__ = [
    "CACHE_SETTINGS",
    "CommitCallbacksMixin",
    "DiskCacheStorage",
    "HousekeepingSettings",
    "LitePostgresqlDatabase",
    "LiteSqliteDatabase",
    "LiteStore",
    "PeeweeAccountsStorage",
    "PeeweeSession",
    "PeeweeSessionStorage",
    "PeeweeSocialAccount",
    "PeeweeUser",
    "SessionPage",
    "TextDisk",
    "__version__",
    "check_password",
    "generate_key",
    "hash_password",
    "identity_indexes",
    "open",
    "private_output",
    "redact_url",
]
__all__ += errors.__all__

# Names this package exported before ``cross_auth_lite.admin`` existed keep
# working for one release, with a DeprecationWarning that says where they went.
# The wording helpers were the command line's, which now has its own.
_RECORDS = "cross_auth_lite.admin.records"
__getattr__ = moved_names(
    __name__,
    {
        **{
            name: ("cross_auth_lite.admin", f"cross_auth_lite.admin.{name}")
            for name in admin.__all__
        },
        "BCRYPT_MAX_BYTES": ("cross_auth_lite.accounts.passwords", None),
        "describe_counts": (_RECORDS, None),
        "isoformat": (_RECORDS, None),
        "plural": (_RECORDS, None),
    },
)
