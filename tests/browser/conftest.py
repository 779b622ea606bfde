"""Browser tests: Debian's Chromium driven by Playwright against a live server that the
tests start on the suite's own database. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import SCREENSHOTS

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.long)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: "
            "apt-get install -y chromium fonts-wqy-microhei (make test does this)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def new_context(
    browser: Browser, base_url: str, *, phone: bool = False, javascript: bool = True
) -> BrowserContext:
    return browser.new_context(
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        java_script_enabled=javascript,
        locale="zh-CN",
    )


@pytest.fixture
def context(browser: Browser, live_server: str, demo_base: None) -> Iterator[BrowserContext]:
    ctx = new_context(browser, live_server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


DEMO_PASSWORD = "demo-password"


def sign_in(page: Page, username: str, lang: str = "zh_CN") -> None:
    """Sign a demo account in on ``page`` and wait for the page it lands on."""
    page.goto(f"/staff/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("button.primary").click()
    expect(page.locator("h1")).to_have_count(1)
