"""Fresh stores: what a test pays for a new store it uses, against SQLModel and a raw floor.

The judged rows each make one new store, do **a test's work** on it, and
close it. That work is one write and one read on each of the three
storages: ``secondary.set`` + ``get``, ``create_user_with_identity`` +
``find_user_by_email``, ``sessions.create`` + ``get`` (``USED_WORK``):

- ``lite.open()``: ``cross_auth_lite.open(new directory)``, the work, ``close()``;
- ``lite_store`` fixture: the plugin's fixture function driven as pytest
  drives it for each test (setup up to its ``yield``, the work, teardown),
  with a real ``pytest.TempPathFactory`` and a request for a test without
  marker; pytest's own per-test overhead is not included;
- SQLModel stack: what ``bench/backends/sqlmodel_adapter.py`` builds (an
  engine with lite's pragmas, ``create_all``, ``SQLModelAccountsStorage`` and
  ``SQLModelSessionStorage``) on a new file in an existing directory, a dict
  as its secondary storage (``DictStorage``: Cross-Auth ships no in-memory
  one), the work, then ``engine.dispose()``;
- raw floor: stdlib ``sqlite3`` doing the work on template copies of lite's
  two files (a 0700 directory and ``cache/``, the two 0600 files written from
  bytes held in memory), two connections in WAL with lite's and diskcache's
  pragmas (set, not read first), the statements of
  ``bench/backends/raw_sqlite.py``, and closing both (each close checkpoints
  its WAL into the file and removes it). That is the least any storage
  keeping lite's files has to do.

For reference, unjudged: the same ways to a store opened and closed
untouched, the SQLModel stack in memory, and ``lite.open()`` of an existing
store then ``close()`` (an app's startup).

The targets: a used fresh store costs at most a quarter of the SQLModel
stack, and at most 1.25x the raw floor, through ``lite.open()`` and through
the fixture alike (the worse of the two ratios is judged). When the floor
itself is above a quarter of the SQLModel stack, the floor target decides.
Each repeat makes one store of every row in turn, over and over, each in a
directory named beforehand; a ratio is the median over repeats of the ratio
within a repeat, and a row's ms the median of its repeats.
"""

from __future__ import annotations

import gc
import itertools
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from diskcache.core import DBNAME

import cross_auth_lite
from bench.timing import Call, Measurement, Plan, run_calls
from bench.workload import SECONDARY_VALUE, TTL_SECONDS, identity_for, user_create
from cross_auth_lite.admin import CACHE_DIRNAME, DATABASE_FILENAME
from cross_auth_lite.database.sqlite import BUSY_TIMEOUT_SECONDS

#: Step name -> µs of each time it ran.
Steps = dict[str, list[float]]

__all__ = ["DictStorage", "FreshStores", "markdown_lines", "run_fresh_stores", "to_json"]

#: Row key -> label, in report order: the judged rows (a store used as a test uses it) first.
ROWS = {
    "lite_used": "`lite.open(new directory)` + a test's work + `close()`",
    "fixture_used": "`lite_store` fixture (setup + a test's work + teardown)",
    "sqlmodel_used": "SQLModel stack on a new file, a dict cache + a test's work + dispose",
    "raw_floor": "raw floor: template copies, 2 WAL connections + a test's work + close",
    "lite_open": "`lite.open(new directory)` + `close()`, untouched",
    "lite_fixture": "`lite_store` fixture (setup + teardown), untouched",
    "sqlmodel": "SQLModel stack on a new file (engine, `create_all`, 2 storages, dispose)",
    "sqlmodel_memory": "SQLModel stack in memory (`sqlite://`), for reference",
    "lite_existing": "`lite.open(existing store)` + `close()` (an app's startup)",
}
#: What "a test's work" is, in order, on every judged row.
USED_WORK = (
    "secondary.set",
    "secondary.get",
    "create_user_with_identity",
    "find_user_by_email",
    "sessions.create",
    "sessions.get",
)
#: The judged rows and the names their ratios go by.
JUDGED = {"lite.open": "lite_used", "fixture": "fixture_used"}
#: Each row's anchor: a used store against a used store, an untouched one against one.
ANCHORS = {
    "lite_used": "sqlmodel_used",
    "fixture_used": "sqlmodel_used",
    "sqlmodel_used": "sqlmodel_used",
    "raw_floor": "sqlmodel_used",
    "lite_open": "sqlmodel",
    "lite_fixture": "sqlmodel",
    "sqlmodel_memory": "sqlmodel",
    "lite_existing": "sqlmodel",
}
#: At most this ratio to the SQLModel stack (the worse of the judged rows) passes...
TARGET = 0.25
#: ...and at most this ratio to the raw floor.
FLOOR_TARGET = 1.25
#: New stores per timed batch, before ``Plan.scale``.
BATCH = 40
#: Repeats of every row per repeat of the comparison: a store's cost moves
#: with the disk's state far more than one call's does.
REPEATS_FACTOR = 3


