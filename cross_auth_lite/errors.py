"""Every exception cross-auth-lite raises, under one root: ``LiteError``.

``except cross_auth_lite.LiteError`` catches anything the library itself
reports. Each exception also keeps the conventional base its kind of failure
has (``ValueError`` for things that cannot be used as given, ``OSError`` for
conditions outside the program, ``ImportError`` for a missing extra), so
``except ValueError`` clauses written before the root existed still work.

Arguments of the wrong type or value are plain ``TypeError`` /
``ValueError``, as everywhere in Python. Ownership conflicts are Cross-Auth's
documented ``CrossAuthException("account_already_linked")``, which its
routers turn into HTTP 409s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cross_auth.exceptions import CrossAuthException

from cross_auth_lite.urls import MASK, is_url_like, redact_url

__all__ = [
    "AmbiguousSocialAccountError",
    "ConnectionFailedError",
    "ConnectionModeError",
    "EncryptionError",
    "EncryptionKeyError",
    "EncryptionUnavailableError",
    "ExportFileError",
    "ExportFormatError",
    "LiteError",
    "MalformedURLError",
    "MissingExtraError",
    "SchemaError",
    "SocialAccountNotFoundError",
    "StoreClosedError",
    "StoreExistsError",
    "StoreLocationError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "TargetNotEmptyError",
    "TransferRefusedError",
    "UnknownSessionError",
    "UnknownUserError",
    "UnsafeCacheValue",
    "UnsupportedURLError",
]


class LiteError(Exception):
    """The root of every exception cross-auth-lite raises."""


# Opening a store


class StoreLocationError(LiteError, ValueError):
    """The store's directory or one of its files cannot be used (not a directory, not SQLite)."""


