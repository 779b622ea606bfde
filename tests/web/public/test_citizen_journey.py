"""The whole citizen journey through the test client, in Chinese and in English: file,
open the private link, add information, answer a question, rate; follow a duplicate;
track by number and phone with a one-time code; withdraw; ask for a petition review."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, CaseFollower, OutboxMessage
from caseapp.models.enums import CaseKind, CaseStatus, Satisfaction
from caseapp.services.casework import closing, intake
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from tests.conftest import AuthActions, csrf_token
from tests.factories import case_in, department, staff
from tests.web.public.test_request_form import FORM, good_fields, post_form

TEXT = {
    "zh_CN": {
        "received": "您的诉求已收到",
        "status_new": "待受理",
        "question": "需要您补充情况",
        "answer": "答复内容",
        "rated": "感谢您的评价",
        "closed": "已归档",
        "added": "您补充的情况已提交",
    },
    "en": {
        "received": "Your request was received",
        "status_new": "Awaiting acceptance",
        "question": "We need your answer",
        "answer": "The answer",
        "rated": "Thank you for your rating",
        "closed": "Closed",
        "added": "Your information was added",
    },
}


def file_request(client: FlaskClient, **changes: object) -> tuple[str, str]:
    """File through the form; return the case number and the private link's path."""
    assert post_form(client, good_fields(**changes)).status_code == 302
    page = client.get("/requests/filed").get_data(as_text=True)
    number = re.search(r"YC\d{4}-\d{6}", page).group(0)
    link = re.search(r'href="http://localhost(/p/[A-Za-z0-9_-]+)"', page).group(1)
    return number, link


