"""The escalation board: counts by department, the overdue list, approvals waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, CaseRequest
from caseapp.models.enums import CaseKind, CaseStatus, Clock, RequestStatus, Satisfaction
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing
from caseapp.services.casework import handling as casework
from tests.conftest import AuthActions, csrf_token
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


# --- deciding approvals on the board ---------------------------------------------------------


def _waiting_extension(app: Flask, **fields: object) -> tuple[str, int, datetime]:
    """A case in progress with an extension request of 2 days: number, version, deadline."""
    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS, **fields)  # type: ignore[arg-type]
        casework.request_extension(case, staff("handler"), 2, "需要联合勘查", version=None)
        return case.number, case.version, _resolve_due(case.number)


def _resolve_due(number: str) -> datetime:
    case = db.session.scalar(sa.select(Case).where(Case.number == number))
    db.session.refresh(case)
    return deadlines.running(case, Clock.RESOLVE)[0].due_at


def _request(number: str) -> CaseRequest:
    return db.session.scalar(
        sa.select(CaseRequest)
        .join(Case, Case.id == CaseRequest.case_id)
        .where(Case.number == number)
    )


def _decide(
    client: FlaskClient, number: str, version: int, approve: str, back: str = "escalations"
):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/supervisor/escalations")
    return client.post(
        f"/staff/cases/{number}/act/decide-extension",
        data={"csrf_token": token, "version": str(version), "approve": approve,
              "note": "同意延期", "back": back},
    )  # fmt: skip


def test_the_board_offers_a_decision_with_the_case_version(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    number, version, _due = _waiting_extension(app)
    body = supervisor_client.get("/supervisor/escalations?lang=en").get_data(as_text=True)
    approvals = body[body.index('id="approvals"') : body.index('id="late"')]
    assert f'action="/staff/cases/{number}/act/decide-extension"' in approvals
    assert f'name="version" value="{version}"' in approvals
    assert 'name="back" value="escalations"' in approvals
    assert 'name="approve" value="yes"' in approvals and 'name="approve" value="no"' in approvals
    assert "需要联合勘查" in approvals and "承办人 王建国" in approvals  # reason, requester
    assert f'href="/staff/cases/{number}#actions-title"' in approvals  # the case page still


def test_a_supervisor_approves_an_extension_from_the_board(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    number, version, before = _waiting_extension(app)
    response = _decide(supervisor_client, number, version, "yes")
    assert response.status_code == 302
    assert response.headers["Location"] == "/supervisor/escalations#approvals"
    with app.app_context():
        assert _request(number).status is RequestStatus.APPROVED
        assert _resolve_due(number) > before
    body = supervisor_client.get("/supervisor/escalations").get_data(as_text=True)
    approvals = body[body.index('id="approvals"') : body.index('id="late"')]
    assert number not in approvals


def test_a_supervisor_denies_an_extension_from_the_board(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    number, version, before = _waiting_extension(app)
    response = _decide(supervisor_client, number, version, "no")
    assert response.headers["Location"] == "/supervisor/escalations#approvals"
    with app.app_context():
        assert _request(number).status is RequestStatus.DENIED
        assert _resolve_due(number) == before


@pytest.mark.parametrize("back", ["https://example.com/", "/supervisor/escalations", "", "case"])
def test_any_other_way_back_leads_to_the_case_page(
    app: Flask, supervisor_client: FlaskClient, back: str
) -> None:
    number, version, _before = _waiting_extension(app)
    response = _decide(supervisor_client, number, version, "yes", back=back)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/cases/{number}"


def test_a_stale_decision_from_the_board_is_a_conflict(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    number, version, before = _waiting_extension(app)
    response = _decide(supervisor_client, number, version - 1, "yes")
    assert response.status_code == 409
    with app.app_context():
        assert _request(number).status is RequestStatus.PENDING
        assert _resolve_due(number) == before


def test_a_petition_extension_is_listed_but_not_decided_by_a_supervisor(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    number, _version, _before = _waiting_extension(app, kind=CaseKind.PETITION, category="petition")
    body = supervisor_client.get("/supervisor/escalations").get_data(as_text=True)
    approvals = body[body.index('id="approvals"') : body.index('id="late"')]
    assert number in approvals
    assert "decide-extension" not in approvals
    # It says who decides: the lead of the case's department (zjj's demo lead).
    assert "住建局负责人 陈志强" in approvals


def test_a_request_nobody_can_decide_says_so(app: Flask, supervisor_client: FlaskClient) -> None:
    from caseapp.models import User

    _waiting_extension(app, kind=CaseKind.PETITION, category="petition")
    with app.app_context():
        lead = db.session.scalar(sa.select(User).where(User.username == "lead"))
        assert lead is not None
        lead.active = False  # the department has no lead now
        db.session.commit()
    body = supervisor_client.get("/supervisor/escalations?lang=en").get_data(as_text=True)
    approvals = body[body.index('id="approvals"') : body.index('id="late"')]
    assert "Nobody can decide this yet: the department needs a lead." in approvals


def test_a_leader_sees_waiting_approvals_without_a_decision(app: Flask, demo_base: None) -> None:
    number, _version, _before = _waiting_extension(app, leader=True)
    client = app.test_client()
    AuthActions(client).login("leader")
    body = client.get("/supervisor/escalations").get_data(as_text=True)
    approvals = body[body.index('id="approvals"') : body.index('id="late"')]
    assert number in approvals and "<form" not in approvals


def test_late_returns_and_further_redos_are_decided_from_the_board_too(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        late = case_in(CaseStatus.IN_PROGRESS, now=now - timedelta(days=10))
        casework.request_return(late, staff("handler"), "不属于本单位", version=None)
        redo = case_in(CaseStatus.RESOLVED)
        redo.reopen_count = 2
        db.session.commit()
        closing.rate_case(redo, staff("intake"), False, Satisfaction.UNSATISFIED, version=None)
        cases = {
            "decide-return": (late.number, late.version),
            "decide-redo": (redo.number, redo.version),
        }
    body = supervisor_client.get("/supervisor/escalations").get_data(as_text=True)
    for slug, (number, _version) in cases.items():
        assert f'action="/staff/cases/{number}/act/{slug}"' in body
    token = csrf_token(supervisor_client, "/supervisor/escalations")
    for slug, (number, version) in cases.items():
        response = supervisor_client.post(
            f"/staff/cases/{number}/act/{slug}",
            data={"csrf_token": token, "version": str(version), "approve": "yes",
                  "note": "同意", "back": "escalations"},
        )  # fmt: skip
        assert response.headers["Location"] == "/supervisor/escalations#approvals"
    with app.app_context():
        statuses = {n: db.session.scalar(sa.select(Case.status).where(Case.number == n))
                    for n, _v in cases.values()}  # fmt: skip
    assert statuses == {
        cases["decide-return"][0]: CaseStatus.RETURNED,
        cases["decide-redo"][0]: CaseStatus.IN_PROGRESS,
    }
