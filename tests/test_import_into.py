"""``import_into``: a store it creates is built out of sight and appears whole, or not at all.

Real stores on real filesystems: targets missing, empty, reached through
``..``, a symbolic link or a relative path, directories appearing meanwhile,
another filesystem, a process killed in the middle.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.test_cli_support import seed
from tests.test_hard_failures import read_only
from tests.test_transfer import COUNTS, exported

#: How the directory a store is built in is named, as ``import_into`` documents.
BUILD_PREFIX = ".cross-auth-lite-import."


@pytest.fixture
def source(tmp_path: Path) -> Iterator[lite.LiteStore]:
    """The CLI tests' seeded store: three users, three identities, five sessions."""
    seed(tmp_path / "source")
    # No housekeeping: its first pass, two seconds in, would purge the long-ended session.
    with lite.open(tmp_path / "source", create=False, housekeeping=False) as store:
        yield store


def conflicting(store: lite.LiteStore) -> lite.admin.ExportDocument:
    """``store``'s export and one more user with the first one's email: refused at its row."""
    document = json.loads(exported(store))
    document["users"].append({**document["users"][0], "id": 100})
    return lite.admin.read_export(json.dumps(document))


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.mark.parametrize("where", ["store", "new/parents/store"])
def test_a_refused_import_leaves_no_store_where_there_was_none(
    source: lite.LiteStore, tmp_path: Path, where: str
) -> None:
    place = tmp_path / "place"
    place.mkdir()

    with pytest.raises(lite.TransferRefusedError, match=r"users\[3\] \(id 100\) conflicts"):
        lite.admin.import_into(place / where, conflicting(source))

    assert names(place) == []


def test_a_refused_import_leaves_an_empty_directory_as_it_was(
    source: lite.LiteStore, tmp_path: Path
) -> None:
    place = tmp_path / "place"
    target = place / "store"
    target.mkdir(parents=True)
    target.chmod(0o750)

    with pytest.raises(lite.TransferRefusedError, match=r"users\.email must be unique"):
        lite.admin.import_into(target, conflicting(source))

    assert names(place) == ["store"]
    assert names(target) == []
    assert target.stat().st_mode & 0o777 == 0o750


@pytest.mark.parametrize("existing", [False, True], ids=["new", "empty"])
def test_a_new_store_appears_whole_once_the_import_succeeded(
    source: lite.LiteStore, tmp_path: Path, existing: bool
) -> None:
    place = tmp_path / "place"
    target = place / "store"
    (target if existing else place).mkdir(parents=True)
    if existing:
        target.chmod(0o750)
    seen: list[list[str] | None] = []

    def look(done: int, total: int) -> None:
        seen.append(names(target) if target.exists() else None)

    result = lite.admin.import_into(
        target, lite.admin.read_export(exported(source)), progress=look
    )

    # Another process looking meanwhile finds nothing it could open.
    assert seen
    assert set(map(repr, seen)) == {repr([] if existing else None)}
    location = os.path.realpath(target)
    assert result == lite.admin.ImportResult(location=location, created=True, imported=COUNTS)
    assert names(place) == ["store"]
    assert names(target) == [lite.admin.DATABASE_FILENAME, lite.admin.CACHE_DIRNAME]
    # A directory it made is 0700; one it was given keeps its mode, as with lite.open.
    assert target.stat().st_mode & 0o777 == (0o750 if existing else 0o700)
    if not existing:
        assert lite.admin.check_store(target).problems == []
    with lite.open(target, create=False) as store:
        assert exported(store) == exported(source)
        assert store.accounts.create_user(user_info={}, email="new@example.com").id == 4