def post(client: FlaskClient, url: str, data: dict[str, str], page: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_whole_journey(app: Flask, demo_base: None, lang: str) -> None:
    text = TEXT[lang]
    filer = app.test_client()
    filer.get(f"/?lang={lang}")
    number, link = file_request(filer)

    # The private link works in a fresh browser, and the key leaves the address at once.
    browser = app.test_client()
    browser.get(f"/?lang={lang}")
    opened = browser.get(link)
    assert opened.status_code == 302 and opened.headers["Location"] == f"/track/{number}"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = browser.get(f"/track/{number}").get_data(as_text=True)
    assert text["status_new"] in page and "圣惠路羊驮寺村公交站被取消" in page

    response = post(
        browser,
        f"/track/{number}/information",
        {"text": "站牌原来在村口东侧。"},
        f"/track/{number}",
    )
    assert response.status_code == 302
    assert text["added"] in browser.get(f"/track/{number}").get_data(as_text=True)

    # Staff dispatch, sign for and ask a question; the citizen answers on the page.
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
        casework.sign_for_case(case, staff("handler"), version=None)
        casework.ask_citizen(case, staff("handler"), "请问站点原来在哪一侧？", version=None)
    page = browser.get(f"/track/{number}").get_data(as_text=True)
    assert text["question"] in page and "请问站点原来在哪一侧？" in page
    assert (
        post(
            browser, f"/track/{number}/reply", {"text": "在路东。"}, f"/track/{number}"
        ).status_code
        == 302
    )

    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.IN_PROGRESS
        casework.resolve_case(case, staff("handler"), "已恢复羊驮寺村公交站点。", version=None)
    page = browser.get(f"/track/{number}").get_data(as_text=True)
    assert text["answer"] in page and "已恢复羊驮寺村公交站点。" in page
    rated = post(
        browser,
        f"/track/{number}/rate",
        {"solved": "yes", "satisfaction": "satisfied", "comment": "谢谢"},
        f"/track/{number}",
    )
    assert rated.status_code == 302
    page = browser.get(f"/track/{number}").get_data(as_text=True)
    assert text["rated"] in page and text["closed"] in page
    # Internal notes and staff names never reach the citizen.
    assert "王建国" not in page


def test_no_access_without_the_link_or_a_code(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    stranger = app.test_client()
    assert stranger.get(f"/track/{number}").status_code == 302
    response = stranger.post(
        f"/track/{number}/withdraw",
        data={"reason": "x", "csrf_token": csrf_token(stranger, "/track")},
    )
    assert response.status_code == 403
    assert stranger.get("/p/not-a-real-key").status_code == 404


def test_tracking_by_number_and_phone_shows_the_status_only(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    visitor = app.test_client()
    right = post(visitor, "/track", {"number": number, "phone": "13812345678"}, "/track").get_data(
        as_text=True
    )
    assert "待受理" in right and "圣惠路羊驮寺村公交站被取消" not in right
    wrong_phone = post(
        visitor, "/track", {"number": number, "phone": "13900009999"}, "/track"
    ).get_data(as_text=True)
    no_case = post(
        visitor, "/track", {"number": "YC2026-999999", "phone": "13812345678"}, "/track"
    ).get_data(as_text=True)

    def answer(page: str) -> str:
        return page[page.index('class="card result"') :].split("</section>")[0]

    assert answer(wrong_phone) == answer(no_case)  # one answer for both


def test_a_one_time_code_opens_the_case(app: Flask, client: FlaskClient, demo_base: None) -> None:
    number, _link = file_request(client)
    visitor = app.test_client()
    post(visitor, "/track/code", {"number": number, "phone": "13812345678"}, "/track")
    with app.app_context():
        sms = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.template == "access_code")
        )
        code = sms.params["code"]
        assert sms.recipient == "13812345678"
    wrong = post(
        visitor,
        "/track/verify",
        {
            "number": number,
            "phone": "13812345678",
            "code": "000000" if code != "000000" else "111111",
        },
        "/track",
    )
    assert "验证码不正确" in wrong.get_data(as_text=True)
    right = post(
        visitor, "/track/verify", {"number": number, "phone": "13812345678", "code": code}, "/track"
    )
    assert right.status_code == 302 and right.headers["Location"] == f"/track/{number}"
    assert visitor.get(f"/track/{number}").status_code == 200
    # A code is used once.
    again = app.test_client()
    reused = post(
        again, "/track/verify", {"number": number, "phone": "13812345678", "code": code}, "/track"
    )
    assert reused.status_code == 200


def test_no_code_is_sent_for_a_wrong_phone_and_the_answer_is_the_same(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    visitor = app.test_client()
    right = post(
        visitor, "/track/code", {"number": number, "phone": "13812345678"}, "/track"
    ).get_data(as_text=True)
    wrong = post(
        visitor, "/track/code", {"number": number, "phone": "13900001111"}, "/track"
    ).get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.template == "access_code")
            )
            == 1
        )
    strip = lambda page: re.sub(r'value="[^"]*"', "", page)  # noqa: E731
    assert strip(right) == strip(wrong)