class StoreNotFoundError(StoreLocationError):
    """``lite.open(path, create=False)``: there is no store at ``path``.

    ``path`` is the directory looked in (``None`` when the store was looked
    for in a database); ``occupied`` is true when something else is there,
    a file or a directory holding other files, where no store can be
    created either.
    """

    def __init__(self, message: str, path: Path | None = None, occupied: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.occupied = occupied

    def __reduce__(self) -> tuple[type[StoreNotFoundError], tuple[str, Path | None, bool]]:
        return type(self), (str(self), self.path, self.occupied)


class StoreExistsError(StoreLocationError):
    """A directory that should be new or empty already holds something."""


class SchemaError(LiteError, ValueError):
    """The store on disk does not match what this process expects.

    A newer schema than this version understands, the other connection mode
    than the one asked for (``ConnectionModeError``), or tables of the same
    names that cross-auth-lite did not create.
    """


class ConnectionModeError(SchemaError):
    """The store was created with the other ``shared_connections`` than the one asked for.

    ``location`` names the store (a PostgreSQL URL without its password),
    ``shared_connections`` is what it was created with; the choice is fixed
    at creation. The message is ``"{location} was created with shared
    connections; open it with shared_connections=True"`` (or exclusive,
    ``False``).
    """

    def __init__(self, location: str, shared_connections: bool) -> None:
        self.location = location
        self.shared_connections = shared_connections
        mode = "shared" if shared_connections else "exclusive"
        super().__init__(
            f"{location} was created with {mode} connections; open it with "
            f"shared_connections={shared_connections}"
        )

    def __reduce__(self) -> tuple[type[ConnectionModeError], tuple[str, bool]]:
        return type(self), (self.location, self.shared_connections)


class UnsupportedURLError(LiteError, ValueError):
    """A ``database_url`` or ``secondary_url`` of a kind cross-auth-lite cannot use.

    ``parameter`` is the argument it was given as (``"database_url"``),
    ``url`` the URL with its password shown as ``***``, ``advice`` what to
    give instead; the message is ``"{parameter} {url!r} {problem}:
    {advice}"``, ``problem`` being ``"is not supported"``. A value that is
    not shaped like a URL at all (``"secret"``: perhaps a password typed in
    the wrong place) is never shown: ``hidden`` is true, ``url`` is
    ``"***"`` and the message says ``"{parameter} is not a URL (...)"``. A
    tool that takes the URL under another name (a command line's option)
    says it with that name: ``message_for(name)``.
    """

    #: What is wrong with the URL, as the message says it.
    problem = "is not supported"

    def __init__(self, parameter: str, url: str, advice: str) -> None:
        self.parameter = parameter
        self.hidden = not is_url_like(url)
        self.url = MASK if self.hidden else redact_url(url)
        self.advice = advice
        super().__init__(self.message_for(parameter))

    def message_for(self, name: str, advice: str | None = None) -> str:
        """The message, naming the URL ``name`` (``"--database-url"``), with ``advice``."""
        advice = self.advice if advice is None else advice
        if self.hidden:
            return (
                f"{name} is not a URL (its value is not shown, in case it is a password): {advice}"
            )
        return f"{name} {self.url!r} {self.problem}: {advice}"

    def __reduce__(self) -> tuple[type[UnsupportedURLError], tuple[str, str, str]]:
        return type(self), (self.parameter, self.url, self.advice)


class MalformedURLError(UnsupportedURLError):
    """A URL of a supported kind that its driver cannot read: a port that is no number, ...

    Refused before the driver sees it, whose errors would quote it, password
    included. ``problem`` is ``"is malformed"``, ``advice`` says what is wrong
    and how to write it: ``"database_url 'postgresql://ada:***@[::1' is
    malformed: an IPv6 address in it has no closing ']'"``.
    """

    problem = "is malformed"


class ConnectionFailedError(LiteError, ValueError):
    """The PostgreSQL or Redis server named by a URL cannot be reached or used."""


class MissingExtraError(LiteError, ImportError):
    """A feature needs an optional dependency that is not installed; says which extra."""


class StoreClosedError(LiteError, RuntimeError):
    """The store was closed; open it again to use it."""


class StoreUnavailableError(LiteError, OSError):
    """A store file cannot be used right now: locked, read-only, full, failing or damaged.

    The message names the file and the cause. The operation changed
    nothing; once the cause is gone the same store works again. ``damaged``
    is True for a file SQLite finds damaged: that cause goes only when the
    store is restored from a backup.
    """

    def __init__(self, path: str, reason: str, *, damaged: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.damaged = damaged

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_unavailable, (type(self), self.path, self.reason, self.damaged)


def _rebuild_unavailable(
    cls: type[StoreUnavailableError], path: str, reason: str, damaged: bool
) -> StoreUnavailableError:
    return cls(path, reason, damaged=damaged)


#: SQLite's messages for conditions outside the program, and how to say them.
_UNAVAILABLE = {
    "database is locked": "locked by another process; gave up waiting",
    "attempt to write a readonly database": "read-only (check the file and directory permissions)",
    "database or disk is full": "no space left (disk full or file size limit reached)",
    "disk I/O error": "disk I/O error",
    "unable to open database file": "cannot open the file (missing directory or no permission)",
}


def unavailable(path: str, error: BaseException) -> StoreUnavailableError | None:
    """A ``StoreUnavailableError`` for ``error`` when it is one of those conditions."""
    message = str(error)
    for known, reason in _UNAVAILABLE.items():
        if message.startswith(known):
            return StoreUnavailableError(path, reason)
    return None


#: How SQLite says a database file it has opened is damaged.
DAMAGE_MESSAGES = ("database disk image is malformed", "file is not a database")


def damaged(
    path: str, error: BaseException, *, opening: bool = False
) -> StoreUnavailableError | None:
    """A ``StoreUnavailableError`` naming ``path`` when ``error`` says the file is damaged.

    ``opening``: the file is being opened, where "file is not a database"
    means something other than a store's file is there (a location error,
    the caller's), not a damaged one.
    """
    message = str(error)
    if not message.startswith(DAMAGE_MESSAGES[:1] if opening else DAMAGE_MESSAGES):
        return None
    return StoreUnavailableError(
        path,
        f"damaged ({message}): 'cross-auth-lite check' reports what is wrong; restore the "
        "store from a backup",
        damaged=True,
    )


# Token encryption


class EncryptionError(LiteError, ValueError):
    """Token encryption cannot work as asked."""


class EncryptionKeyError(EncryptionError):
    """A key is missing, malformed, or not the one the tokens were encrypted with.

    ``problem`` is set when no key was given for encrypted tokens: what holds
    them (``"... holds encrypted provider tokens"``), the message without its
    advice, so a tool can say in its own terms how to give the key.
    """

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem

    def __reduce__(self) -> tuple[type[EncryptionKeyError], tuple[str, str | None]]:
        return type(self), (str(self), self.problem)


class EncryptionUnavailableError(EncryptionError, MissingExtraError):
    """Encryption was asked for, but the ``cryptography`` package is not installed."""


# Storage operations


class AmbiguousSocialAccountError(LiteError, ValueError):
    """An identity lookup without ``user_id`` or ``is_login_method`` matched several rows.

    With shared connections one identity can be connected to many users;
    callers resolving a user must say which connection they mean.
    """


class SocialAccountNotFoundError(LiteError, ValueError):
    """The social account to update does not exist (or a query filter hides it)."""


class UnknownUserError(LiteError, ValueError):
    """A write referred to a user id that no user has."""


class UnknownSessionError(LiteError, ValueError):
    """An administrative call referred to a session id that no session has."""


class UnsafeCacheValue(LiteError):
    """A cache row holds a pickle; ``TextDisk`` refuses to load it (nothing is unpickled)."""


# Moving data in and out


class ExportFormatError(LiteError, ValueError):
    """An export document that cannot be imported: the message names the record at fault."""


class ExportFileError(LiteError, OSError):
    """The export file cannot be written: the message names the file as given, and why.

    Nothing was left behind: neither a partial file nor a change to an old one.
    """


class TransferRefusedError(LiteError, ValueError):
    """An import or copy the target refused; nothing was written."""


class TargetNotEmptyError(TransferRefusedError):
    """``copy_store`` without ``force`` into a store that holds rows; ``counts`` says how many."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


def account_already_linked(provider: str, provider_user_id: str) -> CrossAuthException:
    """The identity belongs to another user (or is another user's login method)."""
    return CrossAuthException(
        "account_already_linked",
        f"The {provider} account {provider_user_id!r} is already linked to another user",
        status_code=409,
    )


def email_already_registered() -> CrossAuthException:
    """Another user already has this email (a concurrent signup won)."""
    return CrossAuthException(
        "email_already_registered",
        "A user with this email address already exists",
        status_code=409,
    )
