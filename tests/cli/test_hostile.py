"""Whatever arguments arrive, the CLI answers with an exit status and at most one error line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cross_auth_lite as lite
from cross_auth_lite.cli import main
from tests.factories import signup

COMMANDS = [
    "init",
    "stats",
    "purge",
    "check",
    "backup",
    "users",
    "list",
    "show",
    "create",
    "delete",
    "sessions",
    "revoke",
    "export",
    "import",
    "copy",
    "generate-key",
    "rotate-key",
]
OPTIONS = [
    "--json",
    "--limit",
    "--status",
    "--user",
    "--email-contains",
    "--verified",
    "--yes",
    "--older-than",
    "--output",
    "--to",
    "--key",
    "--force",
    "--shared-connections",
]
HOSTILE = st.one_of(
    st.sampled_from(COMMANDS + OPTIONS),
    st.text(max_size=30),
    st.sampled_from(["-1", "0", "1e400", "nan", "'; DROP TABLE users; --", "\x00", "\ud800x"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store named by ``$CROSS_AUTH_LITE_DATA``, run from a directory of its own."""
    monkeypatch.chdir(tmp_path)  # anything a command writes stays in here
    monkeypatch.setenv("CROSS_AUTH_LITE_DATA", str(tmp_path / "store"))
    with lite.open(tmp_path / "store") as store:
        signup(store.accounts, "ada@example.com", "gh-1")
    return tmp_path / "store"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(arguments=st.lists(HOSTILE, min_size=1, max_size=5))
def test_hostile_arguments_never_escape_as_tracebacks(
    data: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> None:
    if "demo" in arguments:
        return  # would serve forever
    code = main(["--data", str(data), *arguments])
    err = capsys.readouterr().err

    assert isinstance(code, int)
    assert "Traceback" not in err
    if code != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, f"exit {code} without a message for {arguments!r}"
        assert lines[-1].startswith("cross-auth-lite: error:"), err
    with lite.open(data) as store:  # the store is still sound
        check = store.database.execute_sql("PRAGMA integrity_check").fetchone()[0]
        assert check == "ok"
    assert os.environ["CROSS_AUTH_LITE_DATA"] == str(data)