def test_tracking_is_rate_limited(app: Flask, client: FlaskClient, demo_base: None) -> None:
    limit = int(app.config["RATELIMIT_TRACK"].split()[0])
    token = csrf_token(client, "/track")
    codes = [
        client.post(
            "/track", data={"number": "YC2026-000001", "phone": "13812345678", "csrf_token": token}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert codes[-1] == 429 and set(codes[:-1]) == {200}


def test_a_duplicate_is_offered_and_can_be_followed(app: Flask, demo_base: None) -> None:
    first = app.test_client()
    number, _ = file_request(first)
    second = app.test_client()
    response = post_form(
        second,
        good_fields(
            title="羊驮寺村公交站牌没了", citizen_name="李建华", citizen_phone="13900000002"
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "是以下诉求之一吗" in page and number in page
    followed = post(
        second,
        f"/requests/follow/{number}",
        {"citizen_name": "李建华", "citizen_phone": "13900000002", "notify_by": "sms"},
        FORM,
    )
    assert followed.status_code == 302
    done = second.get("/requests/filed").get_data(as_text=True)
    assert "您已关注此诉求" in done and number in done
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
        follower = db.session.scalar(sa.select(CaseFollower))
        assert follower.phone == "13900000002"
    # The follower sees the case but may not withdraw or rate it.
    assert "撤回诉求" not in second.get(f"/track/{number}").get_data(as_text=True)
    # Filing anyway, after ticking the box, files a second case.
    third = app.test_client()
    data = good_fields(title="羊驮寺村公交站牌没了", confirm_distinct="y")
    assert post_form(third, data).status_code == 302


def test_withdraw(app: Flask, client: FlaskClient, demo_base: None) -> None:
    number, link = file_request(client)
    response = post(
        client, f"/track/{number}/withdraw", {"reason": "问题已解决"}, f"/track/{number}"
    )
    assert response.status_code == 302
    assert "已撤回" in client.get(f"/track/{number}").get_data(as_text=True)
    refused = post(client, f"/track/{number}/withdraw", {"reason": "再撤一次"}, "/track")
    assert refused.status_code == 403


def test_a_petition_review_is_asked_for_on_the_case_page(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client, kind="petition")
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.kind is CaseKind.PETITION
        intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
        casework.sign_for_case(case, staff("handler"), version=None)
        from caseapp.models.enums import PetitionDecision

        casework.resolve_case(
            case,
            staff("handler"),
            "不予支持。",
            version=None,
            decision=PetitionDecision.NOT_SUPPORTED,
        )
    page = client.get(f"/track/{number}").get_data(as_text=True)
    assert "不予支持" in page and "申请复查" in page
    response = post(
        client, f"/track/{number}/review", {"reason": "对处理意见不服"}, f"/track/{number}"
    )
    assert response.status_code == 302
    review_number = response.headers["Location"].rsplit("/", 1)[1]
    assert review_number != number
    assert "复查" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_large_text_mode_is_remembered(client: FlaskClient, demo_base: None) -> None:
    assert 'class="large-text"' in client.get("/?text=large").get_data(as_text=True)
    assert 'class="large-text"' in client.get("/requests/new").get_data(as_text=True)
    assert 'class="large-text"' not in client.get("/?text=normal").get_data(as_text=True)


def test_the_case_page_hides_other_citizens_data(app: Flask, demo_base: None) -> None:
    with app.app_context():
        other = case_in(CaseStatus.NEW)
        number = other.number
    visitor = app.test_client()
    post(visitor, "/track", {"number": number, "phone": "13812345678"}, "/track")
    assert visitor.get(f"/track/{number}").status_code == 302  # status only, no page


def test_the_citizen_downloads_own_files_and_nobody_else_can(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    import io

    from tests.web.public.test_request_form import jpeg_bytes

    number, _link = file_request(client, attachments=[(io.BytesIO(jpeg_bytes()), "站牌.jpg")])
    page = client.get(f"/track/{number}").get_data(as_text=True)
    href = re.search(rf'href="(/track/{number}/files/\d+)"', page).group(1)
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data[:3] == b"\xff\xd8\xff"
    assert app.test_client().get(href).status_code == 403


def test_a_second_unsatisfied_rating_while_a_redo_decision_waits_is_a_403_not_a_500(
    app: Flask, demo_base: None
) -> None:
    """Issue 16, finding 4: a double submit of the rating form (or a rating taken by phone)
    while a further redo waits for a supervisor gave an IntegrityError, a 500, on
    ``POST /track/<number>/rate``. It is refused, and nothing is written."""
    browser = app.test_client()
    number, link = file_request(browser)
    browser.get(link)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
        casework.sign_for_case(case, staff("handler"), version=None)
        for _ in range(2):
            casework.resolve_case(case, staff("handler"), "已处理。", version=None)
            closing.rate_case(case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None)
        casework.resolve_case(case, staff("handler"), "第三次处理。", version=None)
    form = {"solved": "no", "satisfaction": "unsatisfied", "comment": "还是没解决"}
    token = csrf_token(browser, f"/track/{number}")
    first = browser.post(f"/track/{number}/rate", data={**form, "csrf_token": token})
    assert first.status_code == 302  # the third unsatisfied rating: a supervisor decides
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.RESOLVED and case.reopen_count == 2
        version = case.version
    again = browser.post(f"/track/{number}/rate", data={**form, "csrf_token": token})
    assert again.status_code == 403
    # Intake recording a follow-up call meanwhile: not offered, and refused.
    clerk = app.test_client()
    assert AuthActions(clerk).login("intake").status_code == 302
    page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert f"/staff/cases/{number}/act/rate" not in page
    by_phone = clerk.post(
        f"/staff/cases/{number}/act/rate",
        data={
            "solved": "no",
            "satisfaction": "unsatisfied",
            "text": "电话回访：不满意",
            "version": str(version),
            "csrf_token": csrf_token(clerk, f"/staff/cases/{number}"),
        },
    )
    assert by_phone.status_code == 403
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.version == version and len(case.requests) == 1


@pytest.mark.parametrize(
    ("filed_in", "heading"), [("en", '<html lang="en">'), ("zh_CN", '<html lang="zh-CN">')]
)
def test_the_private_link_opens_in_the_language_the_request_was_filed_in(
    app: Flask, demo_base: None, filed_in: str, heading: str
) -> None:
    filer = app.test_client()
    filer.get(f"/?lang={filed_in}")
    _number, link = file_request(filer)
    elsewhere = app.test_client()  # another browser, no language chosen
    opened = elsewhere.get(link, follow_redirects=True)
    assert opened.status_code == 200
    assert heading in opened.get_data(as_text=True)
    chose = app.test_client()  # a browser that chose a language keeps it
    chose.get("/?lang=zh_CN" if filed_in == "en" else "/?lang=en")
    kept = chose.get(link, follow_redirects=True).get_data(as_text=True)
    assert heading not in kept


def _asked(app: Flask, browser: FlaskClient) -> str:
    number, link = file_request(browser)
    browser.get(link)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
        casework.sign_for_case(case, staff("handler"), version=None)
        casework.ask_citizen(case, staff("handler"), "请拍一张站牌的照片。", version=None)
    return number


def test_the_answer_to_a_question_can_carry_the_photo_asked_for(
    app: Flask, demo_base: None
) -> None:
    import io

    from caseapp.models import Attachment, CaseEvent
    from caseapp.models.enums import EventAction
    from tests.web.public.test_request_form import jpeg_bytes

    browser = app.test_client()
    number = _asked(app, browser)
    page = browser.get(f"/track/{number}").get_data(as_text=True)
    reply_form = page[page.index("/reply") :]
    assert 'enctype="multipart/form-data"' in page and 'name="attachments"' in reply_form
    response = browser.post(
        f"/track/{number}/reply",
        data={
            "csrf_token": csrf_token(browser, f"/track/{number}"),
            "text": "照片见附件。",
            "attachments": [(io.BytesIO(jpeg_bytes()), "站牌.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case is not None and case.status is CaseStatus.IN_PROGRESS
        event = db.session.scalar(
            sa.select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.action == EventAction.CITIZEN_REPLIES
            )
        )
        files = db.session.scalars(
            sa.select(Attachment).where(Attachment.event_id == event.id)
        ).all()
        assert [f.filename for f in files] == ["站牌.jpg"] and not files[0].public


def test_a_bad_file_with_the_answer_is_refused_and_nothing_is_kept(
    app: Flask, demo_base: None
) -> None:
    import io

    from tests.conftest import table_fingerprint

    browser = app.test_client()
    number = _asked(app, browser)
    before = table_fingerprint(app)
    response = browser.post(
        f"/track/{number}/reply",
        data={
            "csrf_token": csrf_token(browser, f"/track/{number}"),
            "text": "照片见附件。",
            "attachments": [(io.BytesIO(b"MZ\x90\x00 not a photo"), "photo.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert 'id="attachments-error"' in response.get_data(as_text=True)
    assert table_fingerprint(app) == before
