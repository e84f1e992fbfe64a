"""Reading a password from stdin and hashing it the way Cross-Auth checks it.

Cross-Auth verifies password logins with its passlib ``CryptContext``
(bcrypt); hashing with that same context guarantees the login accepts what
the CLI stores, and follows Cross-Auth if it ever changes scheme.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from cross_auth_lite.cli.common import CliError

__all__ = ["BCRYPT_MAX_BYTES", "hash_password", "read_password"]

#: bcrypt ignores everything after the 72nd byte; longer passwords are refused.
BCRYPT_MAX_BYTES = 72


def read_password(stream: TextIO | None = None) -> str:
    """The password given on ``stream`` (stdin by default).

    From a pipe or file: everything read, less one trailing newline. From a
    terminal: typed twice without echo. Empty, mismatched, or overlong
    passwords are a ``CliError``.
    """
    stream = sys.stdin if stream is None else stream
    if stream is None:
        raise CliError("--password-stdin needs a standard input")
    if stream.isatty():
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Repeat password: ")
        except EOFError:
            raise CliError("no password given") from None
        if again != password:
            raise CliError("the passwords do not match")
    else:
        try:
            password = stream.read()
        except UnicodeDecodeError:
            raise CliError("the password on stdin is not valid text") from None
        password = password.removesuffix("\n").removesuffix("\r")
    if not password:
        raise CliError("the password is empty")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise CliError(f"the password is longer than bcrypt's limit of {BCRYPT_MAX_BYTES} bytes")
    return password


@contextlib.contextmanager
def _quiet_passlib() -> Iterator[None]:
    # passlib 1.7 logs a traceback at WARNING while probing bcrypt >= 4.1 for
    # its version; harmless, but it must not reach the terminal.
    logger = logging.getLogger("passlib")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def hash_password(password: str) -> str:
    """``password`` hashed with Cross-Auth's own password context."""
    from cross_auth._password import pwd_context  # the context login verifies with

    with _quiet_passlib():
        hashed: str = pwd_context.hash(password)
    return hashed
