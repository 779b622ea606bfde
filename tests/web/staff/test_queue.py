"""The staff queue: behind sign-in, and showing only the cases the user may see."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from caseapp.models.enums import CaseStatus
from tests.factories import case_row


def test_queue_needs_sign_in(client: FlaskClient) -> None:
    response = client.get("/staff/queue")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_empty_queue_says_so(handler_client: FlaskClient) -> None:
    body = handler_client.get("/staff/queue").get_data(as_text=True)
    assert "您目前没有待办案件" in body


def test_handler_sees_own_department_cases_only(app: Flask, handler_client: FlaskClient) -> None:
    with app.app_context():
        case_row(title="住建局的案件", lead="zjj")
        case_row(title="城管局的案件", lead="cgj")
    body = handler_client.get("/staff/queue").get_data(as_text=True)
    assert "住建局的案件" in body
    assert "城管局的案件" not in body


def test_intake_sees_every_open_case_nearest_deadline_first(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        case_row(title="later-case", lead="cgj", due_in=timedelta(days=3))
        case_row(title="sooner-case", lead="zjj", due_in=timedelta(hours=2))
        case_row(title="closed-case", status=CaseStatus.CLOSED, due_in=None)
    body = intake_client.get("/staff/queue").get_data(as_text=True)
    assert body.index("sooner-case") < body.index("later-case")
    assert "closed-case" not in body


def test_admin_alone_sees_no_case(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        case_row(title="someone-elses-case")
    assert "someone-elses-case" not in admin_client.get("/staff/queue").get_data(as_text=True)


def test_a_midnight_deadline_reads_as_24_00_of_the_day_before(
    app: Flask, intake_client: FlaskClient
) -> None:
    from datetime import UTC, datetime

    from caseapp.extensions import db

    with app.app_context():
        case = case_row(title="deadline-case")
        case.next_deadline_at = datetime(
            2026, 11, 27, 16, 0, tzinfo=UTC
        )  # 00:00 on 28 Nov in Shanghai
        db.session.commit()
    body = intake_client.get("/staff/queue").get_data(as_text=True)
    assert "2026-11-27 24:00" in body
