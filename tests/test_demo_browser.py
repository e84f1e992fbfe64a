"""The demo in a real browser: headless Chromium, driven by Playwright.

Starts ``python -m cross_auth_lite.demo`` as a subprocess and clicks through
it: Sign in, the development provider's form, the profile, revoking another
browser's session, signing out. Uses the system's Chromium
(``/usr/bin/chromium``; Debian: ``apt-get install chromium``), never a
browser downloaded by ``playwright install``; skipped when either Chromium
or the ``playwright`` package is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.test_demo import demo_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} not found (Debian: apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One demo server for the module (each test signs in its own people)."""
    data = tmp_path_factory.mktemp("demo")
    with demo_server(data / "data", cwd=data) as (url, _):
        yield url


def new_page(browser: Browser) -> Page:
    return new_page_in(browser.new_context())


def new_page_in(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    return page


def sign_in(page: Page, url: str, *, email: str, sub: str) -> None:
    page.goto(f"{url}/")
    page.click("#sign-in")
    page.wait_for_url("**/dev-oauth/authorize?**")
    page.fill("#email", email)
    page.fill("#sub", sub)
    page.click("#allow")
    page.wait_for_url(f"{url}/")


def test_sign_in_revoke_and_sign_out_in_chromium(browser: Browser, server_url: str) -> None:
    page = new_page(browser)
    page.goto(f"{server_url}/")
    assert page.is_visible("text=You are signed out.")

    page.click("text=Sign in")
    page.wait_for_url("**/dev-oauth/authorize?**")
    assert page.input_value("#email") == "ada@example.com"
    page.fill("#name", "Grace Hopper")
    page.fill("#email", "grace@example.com")
    page.fill("#sub", "dev-grace")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server_url}/")
    assert page.inner_text("#signed-in-email") == "grace@example.com"

    page.click("text=Profile and sessions")
    page.wait_for_url(f"{server_url}/profile")
    assert page.locator("tr.account").count() == 1
    assert page.locator("tr.session").count() == 1
    assert page.is_visible("text=this browser")

    # A second browser (its own cookie jar) signs in as the same person.
    other = new_page(browser)
    sign_in(other, server_url, email="grace@example.com", sub="dev-grace")
    assert other.inner_text("#signed-in-email") == "grace@example.com"

    page.reload()
    assert page.locator("tr.session").count() == 2
    page.locator("tr.session", has_not_text="this browser").locator("button").click()
    page.wait_for_url(f"{server_url}/profile")
    assert page.locator("tr.session").count() == 1

    other.reload()
    assert other.is_visible("text=You are signed out.")

    page.click("nav >> text=Sign out")
    page.wait_for_url(f"{server_url}/sign-out")
    page.click("#confirm-sign-out")
    page.wait_for_url(f"{server_url}/")
    assert page.is_visible("text=You are signed out.")
    assert page.locator("#signed-in-email").count() == 0


#: Browsers whose sessions the profile lists: the longest name the demo gives one,
#: and an unknown browser (its name cut short, the whole User-Agent in a tooltip).
LONG_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/126.0.6478.126 Safari/537.36",
    "ExampleEmbeddedBrowserWithAVeryLongName/99.1 (" + "x" * 120 + ")",
)


def long_email(width: int) -> str:
    """An email as long as real ones get (86 characters), unique to ``width``."""
    email = (
        f"maximilian.alexander.mustermann.w{width:04d}"
        "@international-sales.very-long-example-company.de"
    )
    assert len(email) == 86
    return email