def test_an_import_into_an_existing_store_says_it_created_nothing(
    source: lite.LiteStore, tmp_path: Path
) -> None:
    lite.open(tmp_path / "store").close()

    result = lite.admin.import_into(tmp_path / "store", lite.admin.read_export(exported(source)))

    assert result == lite.admin.ImportResult(
        str(tmp_path / "store"), created=False, imported=COUNTS
    )
    with pytest.raises(lite.TransferRefusedError, match=r"users\.id must be unique"):
        lite.admin.import_into(tmp_path / "store", conflicting(source))
    with lite.open(tmp_path / "store", create=False) as store:
        assert exported(store) == exported(source)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "empty"])
def test_a_store_made_at_the_place_during_the_import_is_left_alone(
    source: lite.LiteStore, tmp_path: Path, existing: bool
) -> None:
    place = tmp_path / "place"
    target = place / "store"
    (target if existing else place).mkdir(parents=True)

    def another_process(done: int, total: int) -> None:
        if done == total:
            with lite.open(target) as other:
                other.accounts.create_user(user_info={}, email="other@example.com")

    with pytest.raises(lite.TransferRefusedError, match=r"nothing imported: .* meanwhile"):
        lite.admin.import_into(
            target, lite.admin.read_export(exported(source)), progress=another_process
        )

    assert names(place) == ["store"]
    with lite.open(target, create=False) as store:
        assert [user.email for user in store.models.User.select()] == ["other@example.com"]


def test_a_parent_made_meanwhile_for_another_store_holds_both(
    source: lite.LiteStore, tmp_path: Path
) -> None:
    place = tmp_path / "place"
    place.mkdir()

    def another_process(done: int, total: int) -> None:
        if done == total:
            lite.open(place / "new" / "other").close()

    document = lite.admin.read_export(exported(source))
    result = lite.admin.import_into(place / "new" / "store", document, progress=another_process)

    assert result.created
    assert names(place) == ["new"]
    assert names(place / "new") == ["other", "store"]
    with lite.open(place / "new" / "store", create=False) as store:
        assert exported(store) == exported(source)


def at_the_end(action: Any) -> Any:
    """A ``progress`` callback running ``action()`` once every row is in, before publishing."""

    def progress(done: int, total: int) -> None:
        if done == total:
            action()

    return progress


