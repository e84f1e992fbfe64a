"""The built documentation site works opened from disk, offline: pages, links and search.

The site is built once for the module (``mkdocs build --strict``, as ``make
docs`` does); the search runs in the system's Chromium (``/usr/bin/chromium``)
with every request that is not a file refused, and is skipped without it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Route

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", directory],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
    )
    return directory


def test_no_page_loads_a_script_from_the_network(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        sources = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", page.read_text())
        remote = [source for source in sources if re.match(r"(https?:)?//", source)]
        assert remote == [], page
    # The search index is in a script of its own, which file:// pages can load.
    assert (site / "search" / "search_index.js").read_text().startswith("var __index = {")


def test_search_finds_a_command_on_the_site_opened_from_disk(site: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            refused: list[str] = []

            def offline(route: Route) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.goto((site / "index.html").as_uri())
            page.keyboard.press("/")  # Material's shortcut to the search field
            page.keyboard.type("rotate-key")
            results = page.locator(".md-search-result__item")
            results.first.wait_for(timeout=10_000)
            assert "rotate-key" in results.first.inner_text()
            assert "matching document" in page.locator(".md-search-result__meta").inner_text()
            assert refused == []
        finally:
            browser.close()
