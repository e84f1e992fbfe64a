"""The examples in ``examples/`` work, offline.

``github_app.py`` runs under ``TestClient`` with GitHub's HTTP mocked by ``respx``.
``desktop_signin.py`` runs as a subprocess with ``--dev --no-browser``; the test plays the
browser with httpx against its loopback server.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

import cross_auth_lite as lite

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: Seconds any one step of the desktop script may take before the test gives up.
STEP_TIMEOUT = 30


def load_example(name: str) -> ModuleType:
    """Import ``examples/{name}.py`` by path (``examples/`` is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# github_app.py


@pytest.fixture
def github_app() -> ModuleType:
    return load_example("github_app")


@pytest.fixture
def github() -> Iterator[respx.MockRouter]:
    """GitHub's token endpoint and API, as GitHubProvider calls them; nothing else gets out."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.post("https://github.com/login/oauth/access_token").respond(
            json={"access_token": "gho_test", "token_type": "bearer", "scope": "user:email"}
        )
        router.get("https://api.github.com/user").respond(
            json={"id": 583231, "login": "octocat", "name": None, "email": None}
        )
        router.get("https://api.github.com/user/emails").respond(
            json=[
                {"email": "old@example.com", "primary": False, "verified": True},
                {"email": "octocat@example.com", "primary": True, "verified": True},
            ]
        )
        yield router


def test_github_app_signs_in_and_out(
    github_app: ModuleType, github: respx.MockRouter, tmp_path: Path
) -> None:
    with lite.open(tmp_path / "store") as store:
        app = github_app.create_app(
            store, client_id="cid", client_secret="secret", base_url="http://testserver"
        )
        client = TestClient(app, base_url="http://testserver")
        assert "Sign in with GitHub" in client.get("/").text
        assert client.get("/me").status_code == 401

        login = client.get("/auth/github/login", follow_redirects=False)
        authorize = urlsplit(login.headers["location"])
        assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
            "https://github.com/login/oauth/authorize"
        )
        params = {key: values[0] for key, values in parse_qs(authorize.query).items()}
        assert params["client_id"] == "cid"
        assert params["redirect_uri"] == "http://testserver/auth/github/callback"

        # The person approves at GitHub, which sends the browser back with a code.
        callback = client.get(
            "/auth/github/callback",
            params={"code": "the-code", "state": params["state"]},
            follow_redirects=False,
        )
        assert callback.status_code in (302, 303), callback.text
        assert callback.headers["location"] == "/"

        # The code and the PKCE verifier reached GitHub's token endpoint.
        sent = parse_qs(github.calls[0].request.content.decode())
        assert sent["code"] == ["the-code"]
        digest = hashlib.sha256(sent["code_verifier"][0].encode()).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == (params["code_challenge"])

        me = client.get("/me")
        assert me.status_code == 200
        assert me.json()["email"] == "octocat@example.com"  # the primary address
        assert "Signed in as octocat@example.com" in client.get("/").text

        assert client.post("/sign-out", follow_redirects=False).status_code == 303
        assert client.get("/me").status_code == 401
        assert "Sign in with GitHub" in client.get("/").text


def test_github_app_without_credentials_exits_with_one_line(
    github_app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_CLIENT_ID", raising=False)
    monkeypatch.delenv("GITHUB_CLIENT_SECRET", raising=False)
    with pytest.raises(SystemExit) as exited:
        github_app.main()
    assert str(exited.value) == "error: GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must be set"
    with pytest.raises(SystemExit):
        _ = github_app.app  # what `uvicorn examples.github_app:app` asks for


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_github_app_served_by_uvicorn_logs_no_code_or_state(tmp_path: Path) -> None:
    """The example as a person runs it: uvicorn's access log shows no OAuth code or state."""
    port = _free_port()
    env = {
        **os.environ,
        "GITHUB_CLIENT_ID": "client-id",
        "GITHUB_CLIENT_SECRET": "client-secret",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "CROSS_AUTH_LITE_DATA": str(tmp_path / "store"),
    }
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "github_app.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with httpx.Client(base_url=env["BASE_URL"], timeout=5, trust_env=False) as client:
            deadline = time.monotonic() + STEP_TIMEOUT  # a loaded machine starts it slowly
            while True:
                try:
                    client.get("/")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("the example's server did not start")
                    time.sleep(0.05)
            client.get("/auth/github/callback?code=secret-code-42&state=secret-state-42")
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=STEP_TIMEOUT)
    assert "/auth/github/callback?code=…&state=…" in output, output
    assert "secret-code-42" not in output
    assert "secret-state-42" not in output


