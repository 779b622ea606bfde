"""The case plan in a real browser (the pages ship no script), on a desktop and a phone: the
supervisor writes it with dated milestones, the late one is marked, axe finds nothing
serious, and a bad row is shown beside its fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from caseapp.models.enums import CaseStatus
from tests.browser.conftest import new_context
from tests.browser.test_accessibility import check
from tests.factories import case_in

DEMO_PASSWORD = "demo-password"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_supervisor_sets_a_plan_with_milestones(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_base: None,
    screenshots: Path,
    device: str,
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    today = datetime.now(ZoneInfo(app.config["CITY_TIMEZONE"])).date()
    # The pages ship no script, so the form works as it would without JavaScript; the
    # context keeps it on for axe, which runs as a script.
    context = new_context(browser, live_server, phone=device == "phone")
    page = context.new_page()
    page.goto("/staff/login")
    page.fill("#username", "supervisor")
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.goto(f"/staff/cases/{number}")
    page.locator("#action-plan > summary").click()
    plan = page.locator("#action-plan")
    plan.locator("textarea[name=plan]").fill("一案一策：先勘查，再修复。")
    page.fill("#milestones-0-due_on", (today - timedelta(days=3)).isoformat())
    page.fill("#milestones-0-text", "完成现场勘查")
    page.fill("#milestones-1-due_on", (today + timedelta(days=10)).isoformat())
    page.fill("#milestones-1-text", "完成路面修复")
    page.fill("#milestones-2-text", "只有事项没有日期")
    plan.locator("button[type=submit]").click()

    # The row without a date is refused beside its date field; nothing else is lost.
    expect(page.locator("#milestones-2-due_on-error")).to_be_visible()
    expect(page.locator("#milestones-0-text")).to_have_value("完成现场勘查")
    check(page, f"staff-case-plan-errors-zh_CN-{device}", screenshots)

    page.fill("#milestones-2-text", "")
    page.locator("#action-plan button[type=submit]").click()
    expect(page.locator(".flash:not(.calendar-warning)")).to_be_visible()
    milestones = page.locator("ol.milestones li")
    expect(milestones).to_have_count(2)
    expect(milestones.nth(0)).to_contain_text("完成现场勘查")
    expect(milestones.nth(0).locator(".tag.warn")).to_be_visible()
    expect(milestones.nth(1).locator(".tag.warn")).to_have_count(0)
    # On a phone the text goes under the date, within the screen.
    box = milestones.nth(0).bounding_box()
    assert box is not None and box["width"] <= page.viewport_size["width"]
    check(page, f"staff-case-plan-zh_CN-{device}", screenshots)
    context.close()
