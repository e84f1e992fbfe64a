"""Encryption key rotation: every provider token re-encrypted with a store's first key.

``cross-auth-lite rotate-key`` calls ``rotate_tokens``. Once it has run, the
older keys can be dropped from ``$CROSS_AUTH_LITE_ENCRYPTION_KEY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import peewee

from cross_auth_lite.database.sqlite import write_transaction
from cross_auth_lite.encryption import ENCRYPTION_KEY_ENV, TOKEN_FIELDS, store_cipher
from cross_auth_lite.errors import EncryptionKeyError
from cross_auth_lite.store.token_keys import record_key

if TYPE_CHECKING:
    from cross_auth_lite.store.lite_store import LiteStore

__all__ = ["RotationResult", "rotate_tokens"]

_ROTATION_BATCH = 500


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
        record_key(database, cipher)
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