#: Why the page does not fit: it scrolls sideways, the header's brand or links
#: wrap or are cut, a label (a table heading, a button) breaks inside a word, a
#: table runs past its card, or (wider than a phone) a browser's name wraps.
_LAYOUT_PROBLEMS = """() => {
  const problems = [];
  for (const table of document.querySelectorAll(".card table")) {
    const card = table.closest(".card");
    const style = getComputedStyle(card);
    const edge = card.getBoundingClientRect().right - parseFloat(style.borderRightWidth)
      - parseFloat(style.paddingRight);
    const right = table.getBoundingClientRect().right;
    if (right > edge + 0.5) problems.push(`a table runs ${right - edge}px past its card`);
  }
  for (const cell of document.querySelectorAll("td[data-label=Browser] > span")) {
    const range = document.createRange();
    range.selectNodeContents(cell.firstChild);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (window.innerWidth > 640 && lines.size > 1) {
      problems.push(`"${cell.firstChild.textContent}" takes ${lines.size} lines`);
    }
  }
  for (const label of document.querySelectorAll("th, button, .button, label")) {
    const words = label.textContent.trim().split(/[\\s-]+/).filter(Boolean).length;
    const range = document.createRange();
    range.selectNodeContents(label);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (words && lines.size > words) problems.push(`"${label.textContent}" breaks in a word`);
  }
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`scrollWidth ${document.documentElement.scrollWidth} > ${width}`);
  }
  const links = [...document.querySelectorAll("header a")];
  for (const a of links) {
    if (a.getClientRects().length !== 1) problems.push(`"${a.textContent}" wraps`);
    if (a.scrollWidth > a.clientWidth + 1) problems.push(`"${a.textContent}" is cut`);
  }
  const middles = links.map((a) => {
    const box = a.getBoundingClientRect();
    return box.top + box.height / 2;
  });
  if (Math.max(...middles) - Math.min(...middles) > 4) {
    problems.push("the header takes more than one line");
  }
  return problems;
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_the_screen_with_a_one_line_header(
    browser: Browser, server_url: str, width: int
) -> None:
    url = server_url
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    seen: dict[str, list[str]] = {}

    def check(name: str) -> None:
        seen[name] = page.evaluate(_LAYOUT_PROBLEMS)

    email, sub = long_email(width), f"dev-w{width}"
    page.goto(f"{url}/")
    check("home")
    page.click("#sign-in")
    page.wait_for_url("**/dev-oauth/authorize?**")
    check("consent")
    page.fill("#email", email)
    page.fill("#sub", sub)
    page.click("#allow")
    page.wait_for_url(f"{url}/")
    assert page.inner_text("#greeting") == "Welcome"
    check("welcome")

    for agent in LONG_USER_AGENTS:  # more sessions, from browsers with long names
        elsewhere = browser.new_context(user_agent=agent)
        sign_in(new_page_in(elsewhere), url, email=email, sub=sub)
        elsewhere.close()
    page.goto(f"{url}/profile")
    assert page.locator("tr.session").count() == 3
    assert page.locator("tr.session", has_text="Headless Chrome on Windows").count() == 1
    page.click("a:has-text('Link another identity')")
    page.wait_for_url("**/dev-oauth/authorize?**")
    page.fill("#sub", f"{sub}-linked")
    page.click("#allow")
    page.wait_for_url(f"{url}/profile")
    assert page.locator("tr.account").count() == 2
    assert page.locator("tr.account", has_text="linked only").count() == 1
    check("profile")

    page.locator("tr.account", has_text="linked only").locator("button").click()
    page.wait_for_url(f"{url}/profile")
    assert page.inner_text("#done") == (
        f"Identity unlinked: the dev identity \u201c{sub}-linked\u201d is no longer linked "
        "to your account."
    )
    assert page.locator("tr.account").count() == 1
    # The last way to sign in has no Unlink button; a page from before would post this.
    assert page.locator("tr.account button").count() == 0
    assert page.inner_text("tr.account .last-way") == "Cannot be unlinked"
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          const id = document.querySelector("tr.account").dataset.accountId;
          form.method = "post";
          form.action = `/accounts/${id}/unlink`;
          document.body.append(form);
          form.submit();
        }"""
    )
    page.wait_for_selector("#problem")
    assert "only way to sign in" in page.inner_text("#problem")
    check("profile refusing an unlink")

    page.goto(f"{url}/sign-out")
    check("sign-out")
    response = page.goto(f"{url}/no-such-page")
    assert response is not None
    assert response.status == 404
    assert page.inner_text("h1") == "404 Not Found"
    check("404")
    context.close()
    assert seen == {name: [] for name in seen}