# desktop_signin.py


def test_app_data_dir_per_platform() -> None:
    data_dir = load_example("desktop_signin").app_data_dir
    home = Path.home()
    name = "cross-auth-lite-desktop-example"  # not the demo's folder
    assert data_dir("win32", {"APPDATA": r"C:\Users\a\AppData\Roaming"}) == Path(
        r"C:\Users\a\AppData\Roaming", name
    )
    assert data_dir("darwin", {}) == home / "Library" / "Application Support" / name
    assert data_dir("linux", {"XDG_DATA_HOME": "/xdg"}) == Path("/xdg", name)
    assert data_dir("linux", {"XDG_DATA_HOME": "relative"}) == home / ".local/share" / name
    assert data_dir("linux", {}) == home / ".local" / "share" / name


def desktop(data: Path, *args: str) -> list[str]:
    return [sys.executable, str(EXAMPLES / "desktop_signin.py"), "--data", str(data), *args]


def desktop_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


class Desktop:
    """A ``--dev --no-browser`` run of the desktop script, started and waiting for a sign-in."""

    def __init__(self, data: Path) -> None:
        self.process = subprocess.Popen(
            desktop(data, "--dev", "--no-browser", "--timeout", str(STEP_TIMEOUT)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=desktop_env(),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.login_url = self._printed_url()
        except BaseException:
            self.close()
            raise
        self.base_url = self.login_url.split("/auth/")[0]

    def _printed_url(self) -> str:
        while (line := self.lines.get(timeout=STEP_TIMEOUT)) is not None:
            self.output.append(line)
            if match := re.search(r"http://127\.0\.0\.1:\d+/\S+", line):
                return match.group()
        pytest.fail(f"no sign-in URL: {''.join(self.output)}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def finish(self) -> tuple[int, str]:
        """Wait for the script to end; return its exit status and its whole output."""
        self.process.wait(timeout=STEP_TIMEOUT)
        while (line := self.lines.get(timeout=STEP_TIMEOUT)) is not None:
            self.output.append(line)
        return self.process.returncode, "".join(self.output)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def desktop_run(tmp_path: Path) -> Iterator[Desktop]:
    run = Desktop(tmp_path / "data")
    try:
        yield run
    finally:
        run.close()


def browser() -> httpx.Client:
    return httpx.Client(timeout=STEP_TIMEOUT, headers={"Accept": "text/html"})


def consent(run: Desktop, form: dict[str, str]) -> tuple[int, str, str]:
    """Play the browser through the provider's consent page, submitting ``form`` there.

    Returns the script's exit status, its output and the page the browser ends on.
    """
    with browser() as client:
        page = client.get(run.login_url, follow_redirects=True)
        assert page.status_code == 200, page.text
        # The consent form posts back the authorization request plus the identity.
        done = client.post(
            str(page.url.copy_with(query=None)),
            data={**dict(page.url.params), **form},
            follow_redirects=True,
        )
        assert done.url.path == "/done"
        assert not client.cookies  # the browser keeps no session
    return (*run.finish(), done.text)


def run_desktop(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        desktop(data, *args),
        capture_output=True,
        text=True,
        env=desktop_env(),
        timeout=STEP_TIMEOUT,
        check=False,
    )


GRACE = {"name": "Grace", "email": "grace@example.com", "sub": "dev-grace", "email_verified": "on"}


def test_desktop_signs_in_welcomes_back_and_signs_out(
    desktop_run: Desktop, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    status, output, page = consent(desktop_run, GRACE)
    assert status == 0, output
    assert "Signed in as grace@example.com." in output
    assert "<title>Signed in</title>" in page
    assert "You can close this tab." in page
    token_file = data / "session-token"
    if os.name == "posix":
        assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text()

    again = run_desktop(data)  # no --dev, no GitHub settings: the saved session is enough
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Welcome back, grace@example.com."

    out = run_desktop(data, "--sign-out")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Signed out."
    assert not token_file.exists()
    with lite.open(data / "auth") as store:  # the session is revoked, not just forgotten
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        assert store.sessions.get(token_hash=token_hash, now=datetime.now(UTC)) is None
    assert run_desktop(data, "--sign-out").stdout.strip() == "Not signed in."


def test_desktop_reports_a_cancelled_sign_in(desktop_run: Desktop, tmp_path: Path) -> None:
    status, output, page = consent(desktop_run, {"decision": "deny"})
    assert status == 1
    assert output.endswith("error: sign-in failed: it was cancelled at the provider\n")
    assert "<title>Sign-in failed</title><body" in page
    assert "<p>The sign-in did not complete: it was cancelled at the provider.</p>" in page
    assert "<p>You can close this tab.</p>" in page
    assert "access_denied" not in page
    assert not (tmp_path / "data" / "session-token").exists()


def test_desktop_prints_a_hostile_failure_as_plain_text(desktop_run: Desktop) -> None:
    # Whatever reaches the loopback port can end the sign-in with words of its own.
    hostile = "\x1b[2J\x1b]0;owned\x07Evil\r\nerror: fake\x9b31m\u202e<b>x</b>" + "A" * 1000
    with browser() as client:
        page = client.get(
            f"{desktop_run.base_url}/done",
            params={"error": "server_error", "error_description": hostile},
        )
    assert page.status_code == 400
    assert "<b>" not in page.text  # the page escapes it
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text
    status, output = desktop_run.finish()
    assert status == 1
    printed = "?[2J?]0;owned?Evil??error: fake?31m?<b>x</b>" + "A" * 153 + "..."
    assert len(printed) == 200
    assert output.endswith(f"error: sign-in failed: {printed}\n"), output
    assert all(line.isprintable() for line in output.splitlines())


def test_desktop_logs_and_prints_a_forged_callback_as_plain_text(desktop_run: Desktop) -> None:
    # No state needed: Cross-Auth logs a callback's error and redirects it to /done itself.
    with browser() as client:
        page = client.get(
            f"{desktop_run.base_url}/auth/dev/callback",
            params={"error": "\x1b[31mred"},
            follow_redirects=True,
        )
    assert page.url.path == "/done"
    status, output = desktop_run.finish()
    assert status == 1
    assert "\x1b" not in output
    assert ":OAuth error: ?[31mred\n" in output
    assert output.endswith("error: sign-in failed: Authorization failed: ?[31mred\n"), output


def test_desktop_keeps_waiting_after_a_visit_that_ended_no_sign_in(
    desktop_run: Desktop,
) -> None:
    with browser() as client:
        for query in ("", "?error_description=made+up", "?error="):
            page = client.get(f"{desktop_run.base_url}/done{query}")
            assert (page.status_code, page.text) == (400, "No sign-in to finish here.")
    status, output, _ = consent(desktop_run, GRACE)
    assert status == 0, output
    assert "Signed in as grace@example.com." in output


def test_desktop_says_a_forged_cancel_in_its_own_words(desktop_run: Desktop) -> None:
    with browser() as client:
        page = client.get(
            f"{desktop_run.base_url}/done",
            params={"error": "access_denied", "error_description": "\x1b[31mcall 555-0100"},
        )
    assert page.status_code == 400
    assert "555" not in page.text
    status, output = desktop_run.finish()
    assert status == 1
    assert output.endswith("error: sign-in failed: it was cancelled at the provider\n"), output
    assert "555" not in output


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "soon"])
def test_desktop_refuses_a_timeout_that_is_not_a_positive_number(
    tmp_path: Path, timeout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # In process: argparse refuses before the example starts anything.
    main = load_example("desktop_signin").main
    with pytest.raises(SystemExit) as exited:
        main(["--data", str(tmp_path / "data"), "--dev", "--no-browser", "--timeout", timeout])
    assert exited.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    reason = (
        "not a number of seconds: 'soon'"
        if timeout == "soon"
        else (f"must be a positive number of seconds, not {timeout}")
    )
    assert printed.err.endswith(f"error: argument --timeout: {reason}\n"), printed.err
    assert not (tmp_path / "data").exists()  # refused before anything is made


def test_desktop_without_github_settings_exits_with_one_line(tmp_path: Path) -> None:
    result = run_desktop(tmp_path / "data", "--no-browser")
    assert result.returncode == 1
    assert result.stderr == "error: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, or use --dev\n"
