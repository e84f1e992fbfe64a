"""The benchmark's end-to-end row and its chart, on a tiny plan (no timing is judged here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from bench import end_to_end, report
from bench.__main__ import parse_args
from bench.compare import Comparison
from bench.scale import ScaleResult
from bench.timing import Measurement, Plan
from bench.workload import PopulationSize, Workload

#: Five sign-ins per batch (two new), three warm-up ones, two batches.
TINY = Plan(repeats=2, scale=0.01)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, end_to_end.EndToEndResult]:
    directory = tmp_path_factory.mktemp("end-to-end")
    return directory, end_to_end.run_end_to_end(directory, TINY)


def test_every_sign_in_went_through_the_lite_store(
    run: tuple[Path, end_to_end.EndToEndResult],
) -> None:
    directory, result = run
    warmup, per_batch = TINY.warmup(end_to_end.BASE_SIGN_INS), result.sign_ins
    assert (per_batch, result.new_sign_ins, result.repeats) == (5, 2, 2)
    with lite.open(directory / "lite") as store:
        # New people got a user and an identity; returning ones found theirs.
        assert store.models.User.select().count() == warmup + 2 * result.new_sign_ins
        assert store.models.SocialAccount.select().count() == warmup + 2 * result.new_sign_ins
        # Every sign-in, new or returning, made one session.
        assert store.models.Session.select().count() == warmup + 2 * per_batch


def test_each_kind_of_sign_in_has_a_batch_per_repeat_on_each_stack(
    run: tuple[Path, end_to_end.EndToEndResult],
) -> None:
    _, result = run
    stacks = ["lite"] if result.skipped else ["lite", "anchor"]
    assert list(result.results) == list(end_to_end.KINDS)
    for by_stack in result.results.values():
        assert list(by_stack) == stacks
        assert all(len(m.samples) == TINY.repeats for m in by_stack.values())


def test_the_report_and_the_json_carry_the_row(
    run: tuple[Path, end_to_end.EndToEndResult],
) -> None:
    _, result = run

    text, data = _report(result)

    assert "## End to end" in text
    assert "| all (1 in 4 new) |" in text
    row = data["end_to_end"]["rows"]["all"]
    assert row["sign_ins_per_second"]["lite"] > 0
    if result.skipped:
        assert row["ratio"] is None
        assert "Skipped SQLModel + Redis" in text
    else:
        rates = row["sign_ins_per_second"]
        assert row["ratio"] == pytest.approx(rates["lite"] / rates["anchor"])
    assert data["end_to_end"]["new_sign_ins_per_batch"] == 2
    assert len(row["backends"]["lite"]["samples_us"]) == TINY.repeats


def test_without_the_row_the_report_has_no_section() -> None:
    text, data = _report(None)
    assert "End to end" not in text
    assert data["end_to_end"] is None


def _report(result: end_to_end.EndToEndResult | None) -> tuple[str, dict[str, Any]]:
    """The markdown and the JSON (through a JSON round trip) of a run with no comparison."""
    workload = Workload(size=PopulationSize(), now=datetime.now(UTC))
    comparison = Comparison(labels={})
    text = report.markdown({}, workload, TINY, comparison, None, 1.0, 1.0, end_to_end=result)
    data = report.to_json({}, workload, TINY, comparison, None, 1.0, 1.0, end_to_end=result)
    return text, json.loads(json.dumps(data))


def _scale() -> ScaleResult:
    def m(*samples: float) -> Measurement:
        return Measurement(samples=list(samples), iterations=10)

    lookups = {
        users: {"find_user_by_email": m(6.0, 7.0), "find_user_by_id": m(5.0, 5.5)}
        for users in (1_000, 100_000)
    }
    pages = {"first": m(100, 110), "middle": m(105, 120), "last": m(108, 111)}
    return ScaleResult(
        lookups=lookups,
        sessions=1_000,
        pages=20,
        page_times={**pages, "whole walk (per page)": m(109.0)},
    )


def test_the_chart_names_the_machine_and_both_panels(tmp_path: Path) -> None:
    from bench.chart import write_chart

    machine = {"cpu": "Test CPU 9000", "cores": "2", "python": "CPython 3.11", "sqlite": "3.40"}
    paths = write_chart(_scale(), machine, tmp_path / "images", formats=("svg", "png"))

    assert [path.name for path in paths] == ["bench-scale.svg", "bench-scale.png"]
    svg = paths[0].read_text()
    assert "Test CPU 9000, 2 cores, CPython 3.11, SQLite 3.40" in svg
    assert "Lookups as the store grows" in svg
    assert "Paging one user" in svg
    assert "find_user_by_email: 6.5 → 6.5 µs" in svg
    assert paths[1].read_bytes().startswith(b"\x89PNG")
    # Drawn twice from the same run, the SVG is the same file (no date, fixed ids).
    again = write_chart(_scale(), machine, tmp_path / "again")[0].read_text()
    assert again == svg


def test_a_chart_needs_the_scale_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_args(["--chart", "out"]).chart == Path("out")
    with pytest.raises(SystemExit):
        parse_args(["--chart", "out", "--no-scale"])
    assert "needs --scale" in capsys.readouterr().err


# The fresh-store rows and the sign-in profile, on tiny plans (nothing timed is judged)


def test_every_fresh_store_row_does_a_tests_work_on_a_store_of_its_own(tmp_path: Path) -> None:
    from bench import fresh_store

    fresh = fresh_store.run_fresh_stores(tmp_path / "fresh", Plan(repeats=1, scale=0.01))

    assert set(fresh.results) | set(fresh.skipped) == set(fresh_store.ROWS)
    # Every used lite store holds the user, the identity and the session of a test's work.
    used = sorted((tmp_path / "fresh" / "lite_used").iterdir())
    assert len(used) == 3 + 5 * fresh_store.REPEATS_FACTOR  # warm-up, then a batch per repeat
    with lite.open(used[-1], create=False) as store:
        assert store.models.User.select().count() == 1
        assert store.models.SocialAccount.select().count() == 1
        assert store.models.Session.select().count() == 1
        assert store.secondary.get("oauth:state:bench") is not None
    # The floor's stores are lite's files, closed with their WAL checkpointed away.
    floor = sorted((tmp_path / "fresh" / "raw_floor").iterdir())[-1]
    assert sorted(p.name for p in floor.rglob("*")) == ["accounts.sqlite3", "cache", "cache.db"]
    assert (floor.stat().st_mode & 0o777, (floor / "accounts.sqlite3").stat().st_mode & 0o777) == (
        0o700,
        0o600,
    )
    with lite.open(floor, create=False) as store:
        assert store.accounts.find_user_by_email("ada@example.com") is not None
    # Both of lite's ways and the floor have a step table with every step of the work.
    assert set(fresh_store.USED_WORK) <= set(fresh.steps["lite"]) & set(fresh.steps["floor"])
    text = "\n".join(fresh_store.markdown_lines(fresh))
    assert "a test's work" in text
    assert "<= 0.25x the SQLModel stack" in text or "SQLModel" in fresh.skipped.get("sqlmodel", "")
    assert "<= 1.25x the raw floor" in text
    data = json.loads(json.dumps(fresh_store.to_json(fresh)))
    assert data["work"] == list(fresh_store.USED_WORK)


def test_the_floor_target_decides_when_the_floor_is_above_the_sqlmodel_target() -> None:
    from bench.fresh_store import FreshStores

    def m(us: float) -> Measurement:
        return Measurement(samples=[us], iterations=1)

    fresh = FreshStores(
        results={
            "lite_used": m(4.0),
            "fixture_used": m(4.4),
            "sqlmodel_used": m(10.0),
            "raw_floor": m(3.6),
        }
    )
    (_, worst_sqlmodel, _, sqlmodel), (_, worst_floor, _, floor) = fresh.verdicts()
    assert (sqlmodel, floor) == ("FLOOR", "PASS")
    assert worst_sqlmodel == pytest.approx(0.44)
    assert worst_floor == pytest.approx(4.4 / 3.6)
    assert fresh.verdict()[1] == "PASS"
    fresh.results["fixture_used"] = m(4.6)  # 1.28x the floor
    assert fresh.verdict()[1] == "MISS"
    fresh.results["raw_floor"] = m(2.0)  # the floor is within the SQLModel target: it decides
    assert fresh.verdicts()[0][3] == "MISS"


def test_a_fresh_store_ratio_is_taken_within_each_repeat() -> None:
    """A repeat the disk slowed for one row moves that repeat's ratio, not the median's."""
    from bench.fresh_store import FreshStores

    fresh = FreshStores(
        results={
            "lite_used": Measurement(samples=[10.0, 40.0, 30.0], iterations=1),
            "raw_floor": Measurement(samples=[10.0, 20.0, 10.0], iterations=1),
        }
    )
    assert fresh.ratio("lite_used", "raw_floor") == 2.0  # of 1, 2 and 3; not 30 / 10


def test_the_sign_in_profile_puts_time_in_every_part(tmp_path: Path) -> None:
    from bench import sign_in_profile

    profile = sign_in_profile.profile_sign_ins(tmp_path, Plan(repeats=1, scale=0.05))

    assert profile.sign_ins == 5
    assert all(profile.parts[part] > 0 for part in sign_in_profile.PARTS), profile.parts
    assert sum(profile.shares().values()) == pytest.approx(1.0)
    assert any(name.startswith("cross_auth_lite/") for name, _ in profile.ours)
    text = "\n".join(sign_in_profile.markdown_lines(profile))
    assert "| storage |" in text
    assert "| Cross-Auth |" in text


def test_functions_count_in_the_part_their_file_belongs_to() -> None:
    from bench.sign_in_profile import part_of

    site = "/venv/lib/python3.11/site-packages"
    assert part_of(f"{site}/cross_auth_lite/sessions/storage.py") == "storage"
    assert part_of(f"{site}/peewee.py") == "storage"
    assert part_of(f"{site}/cross_auth_lite/testing.py") == "provider"
    assert part_of(f"{site}/cross_auth_lite/dev/provider.py") == "provider"
    assert part_of(f"{site}/cross_auth/fastapi.py") == "Cross-Auth"
    assert part_of(f"{site}/starlette/routing.py") == "HTTP and framework"
