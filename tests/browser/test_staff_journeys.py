"""Staff casework in a real browser: intake dispatches, the handler signs for it, asks
the citizen, the citizen answers, the handler resolves; and two staff at once."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, expect

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.enums import CaseStatus
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from tests.browser.conftest import new_context
from tests.factories import new_case

DEMO_PASSWORD = "demo-password"


def signed_in(browser: Browser, base_url: str, username: str) -> BrowserContext:
    context = new_context(browser, base_url)
    page = context.new_page()
    page.goto("/staff/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("案件队列")
    page.close()
    return context


def open_action(page, slug: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#action-{slug} > summary").click()


def test_dispatch_sign_ask_answer_resolve(
    app: Flask, browser: Browser, live_server: str, demo_base: None, screenshots: Path
) -> None:
    with app.app_context():
        number = new_case(title="人民路路灯不亮", category="street-light").number
    intake = signed_in(browser, live_server, "intake").new_page()
    intake.goto("/staff/queue")
    intake.get_by_role("link", name=number).click()
    open_action(intake, "dispatch")
    intake.locator("#action-dispatch select[name=department]").select_option(
        label="市住房和城乡建设局"
    )
    intake.locator("#action-dispatch button[type=submit]").click()
    expect(intake.locator(".flash:not(.calendar-warning)")).to_contain_text("已派单")
    intake.screenshot(path=screenshots / "staff-case-dispatched-zh_CN-desktop.png", full_page=True)

    handler = signed_in(browser, live_server, "handler").new_page()
    handler.goto(f"/staff/cases/{number}")
    handler.get_by_role("button", name="签收").click()
    expect(handler.locator(".status-line")).to_contain_text("办理中")
    handler.get_by_label("撰写内容").fill("请问是哪一段路灯不亮？")
    handler.get_by_label("我已核对此内容", exact=False).check()
    handler.get_by_role("button", name="请群众补充").click()
    expect(handler.locator(".status-line")).to_contain_text("待补充")

    with app.app_context():  # the citizen answers on their page
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        casework.citizen_replies(case, Actor.citizen(), "人民路中段，医院门口往东。", version=None)
    handler.reload()
    expect(handler.locator(".staff-timeline")).to_contain_text("人民路中段，医院门口往东。")
    handler.locator("#composer textarea").fill("已更换人民路中段路灯 12 盏。")
    handler.locator("#composer input[name=confirm_public]").check()
    handler.get_by_role("button", name="以此答复办结").click()
    expect(handler.locator(".status-line")).to_contain_text("已办结")
    handler.screenshot(path=screenshots / "staff-case-resolved-zh_CN-desktop.png", full_page=True)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Case.status).where(Case.number == number))
            is CaseStatus.RESOLVED
        )


def test_a_conflict_between_two_browsers_shows_the_message_and_keeps_the_text(
    app: Flask, browser: Browser, live_server: str, demo_base: None, screenshots: Path
) -> None:
    with app.app_context():
        number = new_case().number
    first = signed_in(browser, live_server, "intake").new_page()
    second = signed_in(browser, live_server, "supervisor").new_page()
    first.goto(f"/staff/cases/{number}")
    second.goto(f"/staff/cases/{number}")  # both have the page open
    open_action(first, "dispatch")
    first.locator("#action-dispatch select[name=department]").select_option(
        label="市住房和城乡建设局"
    )
    first.locator("#action-dispatch button[type=submit]").click()
    expect(first.locator(".flash:not(.calendar-warning)")).to_contain_text("已派单")

    open_action(second, "urge")
    second.locator("#action-urge textarea").fill("请住建局今天内联系群众")
    second.locator("#action-urge button[type=submit]").click()
    expect(second.locator("#conflict")).to_contain_text("案件已被修改")
    expect(second.locator("#action-urge textarea")).to_have_value("请住建局今天内联系群众")
    second.screenshot(path=screenshots / "staff-case-conflict-zh_CN-desktop.png", full_page=True)
    # After reading the new state, sending again works.
    second.locator("#action-urge button[type=submit]").click()
    expect(second.locator(".flash:not(.calendar-warning)")).to_contain_text("已督办")
    assert re.search(r"/staff/cases/YC\d{4}-\d{6}$", second.url)
