"""A new store built out of sight and published whole: the store ``import_into`` creates.

``stage_store(path)`` makes a private directory to build the store in, on
the filesystem it will live on where it can; the caller opens a store there,
fills it and closes it; ``StagedStore.publish()`` then makes it appear at
``path``:

1. the directories of ``path`` still missing are created, 0700 as
   ``lite.open`` makes them; one that exists, or that another process made
   meanwhile, is left as it is, its mode included;
2. ``path`` must be an empty directory by then: one that appeared
   meanwhile receives the store, as ``lite.open`` would use it; anything
   else is refused (``StoreExistsError``) and left alone;
3. the finished database file is hard-linked into it (``os.link`` never
   replaces a file). The database file is what makes a directory a store,
   so another process finds no store there or the whole one;
4. the cache file follows; should that fail the store is whole all the
   same, for opening a store makes its cache.

Nothing is renamed: a rename would replace an empty directory another
process made meanwhile, and with it that process's files. Where the build
directory is on another filesystem than ``path`` (``path`` is a mount
point, or the build fell back to the temporary directory), each file is
streamed into a temporary name inside ``path``, synced, then linked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from pathlib import Path

from diskcache.core import DBNAME

from cross_auth_lite.errors import LiteError, StoreExistsError, StoreLocationError
from cross_auth_lite.private_files import (
    make_missing_directories,
    new_private_file,
    scratch_directory,
)
from cross_auth_lite.store.location import CACHE_DIRNAME, DATABASE_FILENAME

__all__ = ["BUILD_PREFIX", "StagedStore", "stage_store"]

#: How the directory a store is built in is named (then random characters and ``.tmp``).
BUILD_PREFIX = ".cross-auth-lite-import."

# Bytes per read when a file is copied to another filesystem.
_COPY_CHUNK = 256 * 1024


class StagedStore:
    """A new store built in ``directory``, to appear at ``location`` whole once published.

    ``location`` is the absolute directory the store is published as, its
    symbolic links resolved; ``directory`` is where to build it, a new 0700
    directory of this process that no other process knows. Open the store
    there, fill it, close it, then ``publish()``; ``discard()`` afterwards
    in any case.
    """

    def __init__(self, location: Path, directory: Path) -> None:
        #: Where the store appears once published.
        self.location = location
        #: Where to build it.
        self.directory = directory

    def publish(self) -> None:
        """Make the store built in ``directory``, closed, appear at ``location``.

        ``StoreExistsError`` when ``location`` is no longer missing or an
        empty directory (another process put something there meanwhile):
        nothing is published then and what is there is left as it is.
        ``StoreLocationError`` (with the system's reason, a full disk say)
        when the store cannot be written there. Either way the directories
        it created are removed again. The build directory stays, for
        ``discard()``.
        """
        made: list[Path] = []
        try:
            make_missing_directories(self.location, made)
            self._check_empty()
            _publish_file(self.directory / DATABASE_FILENAME, self.location / DATABASE_FILENAME)
        except BaseException:
            for directory in reversed(made):
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only if still empty: never another process's files
            raise
        # A store without its cache file is whole all the same: opening it makes one.
        with contextlib.suppress(OSError, LiteError):
            cache = self.location / CACHE_DIRNAME
            make_missing_directories(cache, [])
            _publish_file(self.directory / CACHE_DIRNAME / DBNAME, cache / DBNAME)
        for directory in (*(new.parent for new in made), self.location):
            _sync_directory(directory)

    def discard(self) -> None:
        """Remove the build directory and what is in it, if still there; nothing else."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def _check_empty(self) -> None:
        try:
            info = os.lstat(self.location)
            if stat.S_ISDIR(info.st_mode):
                with os.scandir(self.location) as entries:
                    if next(entries, None) is None:
                        return
        except OSError as error:
            raise StoreLocationError(
                f"cannot use {self.location}: {error.strerror or error}"
            ) from None
        raise StoreExistsError(
            f"{self.location} is no longer missing or empty: another process put something "
            "there meanwhile"
        )


def _publish_file(source: Path, target: Path) -> None:
    """Hard-link ``source`` as ``target``, which must not exist: through a copy across devices."""
    try:
        if os.stat(source.parent).st_dev == os.stat(target.parent).st_dev:
            try:
                os.link(source, target)
                return
            except OSError as error:
                if error.errno != errno.EXDEV:  # two mounts of one filesystem
                    raise
        _copy_then_link(source, target)
    except FileExistsError:
        raise StoreExistsError(
            f"{target.parent} is no longer empty: another process wrote {target.name} meanwhile"
        ) from None
    except OSError as error:
        raise StoreLocationError(f"cannot write {target}: {error.strerror or error}") from None


def _copy_then_link(source: Path, target: Path) -> None:
    """Stream ``source`` into a new 0600 file beside ``target``, sync it, link it as ``target``."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = new_private_file(temporary)
    try:
        with os.fdopen(fd, "wb") as copy, source.open("rb") as original:
            shutil.copyfileobj(original, copy, _COPY_CHUNK)
            copy.flush()
            os.fsync(copy.fileno())
        os.link(temporary, target)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _sync_directory(directory: Path) -> None:
    """Make the names just added to ``directory`` durable, where the platform can."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def stage_store(path: str | os.PathLike[str]) -> StagedStore | None:
    """Where to build a new store that must appear at ``path`` whole, or not at all.

    ``path`` is resolved as the system would (``os.path.realpath``: its
    symbolic links followed, ``..`` taken, made absolute): that is
    ``StagedStore.location``. The store is built beside the deepest
    directory of it that exists (the parent of an empty ``location``), so on
    the filesystem it will live on; where that directory is not writable and
    ``location`` is an empty directory, in the temporary directory instead.

    ``None``, and nothing made, where ``lite.open`` should open ``path`` as
    ever instead (it opens the store there, or raises what it raises):

    - ``location`` exists and is not an empty directory: it holds a store
      (or part of one), or something else ``lite.open`` refuses;
    - ``location`` is an empty directory this process cannot write to;
    - ``path`` goes through a symbolic link to nothing, or its deepest
      existing directory is not a directory (``lite.open`` refuses both);
    - ``location`` is missing and its deepest existing directory is not
      writable (``lite.open`` cannot create it either);
    - no build directory can be made (an empty ``location`` whose parent and
      temporary directory are both unwritable, a full disk...);
    - the filesystem built on has no hard links (publishing needs them).
    """
    given = Path(path).expanduser().absolute()
    location = Path(os.path.realpath(given))
    if _through_missing_link(given):
        return None
    if os.path.lexists(location):
        try:
            empty = location.is_dir() and not any(location.iterdir())
        except OSError:
            return None
        if not empty or not os.access(location, os.W_OK | os.X_OK):
            return None
        build = scratch_directory(location.parent, BUILD_PREFIX) or scratch_directory(
            None, BUILD_PREFIX
        )
    else:
        existing = location.parent
        while not os.path.lexists(existing):
            existing = existing.parent
        if not existing.is_dir():
            return None
        build = scratch_directory(existing, BUILD_PREFIX)
    if build is None:
        return None
    if not _hard_links_work(build):
        shutil.rmtree(build, ignore_errors=True)
        return None
    return StagedStore(location, build)


def _through_missing_link(path: Path) -> bool:
    """Whether the deepest part of ``path`` that exists is a symbolic link to nothing."""
    while not os.path.lexists(path):
        path = path.parent
    return not os.path.exists(path)


def _hard_links_work(directory: Path) -> bool:
    """Whether a file in ``directory`` can be hard-linked (not so on FAT, say)."""
    probe, link = directory / "link-probe", directory / "link-probe-2"
    try:
        os.close(new_private_file(probe))
        os.link(probe, link)
    except OSError:
        return False
    finally:
        for name in (probe, link):
            with contextlib.suppress(OSError):
                name.unlink()
    return True
