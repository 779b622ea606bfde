"""The staff inbox: the sweep's notices reach the right people, once, and can be read."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import time_machine
from flask import Flask

from caseapp.extensions import db
from caseapp.models import InboxMessage
from caseapp.models.enums import CaseStatus
from caseapp.services.sweep import run_sweep
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
