"""Choosing one's own password in a real browser: an account the admin console made
signs in with its one-time password, lands on the page that replaces it, is told why a
common password is refused, sets its own and reaches the queue. The page passes axe in
both languages on a desktop and a phone; screenshots are saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from caseapp.extensions import db
from caseapp.models.enums import Role
from caseapp.services.admin import users as admin_users
from caseapp.services.admin.users import AccountInput
from tests.browser.conftest import new_context
from tests.browser.test_accessibility import check
from tests.factories import user

HEADINGS = {
    "zh_CN": ("设置您自己的密码", "案件队列", "修改密码"),
    "en": ("Choose your own password", "Case queue", "Change your password"),
}
COMMON_REASON = {"zh_CN": "常用密码", "en": "commonly used passwords"}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_new_account_chooses_its_own_password(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_base: None,
    screenshots: Path,
    lang: str,
    device: str,
) -> None:
    with app.app_context():
        _, one_time = admin_users.create_account(
            user("admin"),
            AccountInput(
                username="clerk7", display_name="受理员 刘洋", roles=frozenset({Role.INTAKE})
            ),
        )
        db.session.remove()
    forced_heading, queue_heading, change_heading = HEADINGS[lang]
    suffix = f"{lang}-{device}"
    context = new_context(browser, live_server, phone=device == "phone")
    page = context.new_page()
    page.goto(f"/staff/login?lang={lang}")
    page.fill("#username", "clerk7")
    page.fill("#password", one_time)
    page.locator("main button.primary").click()
    expect(page).to_have_url(re.compile(r"/staff/password"))
    expect(page.get_by_role("heading", level=1)).to_have_text(forced_heading)
    check(page, f"password-forced-{suffix}", screenshots)

    page.fill("#current_password", one_time)
    page.fill("#new_password", "Password2026!")
    page.fill("#new_password_again", "Password2026!")
    page.locator("main button.primary").click()
    expect(page.locator(".error-summary")).to_contain_text(COMMON_REASON[lang])
    check(page, f"password-refused-{suffix}", screenshots)

    page.fill("#current_password", one_time)
    page.fill("#new_password", "lantern cobalt orchard")
    page.fill("#new_password_again", "lantern cobalt orchard")
    page.locator("main button.primary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(queue_heading)

    page.goto("/staff/password")
    expect(page.get_by_role("heading", level=1)).to_have_text(change_heading)
    check(page, f"password-change-{suffix}", screenshots)
    context.close()
