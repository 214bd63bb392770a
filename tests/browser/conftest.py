"""Real-browser fixtures: a `streamlit run app.py` server and Debian's chromium driven by Playwright.

Skipped only when chromium itself is missing on a developer machine; .ci/run installs it and sets
LOGITSCOPE_REQUIRE_BROWSER=1, so in CI a missing browser fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.server import serving

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LOGITSCOPE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def serve(log_name: str = "streamlit-server.log") -> Iterator[str]:
    """Base URL of a Streamlit server running app.py on a free loopback port, for the `with` block."""
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(ROOT, log_path=ARTIFACTS / log_name, timeout_s=90) as (url, _proc):
        yield url


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Base URL of the session's Streamlit server running app.py."""
    with serve() as url:
        yield url


@pytest.fixture
def fresh_app_url() -> Iterator[str]:
    """A server of its own that no browser has visited yet (for what a process does on its first visit)."""
    with serve("streamlit-server-fresh.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        message = f"chromium not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("LOGITSCOPE_REQUIRE_BROWSER"):  # CI: a missing browser is a failure, not a skip
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (own context) with a desktop-sized viewport."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def wait_for_app(page, *, timeout_ms: int = 120_000) -> None:
    """Wait until the Streamlit script has finished its run (the page is fully drawn)."""
    page.wait_for_selector("[data-testid=stApp]", timeout=timeout_ms)
    # the attribute flips to "running" and back; wait for a settled "notRunning"
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout_ms,
    )


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def digits_evaluated(app_url: str, page):
    """The Evaluation page after its one-click example (digits_cnn on the held-out digits), drawn; its main area."""
    page.goto(f"{app_url}/Dataset_Evaluation")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_role("button", name="Switch to digits_cnn and evaluate").click()
    main.get_by_text("Headline metrics").wait_for()
    wait_for_app(page)
    return main
