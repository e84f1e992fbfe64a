"""``make clean`` removes what make made, and never a store the user made.

The demo marks a data directory it created (``CREATED_MARKER``); ``make
clean`` removes the venv, the tool caches and a marked ``var/demo``, and
``var/`` itself only once it is empty.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import cross_auth_lite as lite
from cross_auth_lite.demo.server import CREATED_MARKER, open_data_dir

REPO = Path(__file__).resolve().parent.parent


def test_the_demo_marks_only_a_data_directory_it_created(tmp_path: Path) -> None:
    made = tmp_path / "var" / "demo"
    own = tmp_path / "own"
    lite.open(own).close()  # the user's store, made before the demo ran
    empty = tmp_path / "empty"
    empty.mkdir()  # made by the user too
    for directory in (made, own, empty):
        open_data_dir(directory).close()
        open_data_dir(directory).close()  # the second run finds it: no change
    assert (made / CREATED_MARKER).is_file()
    assert not (own / CREATED_MARKER).exists()
    assert not (empty / CREATED_MARKER).exists()
    with lite.open(made, create=False) as store:  # the marker does not bother the store
        assert store.accounts.find_user_by_email("nobody@example.com") is None


def test_a_store_the_demo_made_passes_check(tmp_path: Path, umask: int) -> None:
    made = tmp_path / "var" / "demo"
    open_data_dir(made).close()
    report = lite.admin.check_store(made)
    assert report.problems == []


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_clean_removes_only_what_make_made(tmp_path: Path) -> None:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for made in (".venv/bin", ".pytest_cache", ".mypy_cache", ".ruff_cache", "var/demo"):
        (tmp_path / made).mkdir(parents=True)
    (tmp_path / "var/demo" / CREATED_MARKER).write_text("made by the demo\n")
    (tmp_path / "var/demo/accounts.sqlite3").write_text("")
    mine = tmp_path / "var/mine"
    mine.mkdir()
    (mine / "accounts.sqlite3").write_text("the user's own store")

    subprocess.run(["make", "clean"], cwd=tmp_path, check=True, capture_output=True)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == ["Makefile", "var", "var/mine", "var/mine/accounts.sqlite3"]

    # A var/demo the demo did not create (a user's store there) stays too.
    shutil.rmtree(mine)
    (tmp_path / "var/demo").mkdir()
    (tmp_path / "var/demo/accounts.sqlite3").write_text("the user's own store")
    subprocess.run(["make", "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "var/demo/accounts.sqlite3").exists()

    # Nothing left under var/: var/ goes too.
    shutil.rmtree(tmp_path / "var/demo")
    subprocess.run(["make", "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert not (tmp_path / "var").exists()