@dataclass
class FreshStores:
    """µs per fresh store, per row; rows that could not run, with why; lite's steps."""

    results: dict[str, Measurement] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: Median µs of each step of a used store, for ``lite.open()`` and the floor.
    steps: dict[str, dict[str, float]] = field(default_factory=dict)

    def ratio(self, key: str, anchor: str | None = None) -> float | None:
        """``key`` over ``anchor`` (by default its SQLModel row): the repeats' median ratio.

        A repeat makes one store of every row in turn, over and over
        (``_time_interleaved``), so both sides of a ratio taken within it
        met the same states of the disk; the median over repeats drops the
        repeats a neighbour disturbed.
        """
        anchor = anchor or ANCHORS.get(key, "sqlmodel")
        if key not in self.results or anchor not in self.results:
            return None
        pairs = zip(self.results[key].samples, self.results[anchor].samples, strict=True)
        return statistics.median(mine / theirs for mine, theirs in pairs)

    def verdicts(self) -> list[tuple[str, float | None, float, str]]:
        """Each target: its text, the worse judged ratio, its threshold, PASS/MISS/SKIP/FLOOR.

        The SQLModel target reads FLOOR when missed while the floor itself
        is above it: the floor target decides then.
        """
        out: list[tuple[str, float | None, float, str]] = []
        for text, anchor, threshold in (
            ("SQLModel stack", "sqlmodel_used", TARGET),
            ("raw floor", "raw_floor", FLOOR_TARGET),
        ):
            ratios = [self.ratio(key, anchor) for key in JUDGED.values()]
            if any(ratio is None for ratio in ratios):
                out.append((text, None, threshold, "SKIP"))
                continue
            worst = max(ratio for ratio in ratios if ratio is not None)
            verdict = "PASS" if worst <= threshold else "MISS"
            floor = self.ratio("raw_floor", "sqlmodel_used")
            if verdict == "MISS" and anchor == "sqlmodel_used" and floor and floor > threshold:
                verdict = "FLOOR"
            out.append((text, worst, threshold, verdict))
        return out

    def verdict(self) -> tuple[float | None, str]:
        """The worse ratio to the floor and the overall verdict (the floor's decides a FLOOR)."""
        (_, _, _, sqlmodel), (_, worst, _, floor) = self.verdicts()
        if "SKIP" in (sqlmodel, floor):
            return worst, "SKIP"
        passed = floor == "PASS" and sqlmodel in ("PASS", "FLOOR")
        return worst, "PASS" if passed else "MISS"


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


class DictStorage:
    """Cross-Auth's secondary-storage protocol on a dict, with TTLs: the SQLModel stack's cache."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float | None]] = {}

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``None``: until removed)."""
        self._values[key] = (value, None if ttl is None else time.monotonic() + ttl)

    def get(self, key: str) -> str | None:
        """The live value of ``key``, or ``None``."""
        found = self._values.get(key)
        if found is None or (found[1] is not None and found[1] <= time.monotonic()):
            return None
        return found[0]

    def pop(self, key: str) -> str | None:
        """The live value of ``key``, removed."""
        value = self.get(key)
        self._values.pop(key, None)
        return value

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        self._values.pop(key, None)


#: What a test's work writes: fixed values, the same on every row.
_EMAIL = "ada@example.com"
_TOKEN_HASH = "5" * 64
_STATE_KEY = "oauth:state:bench"


