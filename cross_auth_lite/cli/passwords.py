"""Reading a password from stdin (typed twice at a terminal) for ``users create``.

Hashing is the library's (``cross_auth_lite.accounts.passwords``).
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from cross_auth_lite import check_password
from cross_auth_lite.cli.errors import CliError

__all__ = ["read_password"]


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
    try:
        check_password(password)  # the library's rules, which hashing applies too
    except ValueError as error:
        raise CliError(str(error)) from None
    return password
