"""The demo app, driven like a person would: follow links, fill in forms.

``Browser`` reads each page's links and forms with ``html.parser`` and
submits them as a browser would, over ``TestClient`` (in process) or over
real HTTP to ``python -m cross_auth_lite.demo`` started as a subprocess.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient

import cross_auth_lite as lite
from cross_auth_lite.demo import create_app
from cross_auth_lite.demo.server import CREATED_MARKER
from cross_auth_lite.dev import DEFAULT_IDENTITY

BASE = "http://testserver"
HTML_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
SERVER_START_TIMEOUT = 20.0

# Reading pages


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text


class Page(HTMLParser):
    """Links, forms and the text of elements with an id, from one HTML page."""

    VOID = frozenset({"input", "meta", "br", "img", "link", "hr"})

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.forms: list[Form] = []
        self.by_id: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []  # tag, id
        self._link: list[str] | None = None
        self._button: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self._link = [a["href"]]
        elif tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in a:
            kind = a.get("type", "text")
            if kind != "checkbox" or "checked" in a:
                default = "on" if kind == "checkbox" else ""
                self.forms[-1].fields[a["name"]] = a.get("value", default)
        elif tag == "button" and self.forms:
            self._button = [a.get("name", ""), a.get("value", "")]
        if tag not in self.VOID:
            self._open.append((tag, a.get("id")))
            if a.get("id"):
                self.by_id[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], "".join(self._link[1:]).strip()))
            self._link = None
        elif tag == "button" and self._button is not None:
            name, value, *text = self._button
            self.forms[-1].buttons.append((name, value, "".join(text).strip()))
            self._button = None
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for target in (self._link, self._button):
            if target is not None:
                target.append(data)
        for _, element_id in self._open:
            if element_id:
                self.by_id[element_id] += data

    def text(self, element_id: str) -> str | None:
        return self.by_id.get(element_id)


class Browser:
    """Follows links and submits forms over any httpx client, remembering the page."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.response: httpx.Response | None = None

    @property
    def url(self) -> str:
        assert self.response is not None
        return str(self.response.url)

    @property
    def page(self) -> Page:
        assert self.response is not None
        return Page(self.response.text)

    @property
    def text(self) -> str:
        assert self.response is not None
        return self.response.text

    def go(self, url: str) -> httpx.Response:
        target = url if self.response is None else urljoin(self.url, url)
        self.response = self.client.get(target, headers={"Accept": HTML_ACCEPT})
        return self.response

    def click(self, link_text: str) -> httpx.Response:
        hrefs = [href for href, text in self.page.links if text == link_text]
        assert hrefs, f"no link {link_text!r} on {self.url}: {self.page.links}"
        return self.go(hrefs[0])

    def submit(
        self,
        *,
        action: str = "",
        button: str | None = None,
        unset: tuple[str, ...] = (),
        **values: str,
    ) -> httpx.Response:
        """Submit the first form whose action contains ``action``, pressing ``button``.

        ``values`` fill in fields; ``unset`` leaves fields out (an unticked checkbox).
        """
        forms = [f for f in self.page.forms if action in f.action]
        assert forms, f"no form with action {action!r} on {self.url}"
        form = forms[0]
        data = {k: v for k, v in {**form.fields, **values}.items() if k not in unset}
        if button is not None:
            pressed = [b for b in form.buttons if b[2] == button]
            assert pressed, f"no button {button!r} in {form.buttons}"
            if pressed[0][0]:
                data[pressed[0][0]] = pressed[0][1]
        url = urljoin(self.url, form.action or self.url)
        assert form.method == "post"
        self.response = self.client.post(url, data=data, headers={"Accept": HTML_ACCEPT})
        return self.response

    def sign_in(self, **identity: str) -> httpx.Response:
        """Home, Sign in, the provider's form (prefilled, ``identity`` edits it), submit."""
        self.go("/")
        self.click("Sign in")
        assert "/dev-oauth/authorize" in self.url, self.url
        return self.submit(action="/dev-oauth/authorize", button="Sign in", **identity)

    def session_ids(self) -> list[str]:
        return re.findall(r'data-session-id="([^"]+)"', self.text)


def signed_in_email(browser: Browser) -> str | None:
    browser.go("/")
    return browser.page.text("signed-in-email")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "demo-data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[lite.LiteStore]:
    with lite.open(data_dir) as opened:
        yield opened


@pytest.fixture
def app(store: lite.LiteStore) -> FastAPI:
    return create_app(store, base_url=BASE)


