"""Browser fixtures: Debian's Chromium driven by Playwright, and the demo stack served in-process on free ports.

Chromium must be installed (``make test`` installs it); a missing browser fails these tests, it never skips them.
Screenshots go to a temporary folder, or to docs/screenshots with ``QBSF_UPDATE_SCREENSHOTS=1``
(``make screenshots``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        threading.Event().wait(0.1)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's package, never a Playwright download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
                    "`sudo apt-get update && sudo apt-get install -y chromium` (`make test` does this as root), "
                    "never with `playwright install`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots when refreshing them, else a temporary folder."""
    if os.environ.get("QBSF_UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


class DemoSite:
    """The running demo: the stack (org, QuickBooks simulator, connector) and the dashboard's URLs."""

    def __init__(self, stack: Any, running: Any) -> None:
        self.stack = stack
        self.running = running

    @property
    def login_url(self) -> str:
        """The URL with the token that logs the browser in."""
        return self.running.url

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.running.base_url


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo stack in-process (emulator and dashboard on free loopback ports), after its first cycle. The polling
    interval is an hour, so any later sync is the one a test asked for."""
    from qbsf.app.dashboard.server import start_dashboard
    from qbsf.app.demo import DemoStack

    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("QBSF_") and name != "QBSF_UPDATE_SCREENSHOTS":
                patch.delenv(name)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            patch.setenv(var, str(home / var.lower()))
        stack = DemoStack(tmp_path_factory.mktemp("demo"), console=False, dashboard_port=0,
                          overrides={"sync.polling_interval": "3600"}).start()
        running = None
        try:
            running = start_dashboard(stack.bundle.dashboard)
            stack.bundle.connector.start()
            wait_until(lambda: stack.bundle.connector.status().last_cycle is not None, 60, "the first cycle")
            yield DemoSite(stack, running)
        finally:
            if running is not None:
                running.stop()
            stack.close()


@pytest.fixture(scope="module")
def page(chromium: Any, demo_site: DemoSite) -> Iterator[Any]:
    """A browser tab logged in to the dashboard (the token in the URL sets the session cookie); tests navigate it."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(demo_site.login_url)
    try:
        yield tab
    finally:
        context.close()
