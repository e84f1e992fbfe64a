"""The pytest plugin is loaded from the package's entry point, without any conftest."""

from __future__ import annotations

import pytest

APP_TESTS = """
import pytest


def test_fixtures_share_one_fresh_store(lite_store, lite_secondary, lite_accounts, lite_sessions):
    assert lite_store.secondary is lite_secondary
    assert lite_store.accounts is lite_accounts
    assert lite_store.sessions is lite_sessions
    assert lite_accounts.find_user_by_email("ada@example.com") is None
    lite_accounts.create_user(user_info={"email": "ada@example.com"})
    lite_secondary.set("k", "v")


def test_next_test_starts_empty(lite_accounts, lite_secondary):
    assert lite_accounts.find_user_by_email("ada@example.com") is None
    assert lite_secondary.get("k") is None


@pytest.mark.lite_store(shared_connections=True, default_ttl=60)
def test_marker_options(lite_store):
    assert lite_store.shared_connections is True
    assert lite_store.secondary.default_ttl == 60


seen = []


def test_remember_a_store(lite_store):
    seen.append(lite_store)


def test_that_store_was_closed_after_its_test():
    assert seen[0].closed


def test_each_test_gets_a_new_store_of_its_own(lite_store):
    assert lite_store.created
    assert lite_store.path != seen[0].path
    assert "-test_each_test_gets_a_new" in lite_store.path.name
    assert not lite_store.closed
    assert lite_store.housekeeper is not None and not lite_store.housekeeper.running
"""


def test_fixtures_come_from_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=APP_TESTS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")

    result.assert_outcomes(passed=6, errors=0)


def test_a_marker_option_lite_open_does_not_take_is_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app="""
import pytest


@pytest.mark.lite_store(bogus=1)
def test_bogus(lite_store):
    pass


@pytest.mark.lite_store(True)
def test_positional(lite_store):
    pass


@pytest.mark.lite_store(path="elsewhere")
def test_path(lite_store):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(errors=3)
    output = result.stdout.str()
    assert (
        "@pytest.mark.lite_store: unknown option bogus; it takes the keywords of lite.open()"
        in output
    )
    assert "@pytest.mark.lite_store: takes keyword options only" in output
    assert "@pytest.mark.lite_store: unknown option path;" in output
    assert "open_store" not in output
