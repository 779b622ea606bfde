"""Tracking codes through the web (issue 15): asking for codes from many addresses sends
no more than the request's limit; the answer is the same whether number and phone
matched and whether a limit stopped the SMS; the page says how many codes can be asked
for; a new code replaces the old; a guess is compared with the latest code only."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import OutboxMessage
from tests.conftest import csrf_token
from tests.web.public.test_citizen_journey import file_request

PHONE = "13812345678"

LIMITS_TEXT = {
    "zh_CN": "同一诉求在1小时内最多可获取3个验证码，同一手机号在1天内最多6个",
    "en": (
        "You can ask for up to 3 codes for one request within 1 hour, "
        "and up to 6 codes for one phone within 1 day."
    ),
}


@pytest.fixture(autouse=True)
def default_limits(app: Flask):  # type: ignore[no-untyped-def]
    names = ("RATELIMIT_TRACKING_CODE_CASE", "RATELIMIT_TRACKING_CODE_PHONE")
    saved = {name: app.config[name] for name in names}
    app.config.update(
        RATELIMIT_TRACKING_CODE_CASE="3 per hour", RATELIMIT_TRACKING_CODE_PHONE="6 per day"
    )
    yield
    app.config.update(saved)


def visitor(app: Flask, address: str = "10.0.0.1", lang: str = "zh_CN") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.get(f"/?lang={lang}")
    return client


def ask_for_code(client: FlaskClient, number: str, phone: str = PHONE):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/track")
    return client.post("/track/code", data={"number": number, "phone": phone, "csrf_token": token})


def enter_code(client: FlaskClient, number: str, code: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/track")
    return client.post(
        "/track/verify",
        data={"number": number, "phone": PHONE, "code": code, "csrf_token": token},
    )


def codes_sent(app: Flask) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template == "access_code")
            .order_by(OutboxMessage.id)
        )
        return [row.params["code"] for row in rows]


def without_values(page: str) -> str:
    """The page without its form values (the CSRF token, the number and phone typed)."""
    return re.sub(r'value="[^"]*"', "", page)


def test_dozens_of_asks_from_several_addresses_send_the_request_s_limit(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    answers = [
        ask_for_code(visitor(app, f"10.0.0.{address}"), number)
        for address in range(1, 6)
        for _ in range(6)
    ]
    assert {answer.status_code for answer in answers} == {200}
    assert len(codes_sent(app)) == 3
    # Every answer the same, those that sent a code and those a limit stopped.
    assert len({without_values(answer.get_data(as_text=True)) for answer in answers}) == 1


def test_the_answer_is_the_same_whatever_matched_or_stopped(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    sent = ask_for_code(visitor(app, "10.0.1.1"), number)
    for _ in range(2):
        ask_for_code(visitor(app, "10.0.1.2"), number)
    assert len(codes_sent(app)) == 3
    stopped = ask_for_code(visitor(app, "10.0.1.3"), number)
    wrong_phone = ask_for_code(visitor(app, "10.0.1.4"), number, phone="13900001111")
    no_case = ask_for_code(visitor(app, "10.0.1.5"), "YC2026-999999")
    assert len(codes_sent(app)) == 3
    pages = {
        without_values(answer.get_data(as_text=True))
        for answer in (sent, stopped, wrong_phone, no_case)
    }
    assert len(pages) == 1
    assert {sent.status_code, stopped.status_code, wrong_phone.status_code} == {200}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_citizens_are_told_how_many_codes_they_can_ask_for(
    app: Flask, client: FlaskClient, demo_base: None, lang: str
) -> None:
    number, _link = file_request(client)
    browser = visitor(app, lang=lang)
    token = csrf_token(browser, "/track")
    found = browser.post("/track", data={"number": number, "phone": PHONE, "csrf_token": token})
    assert LIMITS_TEXT[lang] in found.get_data(as_text=True)
    assert LIMITS_TEXT[lang] in ask_for_code(browser, number).get_data(as_text=True)


def test_a_new_code_replaces_the_old_one_and_a_guess_meets_the_latest_only(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    browser = visitor(app)
    ask_for_code(browser, number)
    ask_for_code(browser, number)
    old, new = codes_sent(app)
    refused = enter_code(browser, number, old)
    assert refused.status_code == 200 and "验证码不正确" in refused.get_data(as_text=True)
    assert browser.get(f"/track/{number}").status_code == 302  # not opened
    opened = enter_code(browser, number, new)
    assert opened.status_code == 302 and opened.headers["Location"] == f"/track/{number}"


def test_five_wrong_codes_end_the_live_one(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    number, _link = file_request(client)
    ask_for_code(visitor(app, "10.0.2.1"), number)
    (code,) = codes_sent(app)
    guess = f"{(int(code) + 1) % 1_000_000:06d}"
    # From five addresses, so that the address limit is not what stops them.
    for address in range(2, 7):
        enter_code(visitor(app, f"10.0.2.{address}"), number, guess)
    late = enter_code(visitor(app, "10.0.2.9"), number, code)
    assert late.status_code == 200 and "验证码不正确" in late.get_data(as_text=True)
