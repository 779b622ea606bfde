"""The admin console in a real browser: the admin adds a deadline policy (resolve in 7
working days) and a category using it; the public form offers the category, and a case
filed in it shows the policy's dates on its confirmation. The admin pages for
categories, policies and the calendar pass axe in both languages on a desktop and a
phone, and are saved as screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from caseapp.extensions import db
from caseapp.i18n import local_deadline
from caseapp.models import Case
from caseapp.models.enums import TimeUnit
from caseapp.services.casework import calendar_years
from caseapp.services.casework.clocks import deadline_math
from caseapp.workflow.deadlines import Period
from tests.browser.conftest import new_context, sign_in
from tests.browser.test_accessibility import check
from tests.browser.test_public_journeys import fill_request

ACCEPT_ROW, RESOLVE_ROW = 0, 3  # the rows of the policy form, in the order of PolicyTerm


def add_policy(page: Page) -> None:
    page.goto("/admin/policies/new")
    page.fill("#code", "resolve-7")
    page.fill("#name_zh", "七个工作日办结")
    page.fill("#name_en", "Resolved in 7 working days")
    page.fill(f"#terms-{ACCEPT_ROW}-value", "2")
    page.fill(f"#terms-{RESOLVE_ROW}-value", "7")
    page.select_option(f"#terms-{RESOLVE_ROW}-unit", "working_days")
    page.locator("main button.primary").click()
    expect(page.locator(".flash:not(.calendar-warning)")).to_contain_text("resolve-7")


def add_category(page: Page) -> None:
    page.goto("/admin/categories/new")
    page.fill("#service_code", "dog-noise")
    page.fill("#name_zh", "犬吠扰民")
    page.fill("#name_en", "Barking dogs")
    page.fill("#group_zh", "环境保护")
    page.fill("#group_en", "Environment")
    page.select_option("#policy_id", label="七个工作日办结")
    page.locator("main button.primary").click()
    expect(page.locator(".flash:not(.calendar-warning)")).to_contain_text("dog-noise")


def test_a_new_category_with_its_policy_reaches_the_public(
    app: Flask, browser: Browser, live_server: str, demo_base: None, screenshots: Path
) -> None:
    admin = new_context(browser, live_server)
    page = admin.new_page()
    sign_in(page, "admin")
    add_policy(page)
    expect(page.locator("main")).to_contain_text("七个工作日办结")
    page.screenshot(path=screenshots / "admin-policy-added.png", full_page=True)
    add_category(page)
    expect(page.locator("main")).to_contain_text("犬吠扰民")
    page.screenshot(path=screenshots / "admin-category-added.png", full_page=True)
    admin.close()

    public = new_context(browser, live_server)
    citizen = public.new_page()
    citizen.goto("/requests/new")
    citizen.get_by_role("link", name="犬吠扰民").click()
    fill_request(citizen, title="小区夜间犬吠扰民")
    citizen.get_by_role("button", name="提交诉求").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("您的诉求已收到")
    number = re.search(r"YC\d{4}-\d{6}", citizen.content()).group(0)  # type: ignore[union-attr]

    with app.test_request_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case is not None and case.category.service_code == "dog-noise"
        math = deadline_math()
        accept_by = math.due_at(case.received_at, Period(TimeUnit.WORKING_DAYS, 2))
        resolve_by = math.due_at(accept_by, Period(TimeUnit.WORKING_DAYS, 7))
        assert case.next_deadline_at == accept_by
        expected = (local_deadline(accept_by), local_deadline(resolve_by))
        db.session.remove()
    dates = citizen.locator("main dl").first
    expect(dates).to_contain_text(expected[0])
    expect(dates).to_contain_text(expected[1])
    citizen.screenshot(path=screenshots / "admin-category-case-filed.png", full_page=True)
    public.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_admin_pages_pass_axe(
    browser: Browser,
    live_server: str,
    demo_base: None,
    screenshots: Path,
    lang: str,
    device: str,
) -> None:
    context = new_context(browser, live_server, phone=device == "phone")
    page = context.new_page()
    sign_in(page, "admin", lang)
    suffix = f"{lang}-{device}"

    page.goto("/admin/categories")
    check(page, f"admin-categories-{suffix}", screenshots)
    page.goto("/admin/categories/new")
    check(page, f"admin-category-new-{suffix}", screenshots)
    page.fill("#service_code", "Not A Code")
    page.locator("button.primary").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, f"admin-category-errors-{suffix}", screenshots)
    page.goto("/admin/categories")
    page.locator("table a").first.click()
    check(page, f"admin-category-edit-{suffix}", screenshots)

    page.goto("/admin/policies")
    check(page, f"admin-policies-{suffix}", screenshots)
    page.goto("/admin/policies/new")
    check(page, f"admin-policy-new-{suffix}", screenshots)
    page.fill(f"#terms-{RESOLVE_ROW}-value", "0")
    page.locator("button.primary").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, f"admin-policy-errors-{suffix}", screenshots)

    page.goto("/admin/calendar?year=2026")
    page.fill("#day", "2026-12-01")
    page.locator("#kind-0").check()
    page.fill("#note", "示例")
    page.locator("form:has(#day) button[type=submit]").click()
    expect(page.locator("main table")).to_contain_text("2026-12-01")
    check(page, f"admin-calendar-{suffix}", screenshots)
    page.fill("#day", "2026-12-01")
    page.locator("#kind-1").check()
    page.locator("form:has(#day) button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, f"admin-calendar-errors-{suffix}", screenshots)

    # A year's schedule: an incomplete file is refused, the test example previewed and
    # imported (issue 16, finding 8).
    example = Path(calendar_years.EXAMPLES / "2027-test-example.txt")
    page.goto("/admin/calendar?year=2027")
    page.set_input_files("#schedule", files=[{
        "name": "2027-test-example.txt", "mimeType": "text/plain",
        "buffer": example.read_text(encoding="utf-8").replace("\n元旦", "\n# 元旦").encode(),
    }])  # fmt: skip
    page.locator("form:has(#schedule) button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, f"admin-calendar-import-errors-{suffix}", screenshots)
    page.goto("/admin/calendar?year=2027")
    page.set_input_files("#schedule", str(example))
    page.locator("form:has(#schedule) button[type=submit]").click()
    expect(page.locator("main h1")).to_contain_text("2027")
    check(page, f"admin-calendar-import-preview-{suffix}", screenshots)
    page.locator("form:has([name=content]) button[type=submit]").click()
    expect(page.locator(".flash-success").first).to_be_visible()
    check(page, f"admin-calendar-imported-{suffix}", screenshots)
    context.close()
