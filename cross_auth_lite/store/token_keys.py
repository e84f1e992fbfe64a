"""A store's token key, recorded when the store is opened.

``ensure_token_encryption`` runs as ``lite.open()`` finishes: the first
opening with a key records in ``lite_meta`` that the tokens are encrypted,
with a check value encrypted under that key; later openings must bring a key
that decrypts it. ``cross_auth_lite.admin.key_rotation`` re-encrypts every
stored token with the first key and records it again here (``record_key``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import peewee

from cross_auth_lite.database.schema import LiteMeta, describe_database, read_meta
from cross_auth_lite.database.sqlite import write_transaction
from cross_auth_lite.encryption import (
    ENCRYPTION_KEY_ENV,
    EncryptionError,
    EncryptionKeyError,
    TokenCipher,
)

if TYPE_CHECKING:
    pass

__all__ = ["ensure_token_encryption", "record_key", "tokens_encrypted"]

# What lite_meta records about the key.
_META_SCHEME = "token_encryption"
_META_CHECK = "token_key_check"
_SCHEME = "fernet-v1"
_CHECK_TEXT = "cross-auth-lite token key check"
_ROTATION_BATCH = 500


def tokens_encrypted(meta: Mapping[str, str]) -> bool:
    """Whether a store whose ``lite_meta`` is ``meta`` keeps its provider tokens encrypted."""
    return _META_SCHEME in meta


def ensure_token_encryption(database: peewee.Database, cipher: TokenCipher | None) -> None:
    """Check the key against what ``lite_meta`` records, recording it the first time.

    Without a cipher, a store whose tokens are encrypted is refused; with one,
    a store recorded under a key the cipher lacks. The first opening with a
    key records the scheme and a value encrypted with the key.
    """
    meta = read_meta(database)
    if cipher is None:
        if _META_SCHEME in meta:
            problem = f"{describe_database(database)} holds encrypted provider tokens"
            raise EncryptionKeyError(
                f"{problem}: pass encryption_key to lite.open() or set ${ENCRYPTION_KEY_ENV}",
                problem,
            )
        return
    if _META_SCHEME not in meta:
        with write_transaction(database):
            meta = read_meta(database)  # another process may have just recorded one
            if _META_SCHEME not in meta:
                record_key(database, cipher)
                return
    _check_recorded_key(database, cipher, meta)


def record_key(db: peewee.Database, cipher: TokenCipher) -> None:
    """Record in ``lite_meta`` that tokens are encrypted, and a check value under the first key.

    Runs in the caller's write transaction. Statements are executed on
    ``database`` directly rather than through a binding of the shared
    ``LiteMeta`` model, so concurrent stores cannot cross.
    """
    database: Any = db
    for key, value in ((_META_SCHEME, _SCHEME), (_META_CHECK, cipher.encrypt(_CHECK_TEXT))):
        updated = database.execute(LiteMeta.update(value=value).where(LiteMeta.key == key))
        if not updated.rowcount:
            database.execute(LiteMeta.insert(key=key, value=value))


def _check_recorded_key(
    database: peewee.Database, cipher: TokenCipher, meta: Mapping[str, str]
) -> None:
    scheme = meta[_META_SCHEME]
    if scheme != _SCHEME:
        raise EncryptionError(
            f"{describe_database(database)} encrypts tokens with {scheme!r}, which this "
            "cross-auth-lite does not know; upgrade cross-auth-lite to open it"
        )
    try:
        ok = cipher.decrypt(meta.get(_META_CHECK, ""), what="the key check") == _CHECK_TEXT
    except EncryptionKeyError:
        ok = False
    if not ok:
        raise EncryptionKeyError(
            f"the encryption key does not match {describe_database(database)}: its tokens are "
            "encrypted with a key not given (after a key change, give the new key first and "
            "the old one after it until 'cross-auth-lite rotate-key' has run)"
        )
