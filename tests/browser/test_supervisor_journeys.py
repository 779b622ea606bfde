"""The supervisor's faces in a real browser, on the demo city: the escalation board with
an overdue case, urging it, approving an extension from the board; the handler then
sees the new deadline and the notices. The board and the scorecards pass axe in both
languages on a desktop and a phone, and are saved as screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Browser, expect

from caseapp.extensions import db
from caseapp.i18n import local_deadline
from caseapp.models import Case, CaseRequest
from caseapp.models.enums import Clock, RequestKind, RequestStatus
from caseapp.services.casework.sweep import run_sweep
from tests.browser.conftest import new_context, sign_in
from tests.browser.test_accessibility import check

OVERDUE_TITLE = "河东西街井盖缺失"  # a demo complaint worked for 20 days
EXTENSION_TITLE = "中银路学校门口需要过街天桥"  # a demo suggestion with an extension waiting


@pytest.fixture
def swept_city(app: Flask, demo_city: None) -> None:
    """The whole demo city, swept once as the worker would."""
    with app.app_context():
        run_sweep()
        db.session.remove()


def case_number(app: Flask, title: str) -> str:
    with app.app_context():
        number = db.session.scalar(sa.select(Case.number).where(Case.title == title))
        db.session.remove()
    assert number
    return number


def test_the_supervisor_urges_and_approves_and_the_handler_sees_it(
    app: Flask, browser: Browser, live_server: str, swept_city: None, screenshots: Path
) -> None:
    overdue = case_number(app, OVERDUE_TITLE)
    bridge = case_number(app, EXTENSION_TITLE)

    supervisor = new_context(browser, live_server)
    page = supervisor.new_page()
    sign_in(page, "supervisor")
    page.goto("/supervisor/escalations")
    late = page.locator("#late ~ div table, section:has(#late) table").first
    expect(late).to_contain_text(OVERDUE_TITLE)
    page.screenshot(path=screenshots / "escalations-overdue.png", full_page=True)

    # Urge the overdue case from its page.
    late.get_by_role("link", name=overdue).click()
    page.locator("#action-urge > summary").click()
    page.locator("#action-urge textarea").fill("请于明日前修复井盖并回复群众。")
    page.locator("#action-urge button[type=submit]").click()
    expect(page.locator(".flash, .notice, [role=status]").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("请于明日前修复井盖并回复群众。")

    # Approve the extension from the board.
    page.goto("/supervisor/escalations")
    approval = page.locator("li.approval", has_text=bridge)
    expect(approval).to_contain_text(EXTENSION_TITLE)
    approval.locator("textarea").fill("同意延期，请按期答复。")
    page.screenshot(path=screenshots / "escalations-approval.png", full_page=True)
    approval.get_by_role("button", name="同意", exact=True).click()
    expect(page).to_have_url(f"{live_server}/supervisor/escalations#approvals")
    expect(page.locator("li.approval", has_text=bridge)).to_have_count(0)
    supervisor.close()

    with app.app_context():
        request = db.session.scalar(
            sa.select(CaseRequest)
            .join(Case)
            .where(Case.number == bridge, CaseRequest.kind == RequestKind.EXTENSION)
        )
        assert request is not None and request.status is RequestStatus.APPROVED
        case = db.session.scalar(sa.select(Case).where(Case.number == bridge))
        assert case is not None
        resolve = next(c for c in case.clocks if c.clock is Clock.RESOLVE and not c.stopped_at)
        assert resolve.extended_by == request.days
        new_deadline = local_deadline(resolve.due_at)
        db.session.remove()

    handler = new_context(browser, live_server)
    page = handler.new_page()
    sign_in(page, "handler")
    page.goto("/staff/inbox")
    inbox = page.locator("main")
    expect(inbox).to_contain_text(overdue)  # urged
    expect(inbox).to_contain_text("请于明日前修复井盖并回复群众。")
    approved = page.locator("li", has_text=bridge).first
    expect(approved).to_contain_text("已批准")
    expect(approved).to_contain_text(new_deadline)
    page.screenshot(path=screenshots / "inbox-after-supervision.png", full_page=True)

    # The case page shows the deadline the extension moved.
    page.goto(f"/staff/cases/{bridge}")
    expect(page.locator("main")).to_contain_text(f"时限 {new_deadline}")
    page.screenshot(path=screenshots / "staff-case-extended.png", full_page=True)
    handler.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_supervisor_pages_pass_axe(
    browser: Browser,
    live_server: str,
    swept_city: None,
    screenshots: Path,
    lang: str,
    device: str,
) -> None:
    context = new_context(browser, live_server, phone=device == "phone")
    page = context.new_page()
    sign_in(page, "supervisor", lang)
    suffix = f"{lang}-{device}"
    page.goto(f"/supervisor/escalations?lang={lang}")
    check(page, f"escalations-{suffix}", screenshots)
    page.goto("/supervisor/scorecards")
    check(page, f"scorecards-{suffix}", screenshots)
    page.locator("td[data-figure=response] a").first.click()
    check(page, f"scorecard-cases-{suffix}", screenshots)
    page.goto("/supervisor/scorecards?period=custom&first=2026-12-01&last=2026-11-01")
    check(page, f"scorecards-errors-{suffix}", screenshots)
    context.close()
