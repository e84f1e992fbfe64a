"""Fresh stores: what a test pays for a new, empty store, against Cross-Auth's SQLModel stack.

Each call makes one store and closes it again:

- ``lite.open()``: ``cross_auth_lite.open(new directory)`` then ``close()``;
- ``lite_store`` fixture: the plugin's fixture function driven as pytest
  drives it for each test (setup up to its ``yield``, then teardown), with a
  real ``pytest.TempPathFactory`` and a request for a test without marker;
  pytest's own per-test overhead is not included;
- SQLModel stack: what ``bench/backends/sqlmodel_adapter.py`` builds (an
  engine with lite's pragmas, ``create_all``, ``SQLModelAccountsStorage`` and
  ``SQLModelSessionStorage``) on a new file in an existing directory, then
  ``engine.dispose()``;
- SQLModel in memory, for reference: the same on ``sqlite://`` (one
  connection, no file). Cross-Auth ships no in-memory storages in its
  package (its own tests keep their fakes to themselves), so this is the
  nearest thing to a store without a disk;
- the same ``lite.open()`` and SQLModel stack with one read
  (``find_user_by_email``) before closing: a copied store connects to its
  file on first use, so this is what a test that uses it pays;
- ``lite.open()`` of an existing store then ``close()``: an app's startup.

The target: a fresh store costs at most a quarter of the SQLModel stack,
through ``lite.open()`` and through the fixture alike (the worse of the two
ratios is judged). The rows are timed interleaved, a batch of each per
repeat, each batch of new stores in directories named beforehand.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cross_auth_lite
from bench.timing import Call, Measurement, Plan, run_calls, time_calls

__all__ = ["FreshStores", "markdown_lines", "run_fresh_stores", "to_json"]

#: Row key -> label, in report order.
ROWS = {
    "lite_open": "`lite.open(new directory)` + `close()`",
    "lite_fixture": "`lite_store` fixture (setup + teardown)",
    "sqlmodel": "SQLModel stack on a new file (engine, `create_all`, 2 storages, dispose)",
    "sqlmodel_memory": "SQLModel stack in memory (`sqlite://`), for reference",
    "lite_read": "`lite.open(new directory)` + one read + `close()`",
    "sqlmodel_read": "SQLModel stack on a new file + one read + dispose",
    "lite_existing": "`lite.open(existing store)` + `close()` (an app's startup)",
}
#: The ratios judged: lite's way to a fresh store / the SQLModel stack.
RATIOS = {"lite.open / SQLModel stack": "lite_open", "fixture / SQLModel stack": "lite_fixture"}
#: At most this ratio (the worse of the two) passes.
TARGET = 0.25
#: New stores per timed batch, before ``Plan.scale``.
BATCH = 40


@dataclass
class FreshStores:
    """µs per fresh store, per row; and rows that could not run, with why."""

    results: dict[str, Measurement] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def ratio(self, key: str) -> float | None:
        """``key``'s median over the SQLModel stack's (with a read for a row with one)."""
        anchor = "sqlmodel_read" if key.endswith("_read") else "sqlmodel"
        if key not in self.results or anchor not in self.results:
            return None
        return self.results[key].median / self.results[anchor].median

    def verdict(self) -> tuple[float | None, str]:
        """The worse of the judged ratios, and PASS, MISS or SKIP."""
        ratios = [self.ratio(key) for key in RATIOS.values()]
        if any(ratio is None for ratio in ratios):
            return None, "SKIP"
        worst = max(ratio for ratio in ratios if ratio is not None)
        return worst, "PASS" if worst <= TARGET else "MISS"


class _Request:
    """What the fixture reads from pytest's request: the test's name and ``lite_store`` marker."""

    class node:
        name = "test_with_a_fresh_store"

        @staticmethod
        def get_closest_marker(name: str) -> None:
            return None


def _temp_path_factory(root: Path) -> Any:
    """A real ``pytest.TempPathFactory`` on ``root``, as a test session has one."""
    import pytest

    factory = pytest.TempPathFactory(
        given_basetemp=root,
        retention_count=3,
        retention_policy="all",
        trace=lambda *args: None,
        _ispytest=True,
    )
    factory.getbasetemp()  # made now (it empties root), not in a timed batch
    return factory


def _fixture_calls(factory: Any, count: int) -> list[Call]:
    from cross_auth_lite.pytest_plugin import lite_store

    fixture: Any = lite_store
    function = fixture._get_wrapped_function()

    def one_test() -> None:
        steps: Iterator[Any] = function(_Request(), factory)
        next(steps)  # setup: the store the test gets
        for _ in steps:  # teardown
            pass

    return [one_test] * count


def _sqlmodel_calls(directories: list[Path], *, read: bool = False) -> list[Call]:
    from bench.backends import sqlmodel_adapter

    def one(directory: Path) -> Callable[[], None]:
        def call() -> None:
            backend = sqlmodel_adapter.open_backend(directory)
            if read:
                backend.accounts.find_user_by_email("ada@example.com")
            backend.close()

        return call

    return [one(directory) for directory in directories]


def _sqlmodel_memory_calls(count: int) -> list[Call]:
    from cross_auth.storage.sqlmodel import SQLModelAccountsStorage, SQLModelSessionStorage
    from sqlalchemy.pool import StaticPool
    from sqlmodel import Session, SQLModel, create_engine

    from bench.backends.sqlmodel_adapter import SocialAccount, User, UserSession

    tables = [getattr(model, "__table__") for model in (User, SocialAccount, UserSession)]  # noqa: B009

    def one() -> None:
        engine = create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        SQLModel.metadata.create_all(engine, tables=tables)

        def session_factory() -> Session:
            return Session(engine)

        SQLModelAccountsStorage(User, SocialAccount, session_factory=session_factory)
        SQLModelSessionStorage(UserSession, session_factory=session_factory)
        engine.dispose()

    return [one] * count


def _open_and_close(path: Path, *, read: bool = False) -> Call:
    def one() -> None:
        store = cross_auth_lite.open(path)
        if read:
            store.accounts.find_user_by_email("ada@example.com")
        store.close()

    return one


def _batches(root: Path, key: str, count: int, number: Iterator[int], factory: Any) -> list[Call]:
    """One batch of ``count`` calls of row ``key``, each in directories of its own."""
    if key in ("lite_open", "lite_read"):
        read = key == "lite_read"
        return [_open_and_close(root / key / str(next(number)), read=read) for _ in range(count)]
    if key == "lite_fixture":
        return _fixture_calls(factory, count)
    if key in ("sqlmodel", "sqlmodel_read"):
        directories = [root / key / str(next(number)) for _ in range(count)]
        for directory in directories:
            directory.mkdir(parents=True)  # made beforehand: the stack takes a directory
        return _sqlmodel_calls(directories, read=key == "sqlmodel_read")
    if key == "sqlmodel_memory":
        return _sqlmodel_memory_calls(count)
    existing = root / key / "store"
    return [lambda: cross_auth_lite.open(existing).close()] * count


def run_fresh_stores(root: Path, plan: Plan) -> FreshStores:
    """Time every row; ``root`` (an empty directory) holds the stores made."""
    fresh = FreshStores()
    rows = list(ROWS)
    try:
        import sqlmodel  # noqa: F401

        from bench.backends import sqlmodel_adapter  # noqa: F401
    except ImportError as error:
        for key in ("sqlmodel", "sqlmodel_memory", "sqlmodel_read"):
            fresh.skipped[key] = f"SQLModel not importable ({error})"
            rows.remove(key)
    root.mkdir(parents=True, exist_ok=True)
    factory = _temp_path_factory(root / "lite_fixture")
    cross_auth_lite.open(root / "lite_existing" / "store").close()
    count = plan.iterations(BATCH)
    number = itertools.count()
    print("fresh stores", file=sys.stderr, flush=True)
    for key in rows:
        run_calls(_batches(root, key, plan.warmup(BATCH), number, factory))  # and the templates
        fresh.results[key] = Measurement(iterations=count)
    for repeat in range(plan.repeats):
        order = rows if repeat % 2 == 0 else rows[::-1]
        for key in order:
            calls = _batches(root, key, count, number, factory)
            fresh.results[key].samples.append(time_calls(calls))
    return fresh


def _ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def markdown_lines(fresh: FreshStores) -> list[str]:
    """The report's fresh-store section."""
    lines = [
        "## Fresh store (ms per store, median of batches)",
        "",
        "What a test pays for a new, empty store and closing it (see `bench/fresh_store.py`; "
        "the fixture is driven as pytest drives it per test, without pytest's own overhead). "
        "A copied store connects to its file on first use: the rows with a read show what a "
        "test that uses it pays.",
        "",
        "| way to a fresh store | ms | / SQLModel stack (with a read, for rows with one) |",
        "|---|---:|---:|",
    ]
    for key, label in ROWS.items():
        if key in fresh.results:
            ratio = fresh.ratio(key)
            shown = "—" if ratio is None else f"{ratio:.2f}x"
            lines.append(f"| {label} | {_ms(fresh.results[key].median)} | {shown} |")
        else:
            lines.append(f"| {label} | skipped: {fresh.skipped.get(key, '?')} | — |")
    worst, verdict = fresh.verdict()
    ratios = ", ".join(
        f"{name} {'—' if fresh.ratio(key) is None else f'{fresh.ratio(key):.2f}x'}"
        for name, key in RATIOS.items()
    )
    shown = "—" if worst is None else f"{worst:.2f}x"
    lines += [
        "",
        "Target:",
        "",
        f"- a fresh store costs <= {TARGET}x the SQLModel stack, through `lite.open()` and the "
        f"fixture alike (the worse of {ratios}): {shown} -> **{verdict}**",
    ]
    return lines


def to_json(fresh: FreshStores) -> dict[str, Any]:
    """The section as JSON-ready data (µs per store, every batch)."""
    worst, verdict = fresh.verdict()
    return {
        "rows": {
            key: {"label": ROWS[key], **m.as_dict(), "ratio_to_sqlmodel": fresh.ratio(key)}
            for key, m in fresh.results.items()
        },
        "skipped": fresh.skipped,
        "target": {
            "text": f"fresh store <= {TARGET}x the SQLModel stack (lite.open and fixture)",
            "threshold": TARGET,
            "worst_ratio": worst,
            "verdict": verdict,
        },
    }
