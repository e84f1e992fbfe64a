"""Provider tokens encrypted at rest: keys, the cipher, the encrypted column.

``lite.open(path, encryption_key=...)`` (or ``$CROSS_AUTH_LITE_ENCRYPTION_KEY``)
encrypts the ``access_token`` and ``refresh_token`` of every social account
before they reach the database, and decrypts them on the way back: the
storages and Cross-Auth only ever see plaintext, the file only ciphertext.
Session tokens are unaffected: the store keeps nothing but their hashes.

Keys are Fernet keys (``generate_key()``, or ``cross-auth-lite generate-key``):
AES-128-CBC with an HMAC-SHA256 tag, from the ``cryptography`` package
(``pip install 'cross-auth-lite[encryption]'``), imported only when a key is
given. Several keys may be given: the first encrypts, every one decrypts. To
rotate, run with ``NEW,OLD``, re-encrypt with
``lite.admin.rotate_tokens(store)`` (or ``cross-auth-lite rotate-key``), then
drop ``OLD``.

A stored encrypted value is ``fernet:v1:<Fernet token>``; anything else is a
plaintext token written before encryption was turned on, read back as it is
until ``rotate_tokens`` encrypts it. The first opening with a key records in
``lite_meta`` that the store's tokens are encrypted, together with a value
encrypted under the key: from then on, opening the store without a key, or
with keys that do not include the current one, fails at once with
``EncryptionKeyError`` instead of writing tokens nobody can read, or in
plaintext.

What this protects: the SQLite file, its WAL, backups and exports of the
raw file. It does not bind a ciphertext to its row, so someone able to
*write* the file can still swap tokens between rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import peewee

from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.errors import (
    EncryptionError,
    EncryptionKeyError,
    EncryptionUnavailableError,
)

__all__ = [
    "ENCRYPTION_KEY_ENV",
    "PREFIX",
    "TOKEN_FIELDS",
    "EncryptedTextField",
    "EncryptionError",
    "EncryptionKey",
    "EncryptionKeyError",
    "EncryptionUnavailableError",
    "TokenCipher",
    "encrypt_token_fields",
    "generate_key",
    "parse_keys",
    "store_cipher",
    "token_cipher",
]

#: Environment variable holding the key (or comma-separated keys, newest first)
#: used when ``lite.open()`` is given no ``encryption_key``.
ENCRYPTION_KEY_ENV = "CROSS_AUTH_LITE_ENCRYPTION_KEY"
#: How an encrypted value starts in the database (scheme and format version).
PREFIX = "fernet:v1:"
#: The social-account columns a store encrypts.
TOKEN_FIELDS = ("access_token", "refresh_token")

#: What ``encryption_key=`` accepts: one key (a ``str`` may list several,
#: comma-separated), or a sequence of keys, the one that encrypts first.
EncryptionKey = str | bytes | Sequence[str | bytes]

_INSTALL_HINT = "pip install 'cross-auth-lite[encryption]'"


def _fernet() -> Any:
    try:
        from cryptography import fernet
    except ImportError as error:
        raise EncryptionUnavailableError(
            f"encrypting provider tokens needs the 'cryptography' package: {_INSTALL_HINT}"
        ) from error
    return fernet


def generate_key() -> str:
    """A new random Fernet key (44 url-safe base64 characters)."""
    key: bytes = _fernet().Fernet.generate_key()
    return key.decode("ascii")


def parse_keys(value: EncryptionKey) -> list[str | bytes]:
    """The keys in ``value``: a ``str`` is split at commas, blanks around keys are dropped."""
    if isinstance(value, str):
        keys: list[str | bytes] = [part.strip() for part in value.split(",")]
        return [key for key in keys if key]
    if isinstance(value, bytes | bytearray):
        return [bytes(value).strip()]
    if isinstance(value, Sequence):
        items = list(value)
        for item in items:
            if not isinstance(item, str | bytes | bytearray):
                raise TypeError(f"encryption keys must be str or bytes, not {type(item).__name__}")
        return [item.strip() if isinstance(item, str) else bytes(item).strip() for item in items]
    raise TypeError(
        f"encryption_key must be a str, bytes or a sequence of them, not {type(value).__name__}"
    )


class TokenCipher:
    """Encrypts text with the first of its keys; decrypts with any of them.

    ``TokenCipher([new, old])``. Raises ``EncryptionKeyError`` for a
    malformed key, and ``EncryptionUnavailableError`` without ``cryptography``.
    """

    def __init__(self, keys: EncryptionKey) -> None:
        fernet = _fernet()
        parsed = parse_keys(keys)
        if not parsed:
            raise EncryptionKeyError("no encryption key given")
        ciphers = []
        for number, key in enumerate(parsed, start=1):
            try:
                ciphers.append(fernet.Fernet(key))
            except (ValueError, TypeError):
                which = "the encryption key" if len(parsed) == 1 else f"encryption key {number}"
                # Never echo the key: it may be a real one with a typo.
                raise EncryptionKeyError(
                    f"{which} is not a Fernet key (32 url-safe base64-encoded bytes, "
                    "44 characters); make one with 'cross-auth-lite generate-key'"
                ) from None
        self._invalid_token: type[Exception] = fernet.InvalidToken
        self._primary = ciphers[0]
        self._all = fernet.MultiFernet(ciphers)
        self._count = len(ciphers)

    @property
    def key_count(self) -> int:
        """How many keys decrypt (the first of them encrypts)."""
        return self._count

    def encrypt(self, text: str) -> str:
        """``text`` encrypted with the first key, as stored: ``fernet:v1:<token>``."""
        token: bytes = self._all.encrypt(text.encode("utf-8"))
        return PREFIX + token.decode("ascii")

    def decrypt(self, stored: str, *, what: str = "a stored provider token") -> str:
        """The plaintext of ``stored``; a value without the prefix is returned as it is.

        ``EncryptionKeyError`` when no key decrypts it: ciphertext is never
        returned in place of a token.
        """
        if not stored.startswith(PREFIX):
            return stored
        try:
            plain: bytes = self._all.decrypt(stored[len(PREFIX) :].encode("ascii"))
        except (self._invalid_token, UnicodeEncodeError):
            raise _mismatch(what) from None
        return plain.decode("utf-8")

    def reencrypt(self, stored: str, *, what: str = "a stored provider token") -> str | None:
        """``stored`` encrypted with the first key, or ``None`` when it already is.

        Plaintext is encrypted; a value under another key is decrypted and
        encrypted again. ``EncryptionKeyError`` when no key decrypts it.
        """
        if not stored.startswith(PREFIX):
            return self.encrypt(stored)
        try:
            token = stored[len(PREFIX) :].encode("ascii")
        except UnicodeEncodeError:
            raise _mismatch(what) from None
        try:
            self._primary.decrypt(token)
            return None
        except self._invalid_token:
            pass
        try:
            rotated: bytes = self._all.rotate(token)
        except self._invalid_token:
            raise _mismatch(what) from None
        return PREFIX + rotated.decode("ascii")

    def __repr__(self) -> str:
        return f"<TokenCipher {self._count} key{'s' if self._count != 1 else ''}>"


def _mismatch(what: str) -> EncryptionKeyError:
    return EncryptionKeyError(
        f"cannot decrypt {what}: the encryption key does not match the one it was "
        "encrypted with (after a key change, give the new key first and the old one "
        "after it until 'cross-auth-lite rotate-key' has run)"
    )


def token_cipher(encryption_key: EncryptionKey | None = None) -> TokenCipher | None:
    """The cipher for ``encryption_key``, or else for ``$CROSS_AUTH_LITE_ENCRYPTION_KEY``.

    ``None`` when neither gives a key (an empty variable counts as unset).
    """
    if encryption_key is None:
        value = os.environ.get(ENCRYPTION_KEY_ENV, "")
        if not parse_keys(value):
            return None
        try:
            return TokenCipher(value)
        except EncryptionKeyError as error:
            raise EncryptionKeyError(f"${ENCRYPTION_KEY_ENV}: {error}") from None
    return TokenCipher(encryption_key)


class EncryptedTextField(peewee.Field):
    """A text column whose values are encrypted with ``cipher`` on the way in.

    ``python_value`` decrypts; a legacy plaintext value (no ``fernet:v1:``
    prefix) reads back as it is. Without a cipher, values are written as
    plaintext and reading an encrypted one raises ``EncryptionKeyError``.
    Encryption is randomised: comparing the column with a value never matches.

    ``locked`` (a store of encrypted tokens opened without its key) refuses
    every token, read or written, with ``EncryptionKeyError``: nothing
    plaintext is written next to ciphertext, and nothing is read that
    could not be decrypted.

    Deliberately not a ``TextField`` subclass: code that skips the
    conversion of plain text columns (``statements.py``) must not skip this one.
    """

    field_type = "TEXT"

    def __init__(
        self, *args: Any, cipher: TokenCipher | None = None, locked: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cipher = cipher
        self.locked = locked

    def _locked(self) -> EncryptionKeyError:
        problem = (
            f"{self._what()} holds encrypted provider tokens and the store was opened without "
            "its encryption key"
        )
        return EncryptionKeyError(
            f"{problem}: give the key (encryption_key=, or ${ENCRYPTION_KEY_ENV})", problem
        )

    def _what(self) -> str:
        model = getattr(self, "model", None)
        table = getattr(getattr(model, "_meta", None), "table_name", None)
        return f"{table}.{self.name}" if table else f"the {self.name} column"

    def db_value(self, value: Any) -> Any:
        if value is None or isinstance(value, peewee.Node):
            return value
        if self.locked:
            raise self._locked()
        if isinstance(value, bytes | bytearray):
            value = bytes(value).decode("utf-8")
        elif not isinstance(value, str):
            value = str(value)
        if value.startswith(PREFIX):
            # Stored values are encrypted exactly when they carry the prefix.
            raise ValueError(f"a value for {self._what()} may not start with {PREFIX!r}")
        return value if self.cipher is None else self.cipher.encrypt(value)

    def python_value(self, value: Any) -> Any:
        # The usual value first (row readers call this for every token read):
        # plaintext of an unlocked column, returned as it is.
        if type(value) is str and not value.startswith(PREFIX) and not self.locked:
            return value
        if self.locked and value is not None:
            raise self._locked()
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        if self.cipher is None:
            problem = (
                f"{self._what()} holds an encrypted token and the store was opened without "
                "an encryption key"
            )
            raise EncryptionKeyError(
                f"{problem}: pass encryption_key to lite.open() or set ${ENCRYPTION_KEY_ENV}",
                problem,
            )
        return self.cipher.decrypt(value, what=self._what())


def encrypt_token_fields(
    model: type[peewee.Model],
    cipher: TokenCipher | None,
    names: Sequence[str] = TOKEN_FIELDS,
    *,
    locked: bool = False,
) -> None:
    """Make the ``names`` columns of ``model`` ``EncryptedTextField``s using ``cipher``.

    Each keeps its column name, options and position. Call it on a freshly
    declared model, before the first query (``build_models`` does).
    """
    meta: Any = model._meta
    for name in names:
        old = meta.fields[name]
        new: Any = EncryptedTextField(
            null=old.null,
            index=old.index,
            unique=old.unique,
            column_name=old.column_name,
            default=old.default,
            constraints=old.constraints,
            help_text=old.help_text,
            cipher=cipher,
            locked=locked,
        )
        # Same place in CREATE TABLE and in exports as the field it replaces.
        peewee_internals.copy_field_position(old, new)
        meta.add_field(name, new)


def store_cipher(model: type[peewee.Model]) -> TokenCipher | None:
    """The cipher the token columns of ``model`` use, ``None`` if they are not encrypted."""
    meta: Any = model._meta
    field = meta.fields.get(TOKEN_FIELDS[0])
    return field.cipher if isinstance(field, EncryptedTextField) else None
