"""Every path that shows staff a citizen's personal data writes an audit row (issue 20,
point 5): the contact revealed on the case page, the name revealed on a printed notice,
a search of the queue by phone number and its export (CSV and XLSX). The rows say who,
from where, when and which case, never the data. The plain queue export carries no
personal data, and writes nothing.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import CaseStatus
from tests.conftest import _client_as, csrf_token
from tests.factories import case_in, user

NAME, PHONE, EMAIL = "张秀英", "13812345678", "xiuying@example.cn"


def rows(app: Flask, entity: str) -> list[AuditLog]:
    with app.app_context():
        found = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)
        ).all()
        db.session.expunge_all()
        db.session.remove()
    return list(found)


@pytest.fixture
def accepted_case(app: Flask, demo_base: None) -> str:
    with app.app_context():
        number = case_in(CaseStatus.DISPATCHED, citizen_email=EMAIL).number
        db.session.remove()
    return number


@pytest.fixture
def intake(app: Flask, demo_base: None) -> FlaskClient:
    return _client_as(app, "intake")


def _intake_id(app: Flask) -> int:
    with app.app_context():
        found = user("intake").id
        db.session.remove()
    return found


def _cells(content: bytes, *, xlsx: bool) -> str:
    """Every cell of an export, as text."""
    if not xlsx:
        return content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row
    )


def _no_personal_data(row: AuditLog) -> None:
    text = str(row.before) + str(row.after) + str(row.entity_id)
    assert NAME not in text and PHONE not in text and EMAIL not in text


def test_revealing_the_contact_on_the_case_page_is_written(
    app: Flask, intake: FlaskClient, accepted_case: str
) -> None:
    page = f"/staff/cases/{accepted_case}"
    masked = intake.get(page).get_data(as_text=True)
    assert PHONE not in masked and NAME not in masked
    assert rows(app, "personal_data") == []
    shown = intake.post(f"{page}/reveal", data={"csrf_token": csrf_token(intake, page)})
    assert shown.status_code == 200 and PHONE in shown.get_data(as_text=True)
    (row,) = rows(app, "personal_data")
    assert (row.action, row.actor_id, row.entity_id) == (
        "reveal_contact",
        _intake_id(app),
        accepted_case,
    )
    assert row.after == {"address": "127.0.0.1", "fields": ["name", "phone", "email"]}
    _no_personal_data(row)


def test_revealing_the_name_on_a_printed_notice_is_written(
    app: Flask, intake: FlaskClient, accepted_case: str
) -> None:
    notice = f"/staff/cases/{accepted_case}/notice/acceptance"
    assert NAME not in intake.get(notice).get_data(as_text=True)
    assert rows(app, "personal_data") == []
    shown = intake.post(notice, data={"csrf_token": csrf_token(intake, notice)})
    assert shown.status_code == 200 and NAME in shown.get_data(as_text=True)
    (row,) = rows(app, "personal_data")
    assert (row.action, row.entity_id, row.after["address"]) == (
        "reveal_contact",
        accepted_case,
        "127.0.0.1",
    )
    _no_personal_data(row)


@pytest.mark.parametrize(
    ("url", "action"),
    [
        ("/staff/queue?view=all&q=13812345678", "search"),
        ("/staff/queue.csv?view=all&q=13812345678", "export"),
        ("/staff/queue.xlsx?view=all&q=13812345678", "export"),
    ],
)
def test_a_search_by_phone_and_its_exports_are_written(
    app: Flask, intake: FlaskClient, accepted_case: str, url: str, action: str
) -> None:
    answer = intake.get(url)
    # The search finds one case and opens it; an export is the file.
    assert answer.status_code == (302 if action == "search" else 200)
    answer.get_data()
    (row,) = rows(app, "phone_search")
    assert (row.action, row.actor_id) == (action, _intake_id(app))
    assert row.after is not None and row.after["cases"] == [accepted_case]
    assert PHONE not in str(row.after)  # the number masked (138****5678)


@pytest.mark.parametrize("url", ["/staff/queue.csv?view=all", "/staff/queue.xlsx?view=all"])
def test_the_queue_export_carries_no_personal_data_and_writes_nothing(
    app: Flask, intake: FlaskClient, accepted_case: str, url: str
) -> None:
    answer = intake.get(url)
    assert answer.status_code == 200
    content = _cells(answer.get_data(), xlsx=".xlsx" in url)
    assert accepted_case in content
    for secret in (NAME, PHONE, EMAIL):
        assert secret not in content
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))) == 0
        db.session.remove()