def _work(secondary: Any, accounts: Any, sessions: Any, steps: Steps | None = None) -> None:
    """``USED_WORK`` on one new store; with ``steps``, each step's µs is appended there."""
    now = datetime.now(UTC)
    _timed(steps, "secondary.set", lambda: secondary.set(_STATE_KEY, SECONDARY_VALUE, TTL_SECONDS))
    _timed(steps, "secondary.get", lambda: secondary.get(_STATE_KEY))
    user, _ = _timed(
        steps,
        "create_user_with_identity",
        lambda: accounts.create_user_with_identity(
            user=user_create(_EMAIL), identity=identity_for("bench-1")
        ),
    )
    _timed(steps, "find_user_by_email", lambda: accounts.find_user_by_email(_EMAIL))
    owner = getattr(user, "id", user)
    _timed(
        steps,
        "sessions.create",
        lambda: sessions.create(
            token_hash=_TOKEN_HASH,
            user_id=owner,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(days=1),
        ),
    )
    _timed(steps, "sessions.get", lambda: sessions.get(token_hash=_TOKEN_HASH, now=now))


def _timed(steps: Steps | None, name: str, call: Callable[[], Any]) -> Any:
    """``call()``; its µs appended to ``steps[name]`` when steps are kept."""
    start = time.perf_counter_ns()
    result = call()
    if steps is not None:
        steps.setdefault(name, []).append((time.perf_counter_ns() - start) / 1000)
    return result


def _fixture_function(fixture: Any) -> Any:
    """The function under ``@pytest.fixture``, to drive it as pytest would.

    pytest has no public way to reach it: 8.4 and later wrap it in an object
    (``_get_wrapped_function``), earlier releases mark the function that
    refuses direct calls (``__pytest_wrapped__``).
    """
    unwrap = getattr(fixture, "_get_wrapped_function", None)
    if unwrap is not None:
        return unwrap()
    wrapped = getattr(fixture, "__pytest_wrapped__", None)
    return fixture if wrapped is None else wrapped.obj


def _fixture_calls(factory: Any, count: int, *, used: bool) -> list[Call]:
    from cross_auth_lite.pytest_plugin import lite_store

    function = _fixture_function(lite_store)

    def one_test() -> None:
        steps: Iterator[Any] = function(_Request(), factory)
        store = next(steps)  # setup: the store the test gets
        if used:
            _work(store.secondary, store.accounts, store.sessions)
        for _ in steps:  # teardown
            pass

    return [one_test] * count


def _sqlmodel_calls(directories: list[Path], *, used: bool) -> list[Call]:
    from bench.backends import sqlmodel_adapter

    def one(directory: Path) -> Callable[[], None]:
        def call() -> None:
            backend = sqlmodel_adapter.open_backend(directory)
            if used:
                _work(DictStorage(), backend.accounts, backend.sessions)
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


def _open_and_close(path: Path, *, used: bool, steps: Steps | None = None) -> Call:
    def one() -> None:
        store = _timed(steps, "open", lambda: cross_auth_lite.open(path))
        if used:
            _work(store.secondary, store.accounts, store.sessions, steps)
        _timed(steps, "close", store.close)

    return one


class _Floor:
    """What the raw floor copies and sets: the template's bytes, diskcache's pragmas."""

    def __init__(self) -> None:
        from bench.backends import raw_sqlite
        from cross_auth_lite.store.template import store_template

        template = store_template(shared_connections=False)
        assert template is not None, "no store template in this process"
        self.database, self.cache = template.database, template.cache
        scratch = Path(tempfile.mkdtemp(prefix="cross-auth-lite-floor-"))
        try:
            (scratch / "cache.db").write_bytes(self.cache)
            connection = sqlite3.connect(scratch / "cache.db")
            settings = connection.execute("SELECT key, value FROM Settings").fetchall()
            connection.close()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.cache_pragmas = [
            f"PRAGMA {key.removeprefix('sqlite_')} = {value}"
            for key, value in settings
            if key.startswith("sqlite_")
        ]
        self.raw = raw_sqlite

    def copy(self, directory: Path) -> None:
        """The store's directory and files, as a template copy lays them out."""
        os.mkdir(directory, 0o700)
        os.mkdir(directory / CACHE_DIRNAME, 0o700)
        for file, content in (
            (directory / CACHE_DIRNAME / DBNAME, self.cache),
            (directory / DATABASE_FILENAME, self.database),
        ):
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, content)
            finally:
                os.close(fd)

    def connect_cache(self, path: Path) -> sqlite3.Connection:
        """An autocommit connection to ``cache.db`` with diskcache's pragmas."""
        connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        for pragma in self.cache_pragmas:
            connection.execute(pragma).fetchall()
        return connection

    def call(self, directory: Path, steps: Steps | None = None) -> Call:
        """One floor store in ``directory``: copy, connect, the work, close."""
        raw = self.raw

        def one() -> None:
            _timed(steps, "open", lambda: self.copy(directory))
            accounts_db, cache_db = _timed(
                steps,
                "connect",
                lambda: (
                    raw.connect(directory / DATABASE_FILENAME),
                    self.connect_cache(directory / CACHE_DIRNAME / DBNAME),
                ),
            )
            _work(
                raw.RawSecondary(cache_db),
                raw.RawAccounts(accounts_db),
                raw.RawSessions(accounts_db),
                steps,
            )
            _timed(steps, "close", lambda: (accounts_db.close(), cache_db.close()))

        return one


