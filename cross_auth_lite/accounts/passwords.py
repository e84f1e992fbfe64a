"""Password hashes that Cross-Auth's password sign-in accepts.

Cross-Auth verifies password logins with its passlib ``CryptContext``
(bcrypt). It exports no public hashing function, so this hashes with that
same context: the login then accepts what a store holds, and follows
Cross-Auth if it ever changes scheme.
"""

from __future__ import annotations

import logging

__all__ = ["BCRYPT_MAX_BYTES", "check_password", "hash_password"]

#: bcrypt ignores everything after the 72nd byte; longer passwords are refused.
BCRYPT_MAX_BYTES = 72


class _BcryptVersionProbe(logging.Filter):
    """Drops passlib's traceback about reading bcrypt's version, and nothing else.

    passlib 1.7 logs it at WARNING while probing bcrypt >= 4.1; harmless, but
    it must not reach the application's log. A filter, unlike raising the
    logger's level around each hash, leaves every other record alone and is
    safe from any thread.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("(trapped) error reading bcrypt version")


_PASSLIB_BCRYPT = logging.getLogger("passlib.handlers.bcrypt")
_PASSLIB_BCRYPT.addFilter(_BcryptVersionProbe())


def check_password(password: str) -> None:
    """The rules a password must meet: ``ValueError`` saying which one it breaks.

    Not empty, and at most ``BCRYPT_MAX_BYTES`` in UTF-8 (bcrypt would
    silently ignore the rest). ``TypeError`` for anything but a ``str``.
    """
    if type(password) is not str:
        raise TypeError(f"password must be str, not {type(password).__name__}")
    if not password:
        raise ValueError("the password is empty")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise ValueError(f"the password is longer than bcrypt's limit of {BCRYPT_MAX_BYTES} bytes")


def hash_password(password: str) -> str:
    """``password`` hashed with Cross-Auth's own password context.

    ``ValueError`` for an empty password or one longer than bcrypt's
    ``BCRYPT_MAX_BYTES``, which bcrypt would silently cut.
    """
    check_password(password)
    # Not exported by cross_auth: the context its password login verifies with.
    from cross_auth._password import pwd_context

    hashed: str = pwd_context.hash(password)
    return hashed
