"""The demo served by several worker processes, and its one set of command-line options.

``--workers 4`` runs gunicorn with four uvicorn workers as a real subprocess;
sign-ins over loopback, a new connection for every request, land on
different workers and must all succeed: the development provider's codes
live in the store's cache, which every worker opens.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import cross_auth_lite as lite
from cross_auth_lite.cli import main as cli_main
from cross_auth_lite.demo.__main__ import main as demo_main
from tests.test_demo import Browser, demo_server

SIGN_INS = 20
WORKERS = 4


def _fresh_connections(url: str) -> httpx.Client:
    # No keep-alive: every request is a new TCP connection, accepted by any worker.
    return httpx.Client(
        base_url=url,
        follow_redirects=True,
        timeout=10,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def test_sign_ins_succeed_whichever_worker_each_request_reaches(tmp_path: Path) -> None:
    data = tmp_path / "served"
    secrets_seen: list[str] = []
    with demo_server(data, cwd=tmp_path, options=("--workers", str(WORKERS))) as (url, output):
        assert f"workers  {WORKERS} processes" in "".join(output)
        for n in range(SIGN_INS):
            with _fresh_connections(url) as client:
                browser = Browser(client)
                response = browser.sign_in(email=f"user{n}@example.com", sub=f"dev-user{n}")
                assert response.status_code == 200, response.text
                assert browser.page.text("signed-in-email") == f"user{n}@example.com"
                callback = next(r for r in response.history if "/callback" in r.url.path)
                query = parse_qs(urlsplit(str(callback.url)).query)
                secrets_seen += [query["code"][0], query["state"][0]]
    log = "".join(output)  # complete once the server has stopped
    served_by = set(re.findall(r"^\[(\d+)\] \S+ - \"GET /auth/dev/callback", log, re.M))
    assert len(served_by) > 1, log  # the callbacks reached more than one worker
    assert "/auth/dev/callback?code=…&state=…" in log
    assert not [secret for secret in secrets_seen if secret in log]
    assert "invalid_grant" not in log
    assert "Shutting down: Master" in log  # a clean stop on SIGTERM
    assert "SIGKILL" not in log  # every worker finished on its own
    with lite.open(data) as store:
        assert store.models.User.select().count() == SIGN_INS


def _options_section(help_text: str) -> str:
    return help_text[help_text.index("options:") :]


def test_the_cli_and_the_module_take_the_same_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["demo", "--help"]) == 0
    cli_help = capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        demo_main(["--help"])
    assert done.value.code == 0
    module_help = capsys.readouterr().out
    assert _options_section(cli_help) == _options_section(module_help)
    for option in ("--data DIR", "--host", "--port", "--base-url URL", "--workers N"):
        assert option in module_help
    assert "default: var/demo" in module_help


def test_without_the_demo_extra_the_module_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    # As if FastAPI were not installed: the server module imports the app, which needs it.
    monkeypatch.setitem(sys.modules, "fastapi", None)
    for name in ("cross_auth_lite.demo.server", "cross_auth_lite.demo.app"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert demo_main(["--data", "d", "--port", "0"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: the demo is not available (no module 'fastapi'); "
        "run: pip install 'cross-auth-lite[demo]'"
    ]
    assert not (tmp_path / "d").exists()


def test_a_store_that_cannot_be_opened_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "afile").write_text("not a directory")

    assert demo_main(["--data", str(tmp_path / "afile"), "--port", "0"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {tmp_path / 'afile'} exists and is not a directory"
    ]
    assert (tmp_path / "afile").read_text() == "not a directory"


def test_the_module_refuses_a_bad_worker_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        demo_main(["--workers", "0"])
    assert done.value.code == 2
    assert "--workers: must be between 1 and 64, not 0" in capsys.readouterr().err


def test_a_usage_error_of_the_module_entry_point_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cross_auth_lite.demo", "--port", "abc"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: argument --port: expected a port number")