def _batches(
    root: Path, key: str, count: int, number: Iterator[int], factory: Any, floor: _Floor
) -> list[Call]:
    """One batch of ``count`` calls of row ``key``, each in directories of its own."""
    if key in ("lite_open", "lite_used"):
        used = key == "lite_used"
        return [_open_and_close(root / key / str(next(number)), used=used) for _ in range(count)]
    if key in ("lite_fixture", "fixture_used"):
        return _fixture_calls(factory, count, used=key == "fixture_used")
    if key in ("sqlmodel", "sqlmodel_used"):
        directories = [root / key / str(next(number)) for _ in range(count)]
        for directory in directories:
            directory.mkdir(parents=True)  # made beforehand: the stack takes a directory
        return _sqlmodel_calls(directories, used=key == "sqlmodel_used")
    if key == "sqlmodel_memory":
        return _sqlmodel_memory_calls(count)
    if key == "raw_floor":
        (root / key).mkdir(exist_ok=True)
        return [floor.call(root / key / str(next(number))) for _ in range(count)]
    existing = root / key / "store"
    return [lambda: cross_auth_lite.open(existing).close()] * count


def _time_interleaved(batches: dict[str, list[Call]]) -> dict[str, float]:
    """Mean µs per call of each row's batch, making one call of every row in turn.

    A store's cost moves with what the disk is doing (the writeback of the
    stores made just before, above all), far more than one call's; taking
    the rows store by store gives them all the same share of that.
    """
    gc.collect()
    clock = time.perf_counter_ns
    totals = dict.fromkeys(batches, 0)
    count = min(len(calls) for calls in batches.values())
    for index in range(count):
        for key, calls in batches.items():
            start = clock()
            calls[index]()
            totals[key] += clock() - start
    return {key: total / count / 1000 for key, total in totals.items()}


def _steps(
    root: Path, floor: _Floor, count: int, number: Iterator[int]
) -> dict[str, dict[str, float]]:
    """Median µs of each step of a used store, ``lite.open()`` and the floor interleaved."""
    kept: dict[str, Steps] = {"lite": {}, "floor": {}}
    (root / "steps").mkdir()
    for _ in range(count):
        _open_and_close(root / "steps" / str(next(number)), used=True, steps=kept["lite"])()
        floor.call(root / "steps" / str(next(number)), kept["floor"])()
    return {
        row: {name: statistics.median(samples) for name, samples in steps.items()}
        for row, steps in kept.items()
    }


def run_fresh_stores(root: Path, plan: Plan) -> FreshStores:
    """Time every row; ``root`` (an empty directory) holds the stores made."""
    fresh = FreshStores()
    rows = list(ROWS)
    try:
        import sqlmodel  # noqa: F401

        from bench.backends import sqlmodel_adapter  # noqa: F401
    except ImportError as error:
        for key in ("sqlmodel", "sqlmodel_memory", "sqlmodel_used"):
            fresh.skipped[key] = f"SQLModel not importable ({error})"
            rows.remove(key)
    root.mkdir(parents=True, exist_ok=True)
    factory = _temp_path_factory(root / "lite_fixture")
    cross_auth_lite.open(root / "lite_existing" / "store").close()
    floor = _Floor()
    count = plan.iterations(BATCH)
    number = itertools.count()
    print("fresh stores", file=sys.stderr, flush=True)
    for key in rows:
        run_calls(_batches(root, key, plan.warmup(BATCH), number, factory, floor))
        fresh.results[key] = Measurement(iterations=count)
    for repeat in range(plan.repeats * REPEATS_FACTOR):
        order = rows if repeat % 2 == 0 else rows[::-1]
        batches = {key: _batches(root, key, count, number, factory, floor) for key in order}
        for key, us in _time_interleaved(batches).items():
            fresh.results[key].samples.append(us)
    fresh.steps = _steps(root, floor, count, number)
    return fresh