@pytest.fixture
def no_network() -> Iterator[respx.MockRouter]:
    """Requests through httpx's network transport raise: a sign-in needing one would fail."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@contextmanager
def browser_for(app: FastAPI) -> Iterator[Browser]:
    with TestClient(app, base_url=BASE) as client:
        yield Browser(client)


# In process: TestClient


@pytest.mark.usefixtures("no_network")
def test_a_person_signs_in_manages_sessions_and_signs_out(
    app: FastAPI, store: lite.LiteStore
) -> None:
    with browser_for(app) as alice:
        alice.go("/")
        assert alice.page.text("signed-in-email") is None
        assert "You are signed out." in alice.text

        alice.click("Sign in")
        form = alice.page.forms[0]
        assert form.fields["email"] == DEFAULT_IDENTITY.email
        assert form.fields["name"] == DEFAULT_IDENTITY.name
        assert form.fields["sub"] == DEFAULT_IDENTITY.sub
        alice.submit(action="/dev-oauth/authorize", button="Sign in")
        assert alice.response is not None
        assert alice.response.status_code == 200
        assert alice.url == f"{BASE}/"
        assert alice.page.text("signed-in-email") == DEFAULT_IDENTITY.email

        alice.click("Profile")
        assert alice.text.count('class="account"') == 1
        assert DEFAULT_IDENTITY.sub in alice.text
        assert len(alice.session_ids()) == 1
        assert "this browser" in alice.text
        (own_session,) = alice.session_ids()

        # The same person signs in from a second browser: a second session.
        with browser_for(app) as laptop:
            laptop.sign_in()
            assert signed_in_email(laptop) == DEFAULT_IDENTITY.email
            alice.go("/profile")
            assert len(alice.session_ids()) == 2
            (other,) = set(alice.session_ids()) - {own_session}
            alice.submit(action=f"/sessions/{other}/revoke", button="Revoke")
            assert alice.url == f"{BASE}/profile"
            assert alice.session_ids() == [own_session]
            assert signed_in_email(laptop) is None  # the laptop is signed out
        assert store.sessions.get_any(other).revoked_at is not None

        alice.go("/")
        alice.click("Sign out")
        alice.submit(action="/sign-out", button="Sign out")
        assert alice.url == f"{BASE}/"
        assert alice.page.text("signed-in-email") is None
        assert "You are signed out." in alice.text
        assert store.sessions.get_any(own_session).revoked_at is not None
        alice.go("/profile")
        assert alice.url == f"{BASE}/"  # the profile now sends you home


def test_the_profile_asks_a_browser_that_never_signed_in_to_sign_in(data_dir: Path) -> None:
    with lite.open(data_dir) as store, browser_for(create_app(store, base_url=BASE)) as b:
        b.go("/profile")
        assert b.url == f"{BASE}/"
        assert b.page.text("problem") == "Sign in to see your profile."
        b.go("/")  # shown once
        assert b.page.text("problem") is None


def test_the_data_persists_in_the_directory(data_dir: Path) -> None:
    with lite.open(data_dir) as store, browser_for(create_app(store, base_url=BASE)) as b:
        b.sign_in(name="Grace Hopper", email="grace@example.com", sub="dev-grace")
        assert b.page.text("signed-in-email") == "grace@example.com"

    with lite.open(data_dir) as reopened:
        user = reopened.accounts.find_user_by_email("grace@example.com")
        assert user is not None
        (account,) = reopened.accounts.list_social_accounts(user_id=user.id)
        assert (account.provider, account.provider_user_id) == ("dev", "dev-grace")
        # A new app on the reopened store: signing in again finds the same user,
        # whose first session survived the restart beside the new one.
        with browser_for(create_app(reopened, base_url=BASE)) as b:
            b.sign_in(email="grace@example.com", sub="dev-grace")
            b.go("/profile")
            assert len(b.session_ids()) == 2
            assert b.text.count('class="account"') == 1


# Out of process: the real server over real HTTP


@contextmanager
def demo_server(
    data: Path, *, cwd: Path, options: tuple[str, ...] = ()
) -> Iterator[tuple[str, list[str]]]:
    """Run ``python -m cross_auth_lite.demo`` on a free port; yield its URL and output.

    ``options`` are more command-line options (``--workers 4``).

    ``--port 0`` lets the OS pick the port (no race with other processes);
    the URL is read from the banner the demo prints once it is listening.
    The process is always stopped, within bounded time.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "cross_auth_lite.demo"),
            *("--data", str(data), "--port", "0", *options),
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not output or "Ctrl+C" not in output[-1]:  # the end of the banner
            remaining = deadline - time.monotonic()
            assert remaining > 0, "demo did not start:\n" + "".join(output)
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, "demo exited:\n" + "".join(output)
            output.append(line)
        found = re.search(r"open\s+(http://\S+?)/?\n", "".join(output))
        assert found, "no URL in the banner:\n" + "".join(output)
        yield found.group(1), output
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        while True:  # collect what is left of the output
            try:
                line = lines.get(timeout=2)
            except queue.Empty:
                break
            if line is None:
                break
            output.append(line)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_real_server_signs_a_person_in_over_http(tmp_path: Path) -> None:
    data = tmp_path / "served"
    with demo_server(data, cwd=tmp_path) as (url, output):
        assert f"data  {data.resolve()}" in "".join(output)
        # trust_env=False: no proxy from the environment between us and localhost.
        with httpx.Client(base_url=url, follow_redirects=True, timeout=10, trust_env=False) as c:
            b = Browser(c)
            b.go(f"{url}/")
            assert b.response is not None
            assert b.response.status_code == 200
            signed_in = b.sign_in(name="Lin", email="lin@example.com", sub="dev-lin")
            assert b.url == f"{url}/"
            callback = next(r for r in signed_in.history if "/callback" in r.url.path)
            oauth = parse_qs(urlsplit(str(callback.url)).query)
            assert b.page.text("signed-in-email") == "lin@example.com"
            b.click("Profile")
            assert len(b.session_ids()) == 1
            b.go("/sign-out")
            b.submit(action="/sign-out", button="Sign out")
            assert b.page.text("signed-in-email") is None
    log = "".join(output)
    assert "Finished server process" in log  # a clean, graceful stop
    # The access log keeps the callback's parameter names, never the code or state.
    assert "/auth/dev/callback?code=…&state=…" in log
    assert oauth["code"][0] not in log
    assert oauth["state"][0] not in log
    with lite.open(data) as store:
        assert store.accounts.find_user_by_email("lin@example.com") is not None
    assert (data / CREATED_MARKER).is_file()  # made by the demo: `make clean` may remove it


def test_the_cli_reports_a_busy_port(tmp_path: Path) -> None:
    with demo_server(tmp_path / "first", cwd=tmp_path) as (url, _):
        port = urlsplit(url).port
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cross_auth_lite.demo",
                "--data",
                "second",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert (
        "; another server is using it: stop it or choose another port with --port "
        f"(make demo PORT={port + 1})\n"
    ) in result.stderr
