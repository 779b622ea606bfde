"""The staff inbox: the sweep's notices reach the right people, once, and can be read."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import time_machine
from flask import Flask

from caseapp.extensions import db
from caseapp.models import InboxMessage
from caseapp.models.enums import CaseStatus, RequestKind
from caseapp.services.casework import decisions
from caseapp.services.casework.sweep import run_sweep
from tests.conftest import AuthActions, csrf_token
from tests.factories import case_in, user

TZ = ZoneInfo("Asia/Shanghai")


def test_overdue_notices_reach_the_lead_and_can_be_marked_read(app: Flask, demo_base: None) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS, now=datetime(2026, 11, 2, 9, 0, tzinfo=TZ)).number
        with time_machine.travel(datetime(2026, 11, 9, 9, 0, tzinfo=TZ), tick=False):
            run_sweep()
        lead_id = user("lead").id
        message_id = db.session.scalar(
            sa.select(InboxMessage.id).where(InboxMessage.user_id == lead_id)
        )
    lead = app.test_client()
    AuthActions(lead).login("lead")
    page = lead.get("/staff/inbox").get_data(as_text=True)
    assert number in page and "已超期" in page
    token = csrf_token(lead, "/staff/inbox")
    assert (
        lead.post(f"/staff/inbox/{message_id}/read", data={"csrf_token": token}).status_code == 302
    )
    with app.app_context():
        assert db.session.get(InboxMessage, message_id).read_at is not None
    other = app.test_client()
    AuthActions(other).login("handler2")
    token = csrf_token(other, "/staff/inbox")
    assert (
        other.post(f"/staff/inbox/{message_id}/read", data={"csrf_token": token}).status_code == 404
    )
    assert number not in other.get("/staff/inbox").get_data(as_text=True)


def test_urges_and_decisions_read_as_sentences_with_local_deadlines(
    app: Flask, demo_base: None
) -> None:
    from caseapp.models.enums import Clock
    from caseapp.services.casework import clocks as deadlines
    from caseapp.services.casework import handling as casework
    from caseapp.services.casework import supervision
    from tests.factories import staff

    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS, now=datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
        number = case.number
        supervision.urge_case(case, staff("supervisor"), "请本周内办结", version=None)
        casework.request_extension(
            case, staff("handler"), 4, "需要联合勘查", version=None,
            now=datetime(2026, 11, 3, 9, 0, tzinfo=TZ),
        )  # fmt: skip
        decisions.decide_request(RequestKind.EXTENSION,
            case, staff("supervisor"), True, version=None,
            now=datetime(2026, 11, 3, 11, 0, tzinfo=TZ),
        )  # fmt: skip
        new_due = deadlines.running(case, Clock.RESOLVE)[0].due_at
        assert new_due == datetime(2026, 11, 12, tzinfo=TZ)
    handler = app.test_client()
    AuthActions(handler).login("handler")
    page = handler.get("/staff/inbox?lang=en").get_data(as_text=True)
    assert "Urged by a supervisor" in page and "请本周内办结" in page
    assert "Request decided" in page and "Extension" in page and "Approved" in page
    assert "New deadline: 2026-11-11 24:00" in page  # the last day, in the city's time
    assert new_due.isoformat() not in page
    supervisor = app.test_client()
    AuthActions(supervisor).login("supervisor")
    page = supervisor.get("/staff/inbox?lang=en").get_data(as_text=True)
    assert "Waiting for your decision" in page and "Days: 4" in page and number in page


def test_an_escalation_notice_shows_its_deadline_in_the_city_time(
    app: Flask, demo_base: None
) -> None:
    with app.app_context():
        case_in(CaseStatus.IN_PROGRESS, now=datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
        with time_machine.travel(datetime(2026, 11, 9, 9, 0, tzinfo=TZ), tick=False):
            run_sweep()
        params = db.session.scalar(
            sa.select(InboxMessage.params).where(InboxMessage.user_id == user("lead").id)
        )
        due = datetime.fromisoformat(params["due"]).astimezone(TZ)
    assert (due.hour, due.minute) == (0, 0)  # a day clock ends at midnight
    lead = app.test_client()
    AuthActions(lead).login("lead")
    page = lead.get("/staff/inbox?lang=en").get_data(as_text=True)
    assert params["due"] not in page
    assert f"Deadline: {due - timedelta(days=1):%Y-%m-%d} 24:00" in page


def test_an_unaccepted_case_overdue_reaches_intake_naming_its_clock(
    app: Flask, demo_base: None
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.NEW, now=datetime(2026, 11, 2, 9, 0, tzinfo=TZ)).number
        with time_machine.travel(datetime(2026, 11, 4, 9, 0, tzinfo=TZ), tick=False):
            run_sweep()
    clerk = app.test_client()
    AuthActions(clerk).login("intake")
    page = clerk.get("/staff/inbox").get_data(as_text=True)
    assert number in page and "已超期" in page and "受理 · 时限" in page
