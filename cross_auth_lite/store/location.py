"""Where a store lives: its directory, found, created or laid out from the template.

Also the temporary directories of ephemeral stores (``lite.open()`` without a
path): ``close()`` removes one, and one never closed is removed when the
process that made it exits (not after a kill, which runs nothing).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

from cross_auth_lite.errors import (
    StoreExistsError,
    StoreLocationError,
    StoreNotFoundError,
)
from cross_auth_lite.private_files import private_directory
from cross_auth_lite.store.template import StoreTemplate, lay_out_store, new_store, store_template

__all__ = [
    "CACHE_DIRNAME",
    "DATABASE_FILENAME",
    "copy_template",
    "ephemeral_directory",
    "existing_directory",
    "new_store_directory",
    "occupied",
    "remove_ephemeral_directory",
    "store_directory",
]

#: The SQLite file holding users, social accounts and sessions.
DATABASE_FILENAME = "accounts.sqlite3"
#: The diskcache directory holding short-lived state.
CACHE_DIRNAME = "cache"


def new_store_directory(
    path: str | os.PathLike[str], shape: bool | None
) -> tuple[Path, StoreTemplate | None]:
    """``store_directory(path)``; where it holds no store, one copied from the template.

    ``shape`` is the new store's ``shared_connections``, ``None`` for no
    copy (a store not wholly local). Also returns the template copied, or
    ``None`` when the directory holds a store (or part of one) to open, or
    the copy could not be made: the store is then opened, or built, as
    ever. See ``cross_auth_lite.store.template``.
    """
    directory = Path(path).expanduser()
    if shape is not None and not directory.exists():
        template = store_template(shared_connections=shape)
        names = {"database_name": DATABASE_FILENAME, "cache_name": CACHE_DIRNAME}
        if template is not None and new_store(directory, template, **names):
            return directory, template
    directory = store_directory(directory)
    if shape is None or _holds_store(directory):
        return directory, None
    return directory, copy_template(directory, shape, private=False)


def copy_template(directory: Path, shape: bool, *, private: bool) -> StoreTemplate | None:
    """Lay out a new store in the empty ``directory``: the template, or ``None`` if not done."""
    template = store_template(shared_connections=shape)
    if template is None:
        return None
    names = {"database_name": DATABASE_FILENAME, "cache_name": CACHE_DIRNAME}
    laid_out = lay_out_store(directory, template, private=private, **names)
    return template if laid_out else None


def store_directory(path: str | os.PathLike[str]) -> Path:
    """The directory ``lite.open(path)`` keeps a store in: created 0700 if missing.

    An existing directory is used, its mode untouched, if it is empty or
    already holds a store; one holding other things is refused
    (``StoreExistsError``) so that a store never lands among unrelated files.
    """
    directory = Path(path).expanduser()
    if not directory.exists():
        return private_directory(directory)
    if not directory.is_dir():
        raise StoreLocationError(f"{directory} exists and is not a directory")
    # Listed first: a store being created beside us makes cache/ before anything else.
    if any(directory.iterdir()) and not _holds_store(directory):
        raise StoreExistsError(
            f"{directory} is not empty and holds no cross-auth-lite store: keep the store "
            "in a directory of its own (a new or empty one)"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreLocationError(f"store directory {directory} is not writable")
    return directory


def _holds_store(directory: Path) -> bool:
    return (directory / DATABASE_FILENAME).exists() or (directory / CACHE_DIRNAME).exists()


def occupied(path: Path) -> bool:
    """Whether something other than a store is at ``path``, so no store can be created there.

    A file, or a directory holding anything while neither file of a store.
    """
    try:
        if not path.is_dir():
            return path.exists()
        return not _holds_store(path) and any(path.iterdir())
    except OSError:
        return False  # unreadable: let creating it say why


def existing_directory(path: str | os.PathLike[str], database_url: str | None) -> Path | None:
    """The directory of a store that must exist already (``create=False``).

    With ``database_url`` the directory holds only the cache: a missing one
    is not created (``None``: the cache is then a temporary one).
    """
    directory = Path(path).expanduser()
    if directory.exists() and not directory.is_dir():
        raise StoreLocationError(f"{directory} is not a directory")
    if database_url is not None:
        return store_directory(directory) if directory.exists() else None
    if not (directory / DATABASE_FILENAME).is_file():
        if not directory.exists():
            detail = "the directory does not exist"
        elif (directory / DATABASE_FILENAME).exists():
            detail = f"{DATABASE_FILENAME} is not a regular file"
        else:
            detail = f"{DATABASE_FILENAME} is missing"
        raise StoreNotFoundError(
            f"no store at {directory} ({detail})", path=directory, occupied=occupied(directory)
        )
    return directory


# Ephemeral store directories not yet removed, with the process that made each:
# a forked child exiting must not remove its parent's.
_EPHEMERAL: dict[Path, int] = {}
_EPHEMERAL_LOCK = threading.Lock()


def ephemeral_directory() -> Path:
    """A new temporary 0700 directory for an ephemeral store, removed at exit if still there."""
    directory = Path(tempfile.mkdtemp(prefix="cross-auth-lite-"))
    with _EPHEMERAL_LOCK:
        _EPHEMERAL[directory] = os.getpid()
    return directory


def remove_ephemeral_directory(directory: Path) -> None:
    """Remove an ephemeral store's directory (``close()``, or a failed open)."""
    with _EPHEMERAL_LOCK:
        _EPHEMERAL.pop(directory, None)
    shutil.rmtree(directory, ignore_errors=True)


@atexit.register
def _remove_unclosed_ephemeral_directories() -> None:
    """At exit: remove the ephemeral stores this process made and never closed."""
    with _EPHEMERAL_LOCK:
        mine = [path for path, pid in _EPHEMERAL.items() if pid == os.getpid()]
    for path in mine:
        remove_ephemeral_directory(path)