def _ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def _shown(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def markdown_lines(fresh: FreshStores) -> list[str]:
    """The report's fresh-store section."""
    work = ", ".join(f"`{name}`" for name in USED_WORK)
    lines = [
        "## Fresh store (ms per store, median of batches; ratios: median of the repeats' ratios)",
        "",
        "What a test pays for a new store it uses, and closing it (see `bench/fresh_store.py`). "
        f"A test's work: {work}, one call each. The fixture is driven as pytest drives it per "
        "test, without pytest's own overhead; the SQLModel stack keeps its secondary storage in "
        "a dict; the raw floor is stdlib `sqlite3` on template copies of lite's two files (two "
        "WAL connections, the same statements, each close checkpointing its WAL). A row's ms "
        "is the median of its repeats; a ratio is over the SQLModel stack doing the same (a "
        "used store over the used stack, an untouched one over the untouched stack) or over "
        "the floor, the median over repeats of the ratio within a repeat, so it need not be "
        "the ratio of the two ms shown.",
        "",
        "| way to a fresh store | ms | / SQLModel stack | / raw floor |",
        "|---|---:|---:|---:|",
    ]
    for key, label in ROWS.items():
        if key in fresh.results:
            used = key.endswith("_used") or key == "raw_floor"
            floor = fresh.ratio(key, "raw_floor") if used else None
            ms = _ms(fresh.results[key].median)
            lines.append(f"| {label} | {ms} | {_shown(fresh.ratio(key))} | {_shown(floor)} |")
        else:
            lines.append(f"| {label} | skipped: {fresh.skipped.get(key, '?')} | — | — |")
    if fresh.steps:
        names = ["open", "connect", *USED_WORK, "close"]
        lines += [
            "",
            "Step by step, a used store (µs, median of one batch, `lite.open()` and the floor "
            "interleaved; the floor's `open` is its copy and `connect` its two connections, "
            "which lite makes at each storage's first call):",
            "",
            "| | " + " | ".join(f"`{name}`" for name in names) + " | sum |",
            "|---|" + "---:|" * (len(names) + 1),
        ]
        for row, label in (("lite", "`lite.open()`"), ("floor", "raw floor")):
            values = [fresh.steps[row].get(name) for name in names]
            cells = ["—" if value is None else f"{value:,.0f}" for value in values]
            total = sum(value for value in values if value is not None)
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {total:,.0f} |")
    lines += ["", "Targets (the worse of `lite.open()` and the fixture):", ""]
    for text, worst, threshold, verdict in fresh.verdicts():
        ratios = ", ".join(
            f"{name} {_shown(fresh.ratio(key, 'sqlmodel_used' if 'SQL' in text else 'raw_floor'))}"
            for name, key in JUDGED.items()
        )
        note = ""
        if verdict == "FLOOR":
            floor = fresh.ratio("raw_floor", "sqlmodel_used")
            note = f" (the floor itself is {_shown(floor)}: the floor target decides)"
        lines.append(
            f"- a used fresh store costs <= {threshold}x the {text} ({ratios}): "
            f"{_shown(worst)} -> **{verdict}**{note}"
        )
    return lines


def to_json(fresh: FreshStores) -> dict[str, Any]:
    """The section as JSON-ready data (µs per store, every batch)."""
    worst, verdict = fresh.verdict()
    return {
        "work": list(USED_WORK),
        "rows": {
            key: {
                "label": ROWS[key],
                **m.as_dict(),
                "ratio_to_sqlmodel": fresh.ratio(key),
                "ratio_to_raw_floor": fresh.ratio(key, "raw_floor"),
            }
            for key, m in fresh.results.items()
        },
        "steps_us": fresh.steps,
        "skipped": fresh.skipped,
        "targets": [
            {
                "text": f"used fresh store <= {threshold}x the {text}",
                "threshold": threshold,
                "worst_ratio": ratio,
                "verdict": v,
            }
            for text, ratio, threshold, v in fresh.verdicts()
        ],
        "target": {"worst_ratio_to_floor": worst, "verdict": verdict},
    }
