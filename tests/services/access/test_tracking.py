"""One-time tracking codes by SMS (issue 15): limits per request and per phone, counted
in the database so that they hold whichever host serves the request; one live code per
request and phone; a guess compared with that code only, five at most; an SMS that names
nothing but the case number."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, OutboxMessage, TrackingCode
from caseapp.notify.texts import render
from caseapp.services.access import tracking as citizen
from tests.factories import new_case

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PHONE = "13812345678"


@pytest.fixture
def limits(app: Flask) -> Iterator[None]:
    """The default limits, whatever the environment says (the tests count to them)."""
    saved = {
        name: app.config[name]
        for name in ("RATELIMIT_TRACKING_CODE_CASE", "RATELIMIT_TRACKING_CODE_PHONE")
    }
    app.config.update(
        RATELIMIT_TRACKING_CODE_CASE="3 per hour", RATELIMIT_TRACKING_CODE_PHONE="6 per day"
    )
    yield
    app.config.update(saved)


def codes_sent(case: Case) -> list[str]:
    """The codes queued for ``case``, oldest first (read from the outbox, as the SMS)."""
    rows = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.case_id == case.id, OutboxMessage.template == "access_code")
        .order_by(OutboxMessage.id)
    )
    return [row.params["code"] for row in rows]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_limits_are_the_settings(app_ctx: Flask, limits: None) -> None:
    assert citizen.tracking_code_limits() == citizen.CodeLimits(
        per_case=3,
        case_window=timedelta(hours=1),
        per_phone=6,
        phone_window=timedelta(days=1),
    )


def test_a_new_code_replaces_the_old_one(app_ctx: Flask, demo_base: None, limits: None) -> None:
    case = new_case(now=NOW)
    assert citizen.send_tracking_code(case, now=NOW)
    assert citizen.send_tracking_code(case, now=NOW + timedelta(minutes=1))
    old, new = codes_sent(case)
    assert not citizen.verify_tracking_code(case, old, now=NOW + timedelta(minutes=2))
    assert citizen.verify_tracking_code(case, new, now=NOW + timedelta(minutes=2))
    # Used once.
    assert not citizen.verify_tracking_code(case, new, now=NOW + timedelta(minutes=3))
    live = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TrackingCode)
        .where(TrackingCode.expires_at > NOW + timedelta(minutes=1), TrackingCode.used_at.is_(None))
    )
    assert live == 0


def test_a_code_expires_after_ten_minutes(app_ctx: Flask, demo_base: None, limits: None) -> None:
    case = new_case(now=NOW)
    citizen.send_tracking_code(case, now=NOW)
    (code,) = codes_sent(case)
    assert not citizen.verify_tracking_code(case, code, now=NOW + timedelta(minutes=10))


def test_five_wrong_guesses_end_the_code(app_ctx: Flask, demo_base: None, limits: None) -> None:
    case = new_case(now=NOW)
    citizen.send_tracking_code(case, now=NOW)
    (code,) = codes_sent(case)
    for _ in range(citizen.CODE_ATTEMPTS):
        assert not citizen.verify_tracking_code(case, wrong(code), now=NOW)
    assert not citizen.verify_tracking_code(case, code, now=NOW)


def test_guesses_are_compared_with_the_latest_code_only(
    app_ctx: Flask, demo_base: None, limits: None
) -> None:
    case = new_case(now=NOW)
    citizen.send_tracking_code(case, now=NOW)
    citizen.send_tracking_code(case, now=NOW)
    first, latest = codes_sent(case)
    # Wrong guesses count against the latest code only: the earlier one, though
    # unexpired, is neither tried nor charged.
    assert not citizen.verify_tracking_code(case, first, now=NOW)
    rows = db.session.scalars(sa.select(TrackingCode).order_by(TrackingCode.id)).all()
    assert [row.attempts for row in rows] == [0, 1]
    assert citizen.verify_tracking_code(case, latest, now=NOW)


def test_a_request_gets_its_limit_of_codes_per_window(
    app_ctx: Flask, demo_base: None, limits: None
) -> None:
    case = new_case(now=NOW)
    sent = [citizen.send_tracking_code(case, now=NOW + timedelta(minutes=i)) for i in range(5)]
    assert sent == [True, True, True, False, False]
    assert len(codes_sent(case)) == 3
    # The refused ask did not replace the live code.
    assert citizen.verify_tracking_code(case, codes_sent(case)[-1], now=NOW + timedelta(minutes=5))
    # A moving window: an hour after the first code, one more may go.
    assert citizen.send_tracking_code(case, now=NOW + timedelta(minutes=60, seconds=1))
    assert not citizen.send_tracking_code(case, now=NOW + timedelta(minutes=60, seconds=2))


def test_a_phone_gets_its_limit_of_codes_whatever_the_request(
    app: Flask, app_ctx: Flask, demo_base: None, limits: None
) -> None:
    app.config["RATELIMIT_TRACKING_CODE_PHONE"] = "4 per day"
    first, second, other_phone = (
        new_case(now=NOW),
        new_case(now=NOW),
        new_case(now=NOW, citizen_phone="13900001111"),
    )
    at = [NOW + timedelta(hours=h) for h in range(6)]
    assert [citizen.send_tracking_code(first, now=t) for t in at[:3]] == [True] * 3
    assert citizen.send_tracking_code(second, now=at[3])
    assert not citizen.send_tracking_code(second, now=at[4])  # the phone's fifth today
    assert citizen.send_tracking_code(other_phone, now=at[4])
    assert citizen.send_tracking_code(second, now=NOW + timedelta(days=1, seconds=1))


def test_asking_at_once_from_many_hosts_sends_no_more_than_the_limit(
    app: Flask, demo_base: None, limits: None
) -> None:
    """Ten asks at the same moment, each in its own connection as on ten hosts."""
    with app.app_context():
        number = new_case(now=NOW).number
    barrier = threading.Barrier(10)
    results: list[object] = []

    def ask() -> None:
        with app.app_context():
            try:
                # Wait before the first query: on SQLite a thread that has begun its
                # transaction holds the write lock, and the others would wait for it.
                barrier.wait(timeout=30)
                case = db.session.scalar(sa.select(Case).where(Case.number == number))
                results.append(citizen.send_tracking_code(case, now=NOW))
            except Exception as error:  # noqa: BLE001 - the test looks at what each got
                results.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(map(repr, results)) == sorted(["True"] * 3 + ["False"] * 7)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert len(codes_sent(case)) == 3
        live = db.session.scalars(
            sa.select(TrackingCode).where(
                TrackingCode.expires_at > NOW, TrackingCode.used_at.is_(None)
            )
        ).all()
        assert len(live) == 1  # each new code ended the one before


def test_no_code_for_a_phone_that_cannot_get_an_sms(
    app_ctx: Flask, demo_base: None, limits: None
) -> None:
    landline = new_case(now=NOW)
    landline.citizen_phone = "03592345678"  # as staff may file for a caller on a landline
    db.session.commit()
    assert not citizen.send_tracking_code(landline, now=NOW)
    assert codes_sent(landline) == []


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_sms_names_the_case_number_and_nothing_else_of_the_case(
    app_ctx: Flask, demo_base: None, limits: None, language: str
) -> None:
    case = new_case(
        now=NOW,
        title="举报某单位违规收费",
        description="某某单位向居民违规收取物业费",
        citizen_name="李桂兰",
        address="盐湖区红旗西街25号院3单元",
        public_location="红旗西街",
        language=language,
    )
    citizen.send_tracking_code(case, now=NOW)
    sms = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.template == "access_code"))
    assert sms.recipient == PHONE and sms.language == language
    assert set(sms.params) == {"number", "code", "minutes"}
    _subject, text = render(sms.template, sms.language, sms.params)
    assert case.number in text and sms.params["code"] in text
    for detail in ("举报", "违规", "李桂兰", "红旗西街", "盐湖区", "单位"):
        assert detail not in text
