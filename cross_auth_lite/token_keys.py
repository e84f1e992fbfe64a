"""A store's token key: recorded when the store is opened, rotated on demand.

``ensure_token_encryption`` runs as ``lite.open()`` finishes: the first
opening with a key records in ``lite_meta`` that the tokens are encrypted,
with a check value encrypted under that key; later openings must bring a key
that decrypts it. ``rotate_tokens`` re-encrypts every stored token with the
first key (``cross-auth-lite rotate-key``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import peewee

from cross_auth_lite.database import write_transaction
from cross_auth_lite.encryption import (
    ENCRYPTION_KEY_ENV,
    TOKEN_FIELDS,
    EncryptionError,
    EncryptionKeyError,
    TokenCipher,
    store_cipher,
)
from cross_auth_lite.schema import LiteMeta, describe_database, read_meta

if TYPE_CHECKING:
    from cross_auth_lite.store import LiteStore

__all__ = ["RotationResult", "ensure_token_encryption", "rotate_tokens", "tokens_encrypted"]

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
                _record_key(database, cipher)
                return
    _check_recorded_key(database, cipher, meta)


def _record_key(db: peewee.Database, cipher: TokenCipher) -> None:
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


@dataclass(frozen=True)
class RotationResult:
    """What ``rotate_tokens`` did."""

    #: Social accounts holding at least one token.
    social_accounts: int
    #: Of those, the ones rewritten: they held plaintext or a token under an older key.
    reencrypted: int
    #: Whether the SQLite file was then compacted and its WAL emptied, so that
    #: no copy of the old values is left in free pages or the WAL: ``None`` when
    #: not attempted (not asked, not SQLite, or inside a transaction), ``False``
    #: when another connection prevented it.
    compacted: bool | None


def rotate_tokens(store: LiteStore, *, compact: bool = True) -> RotationResult:
    """Encrypt every provider token of ``store`` with its first key, in one transaction.

    Plaintext tokens (written before encryption was turned on) and tokens
    under older keys are rewritten; once it returns, the older keys can be
    dropped. Raises ``EncryptionKeyError`` (changing nothing) for a store
    opened without a key, or a token no key decrypts.

    With ``compact`` (the default), a SQLite store is then vacuumed and its
    WAL checkpointed and truncated, so the old values do not survive in free
    pages. That waits for other writers; it is skipped inside an open
    transaction. (On PostgreSQL, old row versions last until ``VACUUM``.)
    """
    model: Any = store.models.SocialAccount
    cipher = store_cipher(model)
    if cipher is None:
        problem = "the store was opened without an encryption key"
        raise EncryptionKeyError(
            f"{problem}: pass encryption_key to lite.open() or set ${ENCRYPTION_KEY_ENV} to "
            "rotate its tokens",
            problem,
        )
    database: Any = store.database
    pk = model._meta.primary_key
    fields = [model._meta.fields[name] for name in TOKEN_FIELDS]
    holds_token = fields[0].is_null(False) | fields[1].is_null(False)
    accounts = rewritten = 0
    with write_transaction(database):
        last: Any = None
        while True:
            query = model.select(pk, *fields).where(holds_token)
            if last is not None:
                query = query.where(pk > last)
            # Executed directly: the raw stored values, not decrypted ones.
            rows = database.execute(query.order_by(pk).limit(_ROTATION_BATCH)).fetchall()
            if not rows:
                break
            for row in rows:
                last = row[0]
                accounts += 1
                changes = {}
                for field, stored in zip(fields, row[1:], strict=True):
                    if stored is None:
                        continue
                    what = f"{model._meta.table_name}.{field.name} of row {last!r}"
                    new = cipher.reencrypt(stored, what=what)
                    if new is not None:
                        changes[field] = peewee.Value(new, converter=False)
                if changes:
                    model.update(changes).where(pk == last).execute()
                    rewritten += 1
        _record_key(database, cipher)
    compacted = _compact(database) if compact else None
    return RotationResult(social_accounts=accounts, reencrypted=rewritten, compacted=compacted)


def _compact(db: peewee.Database) -> bool | None:
    """VACUUM a SQLite database and empty its WAL; ``False`` if that could not be done."""
    if not isinstance(db, peewee.SqliteDatabase) or db.transaction_depth() > 0:
        return None
    database: Any = db
    try:
        database.execute_sql("VACUUM")
        busy, _log, _done = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except (peewee.DatabaseError, OSError):
        return False  # locked by a long reader, say: the rotation itself is committed
    return not busy
