"""Private files and directories: 0700 directories, 0600 files, whatever the umask.

Everything cross-auth-lite writes holds credentials or one-time codes, so
nothing it creates may be readable by other users of the machine. SQLite
creates its ``-wal`` and ``-shm`` companions with the mode of the main file,
which is why creating that file ourselves, before SQLite does, is enough.

The modes are POSIX permissions (Linux, macOS, the BSDs). Where the platform
has none (Windows, whose files are guarded by ACLs, inherited from the
directory they are made in), nothing is tightened and only what the platform
offers is used: ``O_NOFOLLOW`` and ``os.fchmod`` where they exist.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from cross_auth_lite.errors import StoreLocationError

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
#: Whether this platform has POSIX permission bits to set (not on Windows).
POSIX_PERMISSIONS = os.name == "posix"


def _no_follow() -> int:
    """``os.O_NOFOLLOW`` where the platform has it (not on Windows), else no flag."""
    return getattr(os, "O_NOFOLLOW", 0)


def _set_mode(fd: int, path: Path, mode: int) -> None:
    """Give the open file ``fd`` (at ``path``) ``mode``, whatever the umask, where modes exist."""
    if not POSIX_PERMISSIONS:
        return
    fchmod = getattr(os, "fchmod", None)
    if fchmod is not None:
        fchmod(fd, mode)
    else:
        os.chmod(path, mode)


def private_directory(path: str | os.PathLike[str], *, role: str = "store directory") -> Path:
    """Create ``path`` (and missing parents) as a 0700 directory; tighten it if it exists.

    Raises ``StoreLocationError`` naming the path, as the ``role`` it has,
    when it is not a directory, cannot be created, or is not writable.
    """
    directory = Path(path).expanduser()
    try:
        _make_directories(directory)
    except FileExistsError:
        raise StoreLocationError(f"{directory} exists and is not a directory") from None
    except OSError as error:
        raise StoreLocationError(
            f"cannot create {role} {directory}: {error.strerror or error}"
        ) from None
    if not directory.is_dir():
        raise StoreLocationError(f"{directory} exists and is not a directory")
    _tighten(directory, DIRECTORY_MODE)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreLocationError(f"{role} {directory} is not writable")
    return directory


def _make_directories(directory: Path, made: list[Path] | None = None) -> None:
    """Create ``directory`` and its missing parents, each 0700; append each one made to ``made``.

    ``Path.mkdir(parents=True)`` would give the parents the umask's mode. A
    directory that exists already (or appears meanwhile) is left as it is.
    """
    missing = []
    current = directory.absolute()
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):
            new.mkdir(mode=DIRECTORY_MODE)
            if made is not None:
                made.append(new)
            # mkdir's mode is filtered by the umask, which may strip the owner's bits.
            if POSIX_PERMISSIONS and stat.S_IMODE(new.stat().st_mode) != DIRECTORY_MODE:
                os.chmod(new, DIRECTORY_MODE)


def make_missing_directories(path: str | os.PathLike[str], made: list[Path]) -> None:
    """Create ``path`` and its missing parents, each 0700, as ``private_directory`` does.

    Unlike ``private_directory`` it never changes a directory that exists
    already (or appears meanwhile), its mode included, and does not check
    what ``path`` turns out to be. Each directory it creates is appended to
    ``made``, outermost first, also when a later one fails, so the caller
    can remove them again. Raises ``StoreLocationError`` naming ``path``
    and the system's reason when a directory cannot be created.
    """
    directory = Path(path)
    try:
        _make_directories(directory, made)
    except OSError as error:
        raise StoreLocationError(f"cannot create {directory}: {error.strerror or error}") from None


def scratch_directory(parent: str | os.PathLike[str] | None, prefix: str) -> Path | None:
    """A new 0700 directory of this process in ``parent``, whatever the umask, or ``None``.

    Named ``prefix`` + random + ``.tmp`` (``tempfile.mkdtemp``), so no other
    process knows it; ``parent=None`` is the temporary directory. ``None``
    when it cannot be made (``parent`` missing or not writable, a full
    disk...), nothing left behind.
    """
    try:
        made = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))
    except OSError:
        return None
    try:
        _set_directory_mode(made)  # 0700 even under a umask that strips the owner's bits
    except OSError:
        shutil.rmtree(made, ignore_errors=True)
        return None
    return made


def new_private_directory(path: Path) -> Path:
    """Create ``path``, whose parent exists and nobody else uses, as a 0700 directory.

    For directories inside one this process has just made for itself (a
    ``scratch_directory``, an ephemeral store's new temporary directory),
    where ``private_directory``'s checks of what may be there already have
    nothing to find. Raises the system's ``OSError``.
    """
    os.mkdir(path, DIRECTORY_MODE)
    _set_directory_mode(path)
    return path


def _set_directory_mode(path: Path) -> None:
    """Give the directory ``path``, just made, 0700: mkdir's mode is filtered by the umask."""
    if POSIX_PERMISSIONS:
        os.chmod(path, DIRECTORY_MODE)


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists as a 0600 regular file, creating it empty if missing.

    SQLite treats an empty file as a new database, so this can run before the
    database is opened.
    """
    file = Path(path)
    if not _no_follow() and file.is_symlink():
        # Without O_NOFOLLOW, open would follow the link: refuse it beforehand.
        raise StoreLocationError(f"{file} is a symbolic link, not a database file")
    try:
        fd = os.open(file, os.O_CREAT | os.O_RDWR | _no_follow(), FILE_MODE)
    except IsADirectoryError:
        raise StoreLocationError(f"{file} is a directory, not a database file") from None
    except OSError as error:
        raise StoreLocationError(f"cannot open {file}: {error.strerror or error}") from None
    os.close(fd)
    if not stat.S_ISREG(file.stat().st_mode):
        raise StoreLocationError(f"{file} is not a regular file")
    _tighten(file, FILE_MODE)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = file.with_name(file.name + suffix)
        # Another connection closing may remove its -wal and -shm meanwhile.
        with contextlib.suppress(FileNotFoundError):
            if companion.is_file():
                _tighten(companion, FILE_MODE)
    return file


def _tighten(path: Path, mode: int) -> None:
    """Drop group and other permission bits, which the umask or an older tool left."""
    if not POSIX_PERMISSIONS:
        return
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077 or current & mode != mode:
        # Owned by someone else: we can still use it, and `check` reports it.
        with contextlib.suppress(PermissionError):
            os.chmod(path, current & ~0o077 | mode)


def new_private_file(path: str | os.PathLike[str]) -> int:
    """Create ``path``, which must not exist, as a 0600 file whatever the umask: its descriptor.

    The descriptor is open for writing; the caller closes it. Raises the
    ``OSError`` of the system (``FileExistsError`` when ``path`` exists, a
    symbolic link included); nothing is left behind then.
    """
    file = Path(path)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _no_follow(), FILE_MODE)
    try:
        _set_mode(fd, file, FILE_MODE)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            file.unlink()
        raise
    return fd


def create_private_file(file: Path, content: bytes, *, all_at_once: bool = True) -> bool:
    """Create ``file`` (0600 whatever the umask) holding ``content``; False if it exists.

    ``all_at_once`` (for a directory others may be looking at): it is
    written under a temporary name beside it, then hard-linked into place,
    which never replaces a file, so it appears complete or not at all.
    Without it (a directory nobody else knows yet), it is written in place.
    False, and nothing changed, also when it cannot be done (no hard links
    on this filesystem, a full disk...).
    """
    target = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    if not all_at_once:
        target = file
    try:
        fd = new_private_file(target)
    except OSError:
        return False
    try:
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        if all_at_once:
            os.link(target, file)
    except OSError:
        if not all_at_once:
            with contextlib.suppress(OSError):
                os.unlink(target)
        return False
    finally:
        if all_at_once:
            with contextlib.suppress(OSError):
                os.unlink(target)
    return True


@contextlib.contextmanager
def private_output(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """A UTF-8 text stream whose content replaces ``path`` (0600) once the block succeeds.

    It is written to a temporary file next to ``path`` first (created 0600
    whatever the umask, fsynced, then renamed over ``path``), so a failed or
    interrupted block never leaves a partial file, nor touches an old one.
    Failures are the ``OSError`` of the step that failed. For an app's own
    secrets beside its store, a saved session token say:

    ```python
    import os
    import tempfile
    from pathlib import Path

    import cross_auth_lite as lite

    token_file = Path(tempfile.mkdtemp()) / "session-token"
    with lite.private_output(token_file) as stream:
        stream.write("the token")
    assert token_file.read_text() == "the token"
    assert os.stat(token_file).st_mode & 0o777 == 0o600
    ```
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = new_private_file(temporary)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
