"""Administration: what an administrator does to a store, for apps' own admin pages too.

``import cross_auth_lite as lite`` gives this namespace as ``lite.admin``.
Most commands of ``cross-auth-lite`` are one of these functions, parsed and
printed:

- users and sessions (``users.py``): find, list, create and delete users,
  list and revoke sessions;
- ``check_store`` (``check.py``), ``store_stats`` (``stats.py``),
  ``purge_store`` (``purge.py``), ``backup_store`` (``backup.py``);
- the export document (``export.py``, ``records.py``) and moving rows between
  stores (``transfer.py``, with ``staged_store.py`` for a store built out of
  sight);
- encryption key rotation (``key_rotation.py``), and the keys
  (``parse_keys``, ``ENCRYPTION_KEY_ENV``);
- housekeeping's record, and what a store is made of (file names, schema
  version, tables).

It may import every package of the storage core; nothing imports it but
the top level and the tools.
"""

from cross_auth_lite.admin.backup import backup_store
from cross_auth_lite.admin.check import CheckReport, check_store
from cross_auth_lite.admin.export import ExportDocument, export_store, export_to_file, read_export
from cross_auth_lite.admin.key_rotation import RotationResult, rotate_tokens
from cross_auth_lite.admin.purge import PurgeResult, purge_store
from cross_auth_lite.admin.records import TABLES as STORE_TABLES
from cross_auth_lite.admin.stats import directory_sizes, store_stats
from cross_auth_lite.admin.transfer import (
    CopyResult,
    ImportResult,
    copy_store,
    import_export,
    import_into,
    open_transfer_target,
)
from cross_auth_lite.admin.users import (
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
from cross_auth_lite.database.schema import SCHEMA_VERSION
from cross_auth_lite.encryption import ENCRYPTION_KEY_ENV, parse_keys
from cross_auth_lite.housekeeping.housekeeper import Housekeeper
from cross_auth_lite.housekeeping.lease import last_housekeeping
from cross_auth_lite.housekeeping.settings import DEFAULT_HOUSEKEEPING_INTERVAL, HousekeepingResult
from cross_auth_lite.housekeeping.steps import reclaimable_bytes
from cross_auth_lite.sessions.queries import DEFAULT_RETENTION, SESSION_STATUSES
from cross_auth_lite.store.location import CACHE_DIRNAME, DATABASE_FILENAME

__all__ = [
    "CACHE_DIRNAME",
    "DATABASE_FILENAME",
    "DEFAULT_HOUSEKEEPING_INTERVAL",
    "DEFAULT_RETENTION",
    "ENCRYPTION_KEY_ENV",
    "SCHEMA_VERSION",
    "SESSION_STATUSES",
    "STORE_TABLES",
    "CheckReport",
    "CopyResult",
    "DeletedUser",
    "ExportDocument",
    "Housekeeper",
    "HousekeepingResult",
    "IdentitySummary",
    "ImportResult",
    "PurgeResult",
    "RevokedSession",
    "RotationResult",
    "SessionSummary",
    "UserSummary",
    "backup_store",
    "check_email",
    "check_store",
    "copy_store",
    "count_sessions",
    "count_user_rows",
    "count_users",
    "create_user",
    "delete_user",
    "directory_sizes",
    "export_store",
    "export_to_file",
    "find_user",
    "import_export",
    "import_into",
    "last_housekeeping",
    "list_identities",
    "list_sessions",
    "list_users",
    "open_transfer_target",
    "parse_keys",
    "purge_store",
    "read_export",
    "reclaimable_bytes",
    "revoke_session",
    "rotate_tokens",
    "store_stats",
]
