"""Fixtures for browser tests: headless Debian Chromium driven by Playwright (sync API).

Tests run against the session's real ``hydratrack server`` (tests/support/servers.py).
Screenshots go to test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.support.servers import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
VENDOR = ROOT / "src" / "hydratrack" / "web" / "static" / "vendor" / "uplot" / "uPlot.esm.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def web_vendor() -> Path:
    """The chart library, built from the lock file if it is not there yet."""
    if not VENDOR.exists():
        subprocess.run(
            [str(ROOT / "scripts" / "build-web")], check=True, capture_output=True, timeout=300
        )
    assert VENDOR.exists(), "scripts/build-web did not produce the uPlot files"
    return VENDOR


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is not installed: the browser tests need Debian's chromium "
            "(bash scripts/test installs it)"
        )
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, web_vendor: Path) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


class UiSession:
    """A browser page on the test server, with page errors collected and screenshots named."""

    def __init__(self, page: Page, server: ServerProcess, test_name: str) -> None:
        self.page = page
        self.server = server
        self.base = server.url
        self.errors: list[str] = []
        self.test_name = re.sub(r"[^\w.-]+", "_", test_name)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str) -> Page:
        self.page.goto(self.url(path))
        return self.page

    def login(self, username: str = "admin", password: str | None = None) -> None:
        self.goto("/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password or self.server.admin_password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.url("/"))

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}--{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")  # sticky bars stay at the top of the shot
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def ui(
    browser: Browser, server: ServerProcess, request: pytest.FixtureRequest
) -> Iterator[UiSession]:
    """A fresh browser context (no cookies) at 1280 px; fails the test on uncaught page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.set_default_timeout(10_000)
    session = UiSession(context.new_page(), server, request.node.name)
    try:
        yield session
    finally:
        context.close()
    assert not session.errors, f"JavaScript errors on the page: {session.errors}"


@pytest.fixture
def logged_in(ui: UiSession) -> UiSession:
    ui.login()
    return ui
