"""Where a store lives: its directory, found, created or laid out from the template.

Also where a new store is built when it must appear whole or not at all
(``stage_store``): out of sight, then published in one step.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from diskcache.core import DBNAME

from cross_auth_lite.errors import (
    LiteError,
    StoreExistsError,
    StoreLocationError,
    StoreNotFoundError,
)
from cross_auth_lite.private_files import create_private_file, private_directory
from cross_auth_lite.store_template import StoreTemplate, lay_out_store, new_store, store_template

__all__ = [
    "CACHE_DIRNAME",
    "DATABASE_FILENAME",
    "StagedStore",
    "copy_template",
    "existing_directory",
    "new_store_directory",
    "stage_store",
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
    ever. See ``cross_auth_lite.store_template``.
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
        raise StoreNotFoundError(f"no store at {directory} ({detail})")
    return directory


class StagedStore:
    """A new store built out of sight, to appear at ``target`` whole once ``publish()`` runs.

    ``directory`` is where to build it: inside a new 0700 directory of this
    process that no other process knows, so nobody can open the store, or
    even see it, before it is published. ``discard()`` removes that
    directory, and nothing else.
    """

    def __init__(self, target: Path, root: Path, directory: Path, renamed: Path | None) -> None:
        #: Where the store appears once published, as given, and made absolute.
        self.target = target
        self.place = target.absolute()
        #: Where to build it.
        self.directory = directory
        self._root = root
        # The missing directory the root becomes (the target or its topmost missing
        # parent); None when the target is an empty directory receiving the files.
        self._renamed = renamed
        self._root_gone = False

    def publish(self) -> None:
        """Make the store, closed, appear at ``target``; ``StoreExistsError`` if taken meanwhile.

        Where ``target`` was missing, the build directory is renamed into
        place (as ``target`` or its topmost missing parent), whole. Into an
        empty ``target`` the database file is hard-linked (or copied under a
        temporary name, then linked), which never replaces a file, and the
        cache after it. When something appeared at ``target`` while the store
        was being built, nothing is published and what is there is left as it
        is. Either way the build directory is gone afterwards.
        """
        try:
            if self._renamed is not None:
                self._rename(self._renamed)
            else:
                self._link()
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the build directory and the store in it, if still there; nothing else."""
        if not self._root_gone:
            self._root_gone = True
            shutil.rmtree(self._root, ignore_errors=True)

    def _rename(self, place: Path) -> None:
        source = self._root
        while True:
            try:
                # As in new_store: a rename never replaces a directory that is not empty.
                os.rename(source, place)
                break
            except OSError as error:
                if not os.path.lexists(place):
                    raise StoreLocationError(
                        f"cannot create {self.target}: {error.strerror or error}"
                    ) from None
                if place == self.place or not place.is_dir():
                    raise StoreExistsError(
                        f"{self.target} was created by another process meanwhile"
                    ) from None
            # A missing parent was made meanwhile (for another store beside this
            # one, say): what this store adds to it goes in one level down.
            step = self.place.relative_to(place).parts[0]
            source, place = source / step, place / step
        self._root_gone = source == self._root

    def _link(self) -> None:
        database = self.directory / DATABASE_FILENAME
        if os.path.lexists(database.with_name(database.name + "-wal")):
            raise StoreLocationError(f"{database} is still open: close the store to publish it")
        taken = StoreExistsError(
            f"{self.target} is no longer empty: another process wrote to it meanwhile"
        )
        try:
            if any(self.target.iterdir()):
                raise taken
        except OSError as error:
            raise StoreLocationError(
                f"cannot use {self.target}: {error.strerror or error}"
            ) from None
        # The database file is what makes the directory a store: published first, in one step.
        target = self.target / DATABASE_FILENAME
        if not _link_or_copy(database, target):
            if os.path.lexists(target):
                raise taken
            raise StoreLocationError(f"cannot write {target}")
        # A store without its cache file is whole all the same: opening it makes one.
        with contextlib.suppress(OSError, LiteError):
            cache = private_directory(self.target / CACHE_DIRNAME)
            _link_or_copy(self.directory / CACHE_DIRNAME / DBNAME, cache / DBNAME)


def _link_or_copy(source: Path, target: Path) -> bool:
    """``source`` hard-linked as ``target``, else copied beside it, then linked: True if done."""
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError:  # another filesystem, or one without hard links from here
        pass
    try:
        content = source.read_bytes()
    except OSError:
        return False
    return create_private_file(target, content, all_at_once=True)


def stage_store(path: str | os.PathLike[str]) -> StagedStore | None:
    """Where to build a new store that must appear at ``path`` whole, or not at all.

    Only for a ``path`` that is missing or an empty directory, as
    ``lite.open`` would create a store in: ``None`` otherwise (it holds a
    store, or something ``lite.open`` refuses), or when no directory can be
    made to build in; open ``path`` as ever then. A missing ``path`` is
    built beside its topmost missing directory (with its missing parents,
    0700 like ``lite.open``'s) and renamed into place; an empty one is built
    beside it (else in the temporary directory) and its files are published
    into it, its own mode untouched.
    """
    target = Path(path).expanduser()
    place = target.absolute()
    if ".." in place.parts:
        return None  # where a lexical parent is not the real one
    if not os.path.lexists(place):
        top = place
        while not os.path.lexists(top.parent) and top.parent != top:
            top = top.parent
        root = _build_directory(top.parent, top.name) if top.parent.is_dir() else None
        if root is None:
            return None
        return StagedStore(target, root, root / place.relative_to(top), renamed=top)
    try:
        empty = place.is_dir() and not any(place.iterdir())
    except OSError:
        return None
    if not empty or not os.access(place, os.W_OK | os.X_OK):
        return None
    root = _build_directory(place.parent, place.name) if place.parent != place else None
    root = root or _build_directory(None, place.name)
    return None if root is None else StagedStore(target, root, root, renamed=None)


def _build_directory(parent: Path | None, name: str) -> Path | None:
    """A new 0700 directory in ``parent`` (the temporary directory for ``None``), or ``None``."""
    try:
        made = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    except OSError:
        return None
    try:
        return private_directory(made)  # 0700 even under a umask that strips the owner's bits
    except LiteError:
        shutil.rmtree(made, ignore_errors=True)
        return None
