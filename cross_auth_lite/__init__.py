"""cross-auth-lite: all the storage Cross-Auth needs, with no server.

SQLite through peewee for users, social accounts and sessions; diskcache for
short-lived OAuth state and codes. One directory, one call::

    import cross_auth_lite as lite
    from cross_auth.fastapi import CrossAuth

    store = lite.open("var/auth")
    auth = CrossAuth(providers=[...], **store.cross_auth_kwargs())

Everything importable from here is public; every exception the library
raises derives from ``LiteError``.
"""

from cross_auth_lite.accounts import PeeweeAccountsStorage
from cross_auth_lite.backup import backup_store
from cross_auth_lite.database import CommitCallbacksMixin, LiteSqliteDatabase
from cross_auth_lite.encryption import generate_key
from cross_auth_lite.errors import (
    AmbiguousSocialAccountError,
    ConnectionFailedError,
    EncryptionError,
    EncryptionKeyError,
    EncryptionUnavailableError,
    ExportFileError,
    ExportFormatError,
    LiteError,
    MissingExtraError,
    SchemaError,
    SocialAccountNotFoundError,
    StoreClosedError,
    StoreExistsError,
    StoreLocationError,
    StoreNotFoundError,
    StoreUnavailableError,
    TargetNotEmptyError,
    TransferRefusedError,
    UnknownUserError,
    UnsafeCacheValue,
    UnsupportedURLError,
)
from cross_auth_lite.export import ExportDocument, export_store, export_to_file, read_export
from cross_auth_lite.models import PeeweeSession, PeeweeSocialAccount, PeeweeUser
from cross_auth_lite.postgres import LitePostgresqlDatabase
from cross_auth_lite.secondary import CACHE_SETTINGS, DiskCacheStorage, TextDisk
from cross_auth_lite.sessions import PeeweeSessionStorage
from cross_auth_lite.store import LiteStore
from cross_auth_lite.store import open_store as open
from cross_auth_lite.token_keys import RotationResult, rotate_tokens
from cross_auth_lite.transfer import CopyResult, copy_store, import_export, open_transfer_target

__version__ = "0.1.0"

__all__ = [
    "CACHE_SETTINGS",
    "AmbiguousSocialAccountError",
    "CommitCallbacksMixin",
    "ConnectionFailedError",
    "CopyResult",
    "DiskCacheStorage",
    "EncryptionError",
    "EncryptionKeyError",
    "EncryptionUnavailableError",
    "ExportDocument",
    "ExportFileError",
    "ExportFormatError",
    "LiteError",
    "LitePostgresqlDatabase",
    "LiteSqliteDatabase",
    "LiteStore",
    "MissingExtraError",
    "PeeweeAccountsStorage",
    "PeeweeSession",
    "PeeweeSessionStorage",
    "PeeweeSocialAccount",
    "PeeweeUser",
    "RotationResult",
    "SchemaError",
    "SocialAccountNotFoundError",
    "StoreClosedError",
    "StoreExistsError",
    "StoreLocationError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "TargetNotEmptyError",
    "TextDisk",
    "TransferRefusedError",
    "UnknownUserError",
    "UnsafeCacheValue",
    "UnsupportedURLError",
    "__version__",
    "backup_store",
    "copy_store",
    "export_store",
    "export_to_file",
    "generate_key",
    "import_export",
    "open",
    "open_transfer_target",
    "read_export",
    "rotate_tokens",
]
