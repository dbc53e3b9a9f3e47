"""Browser tests: Playwright 1.64.1 driving Debian's chromium against the devstack (in-process).

The browser is required: the tests fail, never skip, when it is missing. Every page visited is screenshotted
into ``test-artifacts/screenshots/``; failures keep a screenshot too.

Every sign-in counts against the login's rate limit (10 per email in 15 minutes, on the one stack of the session):
the tests share their sign-ins between the demo logins, and reach for the API only when they must.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.browser import screenshot

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def devstack() -> Iterator[object]:
    from devstack.stack import DevStack

    stack = DevStack(port=0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is required for the browser suite ({CHROMIUM} not found); 'make chromium' installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        print(f"chromium {launched.version}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser, devstack, request) -> Iterator[object]:
    context = browser.new_context(base_url=devstack.url, locale="pt-BR")
    opened = context.new_page()
    yield opened
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        screenshot(opened, f"FAILED-{request.node.name}")
    context.close()


@pytest.fixture
def no_script_page(browser, devstack, request) -> Iterator[object]:
    """A browser with JavaScript turned off: every form must still work."""
    context = browser.new_context(base_url=devstack.url, locale="pt-BR", java_script_enabled=False)
    opened = context.new_page()
    yield opened
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        screenshot(opened, f"FAILED-{request.node.name}")
    context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The walk over every page runs after the journeys: what they leave behind (payments, emails, contacts, users)
    makes more pages reachable by links. It passes on its own as well, on the seed alone."""
    items.sort(key=lambda item: "test_every_page_axe" in item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
