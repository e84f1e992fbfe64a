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

Everything importable from here is public; every exception the library
raises derives from ``LiteError``.
"""

from cross_auth_lite import errors
from cross_auth_lite.accounts import PeeweeAccountsStorage
from cross_auth_lite.admin import (
    DeletedUser,
    IdentitySummary,
    RevokedSession,
    SessionSummary,
    UserSummary,
    check_email,
    count_sessions,
    count_user_rows,
    count_users,
    create_user,
    delete_user,
    find_user,
    list_identities,
    list_sessions,
    list_users,
    revoke_session,
)
from cross_auth_lite.backup import backup_store
from cross_auth_lite.check import CheckReport, check_store
from cross_auth_lite.database import CommitCallbacksMixin, LiteSqliteDatabase
from cross_auth_lite.encryption import ENCRYPTION_KEY_ENV, generate_key, parse_keys
from cross_auth_lite.errors import *  # noqa: F403 - every exception (errors.__all__)
from cross_auth_lite.export import ExportDocument, export_store, export_to_file, read_export
from cross_auth_lite.housekeeping import (
    DEFAULT_HOUSEKEEPING_INTERVAL,
    Housekeeper,
    HousekeepingResult,
    HousekeepingSettings,
    last_housekeeping,
    reclaimable_bytes,
)
from cross_auth_lite.maintenance import DEFAULT_RETENTION, PurgeResult, purge_store
from cross_auth_lite.models import PeeweeSession, PeeweeSocialAccount, PeeweeUser
from cross_auth_lite.passwords import BCRYPT_MAX_BYTES, check_password, hash_password
from cross_auth_lite.postgres import LitePostgresqlDatabase
from cross_auth_lite.private_files import private_output
from cross_auth_lite.records import TABLES as STORE_TABLES
from cross_auth_lite.records import describe_counts, isoformat, plural
from cross_auth_lite.schema import SCHEMA_VERSION
from cross_auth_lite.secondary import CACHE_SETTINGS, DiskCacheStorage, TextDisk
from cross_auth_lite.session_queries import SESSION_STATUSES
from cross_auth_lite.sessions import PeeweeSessionStorage
from cross_auth_lite.stats import directory_sizes, store_stats
from cross_auth_lite.store import CACHE_DIRNAME, DATABASE_FILENAME, LiteStore
from cross_auth_lite.store import open_store as open
from cross_auth_lite.token_keys import RotationResult, rotate_tokens
from cross_auth_lite.transfer import (
    CopyResult,
    ImportResult,
    copy_store,
    import_export,
    import_into,
    open_transfer_target,
)
from cross_auth_lite.urls import redact_url

__version__ = "0.1.0"

__all__ = [
    "BCRYPT_MAX_BYTES",
    "CACHE_DIRNAME",
    "CACHE_SETTINGS",
    "DATABASE_FILENAME",
    "DEFAULT_HOUSEKEEPING_INTERVAL",
    "DEFAULT_RETENTION",
    "ENCRYPTION_KEY_ENV",
    "SCHEMA_VERSION",
    "SESSION_STATUSES",
    "STORE_TABLES",
    "CheckReport",
    "CommitCallbacksMixin",
    "CopyResult",
    "DeletedUser",
    "IdentitySummary",
    "ImportResult",
    "DiskCacheStorage",
    "ExportDocument",
    "Housekeeper",
    "HousekeepingResult",
    "HousekeepingSettings",
    "LitePostgresqlDatabase",
    "LiteSqliteDatabase",
    "LiteStore",
    "PeeweeAccountsStorage",
    "PeeweeSession",
    "PeeweeSessionStorage",
    "PeeweeSocialAccount",
    "PeeweeUser",
    "PurgeResult",
    "RevokedSession",
    "RotationResult",
    "SessionSummary",
    "TextDisk",
    "UserSummary",
    "__version__",
    "backup_store",
    "check_email",
    "check_store",
    "count_sessions",
    "count_user_rows",
    "count_users",
    "create_user",
    "delete_user",
    "copy_store",
    "describe_counts",
    "directory_sizes",
    "export_store",
    "export_to_file",
    "find_user",
    "generate_key",
    "check_password",
    "hash_password",
    "import_export",
    "import_into",
    "isoformat",
    "last_housekeeping",
    "list_identities",
    "list_sessions",
    "list_users",
    "open",
    "open_transfer_target",
    "parse_keys",
    "plural",
    "private_output",
    "purge_store",
    "read_export",
    "reclaimable_bytes",
    "redact_url",
    "revoke_session",
    "rotate_tokens",
    "store_stats",
]
__all__ += errors.__all__