@pytest.mark.parametrize("written", [False, True], ids=["empty", "written-to"])
@pytest.mark.parametrize("made", ["store", "parent"])
def test_a_directory_made_meanwhile_keeps_its_inode_mode_and_files(
    source: lite.LiteStore, tmp_path: Path, made: str, written: bool
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    # Another process makes the store's directory, or its missing parent, as the import ends.
    target = place / "store" if made == "store" else place / "new" / "store"
    other = target if made == "store" else target.parent
    inode: list[int] = []

    def another_process() -> None:
        other.mkdir(mode=0o755)
        other.chmod(0o755)
        inode.append(other.stat().st_ino)
        if written:
            (other / "notes.txt").write_text("another process's")

    document = lite.admin.read_export(exported(source))
    if made == "store" and written:
        with pytest.raises(lite.TransferRefusedError, match=r"nothing imported: .* meanwhile"):
            lite.admin.import_into(target, document, progress=at_the_end(another_process))
        assert names(target) == ["notes.txt"]
    else:
        result = lite.admin.import_into(target, document, progress=at_the_end(another_process))
        assert result.location == os.path.realpath(target)
        assert names(target) == [lite.admin.DATABASE_FILENAME, lite.admin.CACHE_DIRNAME]
        if made == "parent":
            assert names(other) == (["notes.txt", "store"] if written else ["store"])
        with lite.open(target, create=False) as store:
            assert exported(store) == exported(source)
    # The directory is the other process's own: the same one, its mode untouched.
    assert other.stat().st_ino == inode[0]
    assert stat.S_IMODE(other.stat().st_mode) == 0o755
    assert names(place) == [other.relative_to(place).parts[0]]


@pytest.mark.parametrize("where", ["dotdot", "long-name"])
def test_a_refused_import_through_dotdot_or_a_long_name_leaves_nothing(
    source: lite.LiteStore, tmp_path: Path, where: str
) -> None:
    place = tmp_path / "place"
    (place / "sub").mkdir(parents=True)
    # 250 characters: a name fits, the same name with a prefix and suffix around it does not.
    target = place / "sub" / ".." / "store" if where == "dotdot" else place / ("s" * 250)

    with pytest.raises(lite.TransferRefusedError, match=r"users\[3\] \(id 100\) conflicts"):
        lite.admin.import_into(target, conflicting(source))
    assert names(place) == ["sub"]
    assert names(place / "sub") == []

    result = lite.admin.import_into(target, lite.admin.read_export(exported(source)))
    assert result.location == os.path.realpath(target)
    assert sorted(names(place)) == sorted(["sub", Path(result.location).name])
    with lite.open(target, create=False) as store:
        assert exported(store) == exported(source)


def test_an_empty_directory_on_another_filesystem_gets_a_streamed_copy(
    source: lite.LiteStore, tmp_path: Path
) -> None:
    shm = Path("/dev/shm")
    temporary = Path(tempfile.gettempdir())
    if not shm.is_dir() or shm.stat().st_dev == temporary.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the temporary directory")
    elsewhere = Path(tempfile.mkdtemp(dir=shm, prefix="cross-auth-lite-test-"))
    try:
        # A read-only parent: the store is built in the temporary directory, on another device.
        empty = elsewhere / "read-only" / "store"
        empty.mkdir(parents=True)
        (tmp_path / "link").symlink_to(empty)
        document = json.loads(exported(source))
        big = "$2b$12$" + "x" * 4_000_000  # a database of some megabytes, to see it streamed
        document["users"][0]["hashed_password"] = big
        before = {path.name for path in temporary.glob(BUILD_PREFIX + "*")}
        built_in: list[set[str]] = []

        def look() -> None:
            built_in.append({path.name for path in temporary.glob(BUILD_PREFIX + "*")} - before)
            tracemalloc.start()

        with read_only(empty.parent):
            try:
                result = lite.admin.import_into(
                    tmp_path / "link",
                    lite.admin.read_export(json.dumps(document)),
                    progress=at_the_end(look),
                )
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()

        assert len(built_in[0]) == 1
        assert not (temporary / built_in[0].pop()).exists()
        assert peak < 2_000_000, peak  # never the whole database in memory
        assert result.location == os.path.realpath(empty)
        assert names(empty) == [lite.admin.DATABASE_FILENAME, lite.admin.CACHE_DIRNAME]
        for path, mode in [
            (empty / lite.admin.DATABASE_FILENAME, 0o600),
            (empty / lite.admin.CACHE_DIRNAME, 0o700),
            (empty / lite.admin.CACHE_DIRNAME / "cache.db", 0o600),
        ]:
            assert stat.S_IMODE(path.stat().st_mode) == mode
        with lite.open(tmp_path / "link", create=False) as store:
            copied = json.loads(exported(store))
        assert {table: len(copied[table]) for table in COUNTS} == COUNTS
        assert copied["users"] == document["users"]
    finally:
        shutil.rmtree(elsewhere)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "empty"])
def test_a_relative_target_is_where_it_was_when_the_import_began(
    source: lite.LiteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    for directory in ("one", "two"):
        (tmp_path / directory / ("store" if existing else "")).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "one")
    document = lite.admin.read_export(exported(source))

    # The working directory changes while the store is built (another thread, say).
    moved = at_the_end(lambda: os.chdir(tmp_path / "two"))
    result = lite.admin.import_into("store", document, progress=moved)

    assert result.location == os.path.realpath(tmp_path / "one" / "store")
    assert names(tmp_path / "one" / "store") == [
        lite.admin.DATABASE_FILENAME,
        lite.admin.CACHE_DIRNAME,
    ]
    assert names(tmp_path / "two") == (["store"] if existing else [])
    if existing:
        assert names(tmp_path / "two" / "store") == []
    with lite.open(tmp_path / "one" / "store", create=False) as store:
        assert exported(store) == exported(source)


