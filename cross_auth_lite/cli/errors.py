"""How the command reports a failure: one line on stderr, never a traceback.

``report`` writes ``cross-auth-lite: error: ...``; ``describe`` words an
unexpected exception in one line (a driver's error as a database error, an
``OSError`` with its file; a damaged file comes named by the library, as a
``StoreUnavailableError``). Set ``CROSS_AUTH_LITE_DEBUG=1`` to see the
traceback of an unexpected error instead.
"""

from __future__ import annotations

import sys

from cross_auth.exceptions import CrossAuthException

import cross_auth_lite as lite

__all__ = [
    "DEBUG_ENV",
    "PROG",
    "CliError",
    "UsageError",
    "describe",
    "error_message",
    "one_line",
    "report",
]

PROG = "cross-auth-lite"
#: Environment variable that makes unexpected errors raise with their traceback.
DEBUG_ENV = "CROSS_AUTH_LITE_DEBUG"


class CliError(Exception):
    """A failure the CLI reports as one line on stderr, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(Exception):
    """The command line does not parse."""


def one_line(text: str) -> str:
    """``text`` on one line, never empty; undecodable characters escaped."""
    # Arguments the OS could not decode arrive as lone surrogates; show them escaped.
    line = " ".join(text.split()) or "failed"
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


def report(message: str) -> None:
    """Write ``message`` to stderr as the command's one error line."""
    try:
        sys.stderr.write(f"{PROG}: error: {one_line(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # nowhere left to say it


#: Modules whose errors are a database's (named by module: the CLI imports no driver).
_DRIVERS = frozenset({"peewee", "sqlite3", "psycopg", "psycopg2", "redis", "diskcache"})


def describe(error: BaseException) -> str:
    """A one-line account of an unexpected exception."""
    if isinstance(error, lite.LiteError):
        return error_message(error)
    if isinstance(error, ValueError):  # bad values
        return str(error)
    if type(error).__module__.partition(".")[0] in _DRIVERS and "Error" in type(error).__name__:
        hint = ""
        if "locked" in str(error):
            hint = "; another process is writing to the store, try again"
        return f"database error: {error}{hint}"
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or error}{where}"
    if isinstance(error, CrossAuthException):
        return f"{error.error}: {error.error_description or ''}"
    return f"unexpected {type(error).__name__}: {error} (set {DEBUG_ENV}=1 for a traceback)"


def error_message(error: lite.LiteError) -> str:
    """``error``'s message, with the command line's advice where the library's is Python's."""
    if isinstance(error, lite.EncryptionKeyError) and error.problem is not None:
        return f"{error.problem}: set ${lite.admin.ENCRYPTION_KEY_ENV} to the store's key"
    return str(error)
