"""The README's Python examples run as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.pg_server import PostgresServer
from tests.test_cli_support import seed

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def _block(containing: str) -> str:
    matches = [block for block in BLOCKS if containing in block]
    assert len(matches) == 1, containing
    return matches[0]


def test_the_one_call_setup_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(_block("GitHubProvider(client_id"), namespace)
    store = namespace["store"]
    assert (tmp_path / "var" / "auth" / "accounts.sqlite3").is_file()
    assert oct((tmp_path / "var" / "auth").stat().st_mode & 0o777) == "0o700"
    store.close()  # type: ignore[attr-defined]


def test_the_bring_your_own_models_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(_block("PeeweeAccountsStorage(User, SocialAccount)"), namespace)
    db = namespace["db"]
    db.create_tables([namespace["User"], namespace["SocialAccount"]])  # type: ignore[attr-defined]
    accounts = namespace["accounts"]
    user = accounts.create_user(user_info={"email": "ada@example.com"})  # type: ignore[attr-defined]
    assert accounts.find_user_by_id(str(user.id)).email == "ada@example.com"  # type: ignore[attr-defined]
    assert os.path.isfile(tmp_path / "app.sqlite3")


def test_the_export_import_and_copy_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(tmp_path / "var" / "auth")
    block = _block("lite.copy_store(source, pg)")
    with postgres_server.schema_url() as url:
        exec(block.replace("postgresql://auth@db.internal/auth", url), {})
    assert (tmp_path / "auth-export.json").stat().st_mode & 0o777 == 0o600
