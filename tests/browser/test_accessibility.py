"""axe-core on every public page, in both languages, on a desktop and a phone: no serious
or critical violation. Each page is also saved as a screenshot for people to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page

from tests.browser.conftest import new_context
from tests.browser.test_public_journeys import fill_request

AXE = Axe()
BLOCKING = {"serious", "critical"}
RESULTS: dict[str, list[str]] = {}


def check(page: Page, name: str, screenshots: Path) -> None:
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    violations = AXE.run(page).response["violations"]
    RESULTS[name] = [f"{v['impact']}: {v['id']}" for v in violations]
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{name}: {blocking}"


@pytest.fixture(scope="module", autouse=True)
def write_results(screenshots: Path):  # type: ignore[no-untyped-def]
    yield
    (screenshots / "axe-results.json").write_text(json.dumps(RESULTS, ensure_ascii=False, indent=2))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_public_pages_pass_axe(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_base: None,
    screenshots: Path,
    lang: str,
    device: str,
) -> None:
    context = new_context(browser, live_server, phone=device == "phone")
    page = context.new_page()
    suffix = f"{lang}-{device}"
    page.goto(f"/?lang={lang}")
    check(page, f"home-{suffix}", screenshots)
    page.goto("/requests/new")
    check(page, f"choose-category-{suffix}", screenshots)
    page.goto("/requests/new?category=bus-stop")
    check(page, f"form-{suffix}", screenshots)
    page.fill("#citizen_phone", "12345")
    page.locator("button.primary").click()
    check(page, f"form-errors-{suffix}", screenshots)
    fill_request(page)
    page.locator("button.primary").click()
    # Wait for the answer (the confirmation, or the look-alikes to confirm past), not the form.
    page.locator("#confirm_distinct").or_(page.locator(".private-link a")).wait_for()
    if page.locator("#confirm_distinct").count():  # an earlier run's case looks the same
        check(page, f"form-duplicates-{suffix}", screenshots)
        page.check("#confirm_distinct")
        page.locator("button.primary").click()
    page.wait_for_url("**/requests/filed")
    check(page, f"filed-{suffix}", screenshots)
    number = re.search(r"YC\d{4}-\d{6}", page.content()).group(0)
    page.locator("a.button.primary").click()
    check(page, f"case-{suffix}", screenshots)
    # A second citizen is offered the same case, follows it and sees the follower's page.
    other = new_context(browser, live_server, phone=device == "phone").new_page()
    other.goto(f"/?lang={lang}")
    other.goto("/requests/new?category=bus-stop")
    fill_request(other)
    other.locator("button.primary").click()
    other.locator(f"form[action$='/requests/follow/{number}'] button").click()
    other.locator("a.button.primary").click()
    other.wait_for_url(f"**/track/{number}")
    check(other, f"case-follower-{suffix}", screenshots)
    other.context.close()
    page.goto("/track")
    check(page, f"track-{suffix}", screenshots)
    page.fill("#number", number)
    page.fill("#phone", "13812345678")
    page.locator("button.primary").click()
    check(page, f"track-result-{suffix}", screenshots)
    page.locator(".result button").click()
    check(page, f"track-code-{suffix}", screenshots)
    page.goto("/stats")
    check(page, f"stats-{suffix}", screenshots)
    page.goto("/staff/login")
    check(page, f"staff-login-{suffix}", screenshots)
    page.goto("/?text=large")
    check(page, f"home-large-text-{suffix}", screenshots)
    context.close()


def test_the_axe_check_does_find_violations(browser: Browser) -> None:
    """The harness itself: a page with known faults must fail the check."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    impacts = {v["id"]: v["impact"] for v in AXE.run(page).response["violations"]}
    context.close()
    assert impacts.get("image-alt") == "critical"
    assert "label" in impacts
