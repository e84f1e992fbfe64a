"""Names that moved still work where they were, for one release, with a warning that says where."""

from __future__ import annotations

import pickle
import warnings

import pytest

import cross_auth_lite as lite

# A sample of what the top level exported before ``cross_auth_lite.admin``.
FORMER_TOP_LEVEL = ["check_store", "find_user", "STORE_TABLES", "Housekeeper", "parse_keys"]


@pytest.mark.parametrize("name", FORMER_TOP_LEVEL)
def test_a_name_that_moved_to_admin_still_resolves_and_says_where_it_went(name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"use cross_auth_lite\.admin\.{name}$"):
        value = getattr(lite, name)
    assert value is getattr(lite.admin, name)
    assert name not in lite.__all__
    assert name not in dir(lite)


def test_from_import_of_a_moved_name_warns_once_at_the_importing_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from cross_auth_lite import create_user  # noqa: F401
    assert [str(w.message) for w in caught] == [
        "cross_auth_lite.create_user is deprecated: use cross_auth_lite.admin.create_user"
    ]
    assert caught[0].filename == __file__


def test_the_command_lines_wording_helpers_say_they_are_going() -> None:
    with pytest.warns(
        DeprecationWarning, match="plural is deprecated: it goes in the next release"
    ):
        assert lite.plural(2, "session") == "2 sessions"  # type: ignore[attr-defined]


def test_a_name_that_never_was_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        lite.nothing_here  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError):
        from cross_auth_lite.sessions import nothing_here  # type: ignore[attr-defined]  # noqa: F401


@pytest.mark.parametrize(
    ("package", "name", "instead"),
    [
        ("sessions", "SessionPage", lite.SessionPage),
        ("sessions", "PeeweeSessionStorage", lite.PeeweeSessionStorage),
        ("accounts", "PeeweeAccountsStorage", lite.PeeweeAccountsStorage),
        ("store", "LiteStore", lite.LiteStore),
        ("store", "open_store", lite.open),
        ("housekeeping", "HousekeepingSettings", lite.HousekeepingSettings),
        ("database", "LiteSqliteDatabase", lite.LiteSqliteDatabase),
    ],
)
def test_a_module_that_became_a_package_still_gives_its_names(
    package: str, name: str, instead: object
) -> None:
    module = __import__(f"cross_auth_lite.{package}", fromlist=["_"])
    with pytest.warns(DeprecationWarning, match=f"cross_auth_lite.{package}.{name} is deprecated"):
        assert getattr(module, name) is instead


def test_a_result_pickled_under_the_old_module_still_loads() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 1, 2, tzinfo=UTC)
    result = lite.admin.HousekeepingResult(at, at, sessions=1, cache_entries=2, freed_bytes=3)
    new = pickle.dumps(result, protocol=0)
    assert b"ccross_auth_lite.housekeeping.settings\nHousekeepingResult" in new
    old = new.replace(
        b"cross_auth_lite.housekeeping.settings\n", b"cross_auth_lite.housekeeping\n"
    )
    with pytest.warns(DeprecationWarning, match="housekeeping.HousekeepingResult is deprecated"):
        assert pickle.loads(old) == result
