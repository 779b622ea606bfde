"""The escalation board: counts by department, the overdue list, approvals waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseapp.models.enums import CaseStatus
from caseapp.services import casework
from tests.conftest import AuthActions
from tests.factories import case_in, staff


@pytest.mark.parametrize("username", ["intake", "handler", "lead", "admin"])
def test_only_supervisors_and_leaders_open_the_board(
    app: Flask, demo_base: None, username: str
) -> None:
    client = app.test_client()
    AuthActions(client).login(username)
    assert client.get("/supervisor/escalations").status_code == 403


def test_the_board_counts_lists_and_sorts(app: Flask, supervisor_client: FlaskClient) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        older = case_in(CaseStatus.IN_PROGRESS, now=now - timedelta(days=40))  # long overdue
        newer = case_in(CaseStatus.IN_PROGRESS, now=now - timedelta(days=12), lead="cgj")
        fresh = case_in(CaseStatus.IN_PROGRESS, now=now)
        casework.request_extension(fresh, staff("handler"), 2, "需协调", version=None)
        numbers = (older.number, newer.number, fresh.number)
    body = supervisor_client.get("/supervisor/escalations").get_data(as_text=True)
    assert "市住房和城乡建设局" in body and "市城市管理局" in body
    late = body[body.index('id="late"') :]
    assert late.index(numbers[0]) < late.index(numbers[1])  # the most late first
    assert numbers[2] not in late
    approvals = body[body.index('id="approvals"') : body.index('id="late"')]
    assert numbers[2] in approvals and "延期申请" in approvals


def test_a_leader_sees_only_the_cases_in_their_care(app: Flask, demo_base: None) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        mine = case_in(CaseStatus.IN_PROGRESS, now=now - timedelta(days=40), leader=True).number
        other = case_in(CaseStatus.IN_PROGRESS, now=now - timedelta(days=40)).number
    client = app.test_client()
    AuthActions(client).login("leader")
    body = client.get("/supervisor/escalations").get_data(as_text=True)
    assert mine in body and other not in body


def test_from_1_december_a_next_year_without_calendar_data_is_a_warning(
    app: Flask, demo_base: None
) -> None:
    from zoneinfo import ZoneInfo

    import time_machine

    tz = ZoneInfo("Asia/Shanghai")

    def page(username: str, url: str) -> str:
        client = app.test_client()  # signed in at the travelled time (idle timeout)
        AuthActions(client).login(username)
        response = client.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    with time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=tz), tick=False):
        assert "2027" not in page("supervisor", "/supervisor/escalations")
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=tz), tick=False):
        assert "2027" in page("supervisor", "/supervisor/escalations")
        assert "2027" in page("admin", "/admin/")
