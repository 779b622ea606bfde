"""A citizen's journeys in a real browser (DESIGN §7), in Chinese and in English."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from caseapp.extensions import db
from caseapp.models import Attachment, Case
from caseapp.models.enums import CaseStatus
from caseapp.services.casework import handling as casework
from caseapp.services.casework import intake
from tests.browser.conftest import new_context
from tests.factories import department, staff

WORDS = {
    "zh_CN": {
        "send": "提交诉求",
        "received": "您的诉求已收到",
        "open": "查看我的诉求",
        "need_answer": "需要您补充情况",
        "send_answer": "提交补充",
        "rate": "提交评价",
        "satisfied": "满意",
        "solved_yes": "是",
        "thanks": "感谢您的评价",
        "closed": "已归档",
    },
    "en": {
        "send": "Send the request",
        "received": "Your request was received",
        "open": "Open my request",
        "need_answer": "We need your answer",
        "send_answer": "Send my answer",
        "rate": "Send my rating",
        "satisfied": "Satisfied",
        "solved_yes": "Yes",
        "thanks": "Thank you for your rating",
        "closed": "Closed",
    },
}


def photo(tmp_path: Path) -> Path:
    path = tmp_path / "站牌.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def fill_request(page: Page, *, title: str = "圣惠路羊驮寺村公交站被取消") -> None:
    page.fill("#title", title)
    page.fill("#description", "圣惠路改造后村口的公交站没有恢复，老人要走很远去坐车。")
    page.fill("#public_location", "圣惠路")
    page.fill("#citizen_name", "张秀英")
    page.fill("#citizen_phone", "13812345678")
    page.check("#consent_privacy")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_file_with_a_photo_answer_a_question_and_rate(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_base: None,
    tmp_path: Path,
    screenshots: Path,
    lang: str,
) -> None:
    words = WORDS[lang]
    context = new_context(browser, live_server)
    page = context.new_page()
    page.goto(f"/?lang={lang}")
    page.goto("/requests/new")
    page.get_by_role(
        "link", name="公交站点设置" if lang == "zh_CN" else "Bus stops and routes"
    ).click()
    fill_request(page)
    page.set_input_files("#attachments", str(photo(tmp_path)))
    page.get_by_role("button", name=words["send"]).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(words["received"])
    number = re.search(r"YC\d{4}-\d{6}", page.content()).group(0)
    link = page.locator(".private-link a").get_attribute("href")
    page.screenshot(path=screenshots / f"filed-{lang}-desktop.png", full_page=True)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert (
            db.session.scalar(
                sa.select(Attachment.content_type).where(Attachment.case_id == case.id)
            )
            == "image/jpeg"
        )

    # The private link, opened in another browser, lands on a clean address.
    other = new_context(browser, live_server)
    citizen = other.new_page()
    citizen.goto(f"/?lang={lang}")
    citizen.goto(link)
    assert citizen.url.endswith(f"/track/{number}")

    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
        casework.sign_for_case(case, staff("handler"), version=None)
        casework.ask_citizen(case, staff("handler"), "请问站点原来在路的哪一侧？", version=None)
    citizen.reload()
    expect(citizen.get_by_role("heading", name=words["need_answer"])).to_be_visible()
    citizen.screenshot(path=screenshots / f"case-question-{lang}-desktop.png", full_page=True)
    citizen.fill("#reply-text", "原来在路东，村口小卖部门前。")
    citizen.get_by_role("button", name=words["send_answer"]).click()
    # The answer is in once the page it leads back to no longer asks the question.
    expect(citizen.get_by_role("heading", name=words["need_answer"])).to_have_count(0)
    citizen.wait_for_load_state()

    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.IN_PROGRESS
        casework.resolve_case(case, staff("handler"), "已在村口恢复公交站点。", version=None)
    citizen.reload()
    citizen.get_by_label(words["solved_yes"], exact=True).check()
    citizen.get_by_label(words["satisfied"], exact=True).check()
    citizen.get_by_role("button", name=words["rate"]).click()
    expect(citizen.locator(".flash:not(.calendar-warning)")).to_contain_text(words["thanks"])
    expect(citizen.locator(".status-line")).to_contain_text(words["closed"])
    citizen.screenshot(path=screenshots / f"case-closed-{lang}-desktop.png", full_page=True)
    context.close()
    other.close()


def test_tracking_by_number_and_phone(app: Flask, page: Page, screenshots: Path) -> None:
    with app.app_context():
        from tests.factories import new_case

        number = new_case().number
    page.goto("/track")
    page.fill("#number", number)
    page.fill("#phone", "13812345678")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".result")).to_contain_text("待受理")
    page.screenshot(path=screenshots / "track-result-zh_CN-desktop.png", full_page=True)
    page.get_by_role("button", name="发送验证码").click()
    from caseapp.models import OutboxMessage

    with app.app_context():
        code = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.template == "access_code")
        ).params["code"]
    page.fill("#code", code)
    page.get_by_role("button", name="查看我的诉求").click()
    page.wait_for_url(f"**/track/{number}")
    expect(page.get_by_role("heading", level=1)).to_have_text("红旗西街人行道破损")


def test_the_form_works_with_javascript_off(
    app: Flask, browser: Browser, live_server: str, demo_base: None
) -> None:
    context = new_context(browser, live_server, javascript=False)
    page = context.new_page()
    page.goto("/requests/new?q=路灯")
    page.get_by_role("link", name="路灯故障").click()
    page.fill("#citizen_phone", "12345")  # first an error, then the fix
    page.get_by_role("button", name="提交诉求").click()
    expect(page.locator(".error-summary")).to_be_visible()
    fill_request(page, title="人民路路灯不亮")
    page.get_by_role("button", name="提交诉求").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("您的诉求已收到")
    context.close()
    with app.app_context():
        assert db.session.scalar(sa.select(Case.title)) == "人民路路灯不亮"


def test_large_text_at_360_px(
    browser: Browser, live_server: str, demo_base: None, screenshots: Path
) -> None:
    context = new_context(browser, live_server, phone=True)
    page = context.new_page()
    page.goto("/requests/new?category=bus-stop&text=large")
    assert "large-text" in (page.locator("body").get_attribute("class") or "")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 20
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=screenshots / "form-large-text-zh_CN-phone.png", full_page=True)
    page.goto("/?text=normal")
    assert "large-text" not in (page.locator("body").get_attribute("class") or "")
    context.close()
