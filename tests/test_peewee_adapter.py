"""peewee's internals stay in their adapter; without them a store runs on the public API."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

import cross_auth_lite as lite
from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.adapters.portable import PORTABLE_ENV
from tests.factories import signup

PACKAGE = Path(lite.__file__).parent
ADAPTERS = PACKAGE / "adapters"

#: peewee's private names the fast paths use, named nowhere but in the adapter.
PRIVATE = (
    "__exception_wrapper__",
    "_state",
    "_savepoint",
    "_default_by_name",
    "_default_callable_list",
    "__data__",
    "_dirty",
    "__rel__",
    "_connect",
    "_sort_key",
    "_run_commit_callbacks",
    "_clear_commit_callbacks",
    "_sorted_field_list",
    "_db_hooks",
    "_additional_keys",
)
#: Private peewee names that the package's own classes also use for their
#: own attributes: only a reach into something else than ``self`` counts.
PRIVATE_UNLESS_OWN = ("_transaction", "_returning", "_order")

_REACH = re.compile(
    "|".join(
        [rf"\.{name}\b|[\"']{name}[\"']|\bdef {name}\b" for name in PRIVATE]
        + [rf"(?<!self)\.{name}\b|[\"']{name}[\"']" for name in PRIVATE_UNLESS_OWN]
    )
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def private_reaches(source: str) -> list[str]:
    """The lines of ``source`` that name one of peewee's private names."""
    return [line.strip() for line in source.splitlines() if _REACH.search(line)]


def test_the_scan_finds_a_private_reach() -> None:
    assert private_reaches("state = db._state.conn")
    assert private_reaches('getattr(query, "_returning")')
    assert private_reaches("class T(peewee._transaction): ...")
    assert private_reaches("    def _connect(self):")
    assert not private_reaches("self._returning = None\nlinking_state(cookies)")


def test_only_the_adapters_name_peewees_private_names() -> None:
    found = {
        str(path.relative_to(PACKAGE)): reaches
        for path in sorted(PACKAGE.rglob("*.py"))
        if ADAPTERS not in path.parents
        and (reaches := private_reaches(path.read_text(encoding="utf-8")))
    }
    assert not found


def test_the_installed_peewee_passes_the_capability_check() -> None:
    assert peewee_internals.capability_problem() is None


def use_store(store: lite.LiteStore) -> None:
    """Sign-up, a session made and read, on_commit through a savepoint that rolls back."""
    user, _ = signup(store.accounts, "ada@example.com", "gh-1")
    assert store.accounts.find_user_by_email("ada@example.com") == user
    session = store.sessions.create(
        token_hash="h", user_id=user.id, created_at=NOW, updated_at=NOW, expires_at=NOW
    )
    found = store.sessions.get(token_hash="h", now=NOW - timedelta(seconds=1))
    assert found is not None
    assert found.id == session.id
    assert not found.is_dirty()
    ran: list[str] = []
    with store.database.atomic():
        store.sessions.on_commit(lambda: ran.append("kept"))
        with pytest.raises(ZeroDivisionError), store.database.atomic():
            store.sessions.on_commit(lambda: ran.append("dropped"))
            raise ZeroDivisionError
        assert ran == []
    assert ran == ["kept"]


# A peewee changed under the store, in a subprocess: peewee itself still
# works (its own statements succeed). Without its private transaction and
# savepoint classes nothing changes (on_commit is built on the public API);
# with an error mapping that no longer maps, the probe fails as well.
CHANGED_PEEWEE = """
import contextlib
import sys
import warnings

import peewee

del peewee._transaction, peewee._savepoint
if sys.argv[2] == "broken-errors":
    peewee.__exception_wrapper__ = contextlib.nullcontext()
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import cross_auth_lite as lite
    from tests.test_peewee_adapter import use_store

    for name in ("a", "b"):
        with lite.open(sys.argv[1] + "/" + name) as store:
            print("fast_paths", store.database.fast_paths)
            use_store(store)
for warning in caught:
    print(warning.category.__name__, warning.message)
"""


def run_on_changed_peewee(tmp_path: Path, change: str) -> list[str]:
    """What ``CHANGED_PEEWEE`` prints, run with ``change``; it must succeed."""
    root = Path(__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHANGED_PEEWEE), str(tmp_path), change],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_failed_capability_check_makes_the_store_portable_with_one_warning(
    tmp_path: Path,
) -> None:
    lines = run_on_changed_peewee(tmp_path, "broken-errors")
    assert lines[:2] == ["fast_paths False", "fast_paths False"]
    assert len(lines) == 3, lines
    assert lines[2].startswith("RuntimeWarning ")
    assert f"peewee {peewee.__version__}" in lines[2]
    assert "IntegrityError" in lines[2]  # what the probe found


def test_peewees_private_transaction_classes_are_not_needed(tmp_path: Path) -> None:
    assert run_on_changed_peewee(tmp_path, "no-transaction-classes") == [
        "fast_paths True",
        "fast_paths True",
    ]


def test_portable_on_request_works_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PORTABLE_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lite.open(tmp_path / "store") as store:
            assert store.database.fast_paths is False
            use_store(store)


def test_the_fast_paths_are_taken_by_default(tmp_path: Path) -> None:
    with lite.open(tmp_path / "store") as store:
        assert store.database.fast_paths is True
        use_store(store)