@pytest.mark.parametrize(
    ("path", "document", "message"),
    [
        ("store", "not a document", "document must be an ExportDocument"),
        ("store", {"users": []}, "document must be an ExportDocument"),
        (123, None, "path must be a str, an os.PathLike or None, not int"),
        (b"store", None, "path must be a str, an os.PathLike or None, not bytes"),
    ],
)
def test_bad_arguments_are_a_type_error_and_create_nothing(
    source: lite.LiteStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: Any,
    document: Any,
    message: str,
) -> None:
    good = lite.admin.read_export(exported(source))
    monkeypatch.chdir(tmp_path / "source")
    before = names(tmp_path)

    with pytest.raises(TypeError, match=message):
        lite.admin.import_into(path, good if document is None else document)
    with pytest.raises(TypeError, match="progress must be callable"):
        lite.admin.import_into(path if document is not None else "store", good, progress="bar")  # type: ignore[arg-type]

    assert names(tmp_path) == before
    assert not (tmp_path / "source" / "store").exists()
    with lite.open(None) as store, pytest.raises(TypeError, match="document must be"):
        lite.admin.import_export(store, "not a document")  # type: ignore[arg-type]


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_no_housekeeping_runs_while_rows_go_in(
    source: lite.LiteStore, tmp_path: Path, existing: bool
) -> None:
    target = tmp_path / "store"
    if existing:
        lite.open(target, housekeeping=False).close()
    housekeepers: list[object] = []

    def look() -> None:
        # The stores open right now: the one being imported into among them.
        for thing in gc.get_objects():
            # Closed stores the collector has not freed yet are not among them.
            open_store = isinstance(thing, lite.LiteStore) and not thing.closed
            path = thing.path if open_store else None
            if path is not None and (path == target or path.name.startswith(BUILD_PREFIX)):
                housekeepers.append(thing.housekeeper)

    # Its first pass would delete the session that ended long ago, just imported.
    lite.admin.import_into(
        target, lite.admin.read_export(exported(source)), progress=at_the_end(look)
    )

    assert housekeepers == [None]
    with lite.admin.open_transfer_target(target, housekeeping=False) as store:
        assert store.housekeeper is None
    with lite.admin.open_transfer_target(target) as store:
        assert store.housekeeper is not None  # the default stays


def test_a_process_killed_mid_import_leaves_only_its_private_build_directory(
    source: lite.LiteStore, tmp_path: Path
) -> None:
    (tmp_path / "export.json").write_text(exported(source))
    place = tmp_path / "place"
    place.mkdir()
    killed = (
        "import os, signal, sys\n"
        "import cross_auth_lite as lite\n"
        "def die(done, total):\n"
        "    if done == total:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "document = lite.admin.read_export(open(sys.argv[1], 'rb'))\n"
        "lite.admin.import_into(sys.argv[2], document, progress=die)\n"
    )
    command = [sys.executable, "-c", killed, str(tmp_path / "export.json"), str(place / "store")]
    assert subprocess.run(command, check=False).returncode == -signal.SIGKILL

    # What import_into's docstring and docs/guarantees.md say is left.
    assert BUILD_PREFIX in " ".join((lite.admin.import_into.__doc__ or "").split())
    [left] = place.iterdir()
    assert left.name.startswith(BUILD_PREFIX)
    assert left.name.endswith(".tmp")
    assert stat.S_IMODE(left.stat().st_mode) == 0o700
    assert stat.S_IMODE((left / lite.admin.DATABASE_FILENAME).stat().st_mode) == 0o600
    shutil.rmtree(left)  # safe to delete: the import runs again as if nothing happened
    result = lite.admin.import_into(place / "store", lite.admin.read_export(exported(source)))
    assert result.created
    assert names(place) == ["store"]
