"""A phone number in the queue's search box: one case opens, several are listed in every
status with the number masked, a department never finds a petitioner by phone, the
exports give the same list, every search is in the audit log, and junk is no error."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import CaseKind, CaseStatus
from caseapp.services.pages.queue import PHONE_SEARCH
from tests.conftest import _client_as
from tests.factories import case_in

PHONE = "13812345678"
MASKED = "138****5678"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
S = CaseStatus
CASE_LINK = re.compile(r'href="/staff/cases/([^"]+)"')


def _queue(client: FlaskClient, q: str, extra: str = "") -> tuple[int, str, str]:
    """(status, Location or "", body) of the queue searched for ``q``."""
    response = client.get(f"/staff/queue?q={quote(q)}{extra}")
    return response.status_code, response.headers.get("Location", ""), response.get_data(True)


def _visible_text(body: str) -> str:
    """The page's text without its tags and their attributes (an input's value)."""
    return re.sub(r"<[^>]*>", " ", body)


def _list_section(body: str) -> str:
    """The page from the phone's heading to its end: the list and its notice."""
    return body[body.index('id="phone-search-heading"') :]


def test_one_case_of_a_phone_opens_even_when_closed(app: Flask, intake_client: FlaskClient) -> None:
    with app.app_context():
        number = case_in(S.CLOSED, citizen_phone=PHONE).number
        case_in(S.IN_PROGRESS, citizen_phone="13987654321")
    for typed in (PHONE, "138 1234 5678", "+86 138-1234-5678", " +8613812345678 "):
        status, location, _body = _queue(intake_client, typed, "&view=intake&status=new")
        assert status == 302, typed
        assert location == f"/staff/cases/{number}"
    assert intake_client.get(location).status_code == 200


def test_several_cases_are_listed_in_every_status_newest_first_masked(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    statuses = (S.NEW, S.REJECTED, S.WITHDRAWN, S.IN_PROGRESS, S.CLOSED)
    with app.app_context():
        numbers = [
            case_in(
                status, citizen_phone=PHONE, citizen_name="张秀英", now=T0 + timedelta(days=i)
            ).number
            for i, status in enumerate(statuses)
        ]
        other = case_in(S.NEW, citizen_phone="13987654321").number
    status, _location, body = _queue(supervisor_client, "138-1234-5678", "&lang=zh_CN")
    assert status == 200
    listed = _list_section(body)
    assert CASE_LINK.findall(listed) == list(reversed(numbers))
    assert other not in body
    assert f"手机号码{MASKED}的案件" in listed
    assert "标签页和筛选条件不适用" in listed
    for word in ("已归档", "已撤回", "不予受理", "待受理", "办理中"):
        assert word in listed
    # The number and the name are nowhere on the page: masked only (the links to the
    # next page and the exports carry the query typed, as the address does).
    shown = _visible_text(body)
    assert PHONE not in shown and "1234" not in shown and "张秀英" not in body
    # No tab is marked as the one shown: the list is not a tab's.
    assert 'aria-current="page"' not in body.split('class="queue-tabs"')[1].split("</nav>")[0]
    english = _queue(supervisor_client, PHONE, "&lang=en")[2]
    assert f"Cases of the phone number {MASKED}" in english


def test_a_department_does_not_find_a_petition_by_phone_but_intake_does(
    app: Flask, demo_base: None
) -> None:
    with app.app_context():
        petition = case_in(S.IN_PROGRESS, kind=CaseKind.PETITION, citizen_phone=PHONE).number
    handler = _client_as(app, "handler")
    # The handler sees the petition in their queue (without its filer) ...
    assert petition in handler.get("/staff/queue?view=all").get_data(True)
    # ... but the phone finds nothing, and the page reads as for a phone with no case.
    for client in (handler, _client_as(app, "lead")):
        status, _location, body = _queue(client, PHONE)
        assert status == 200
        assert petition not in body
        assert "没有您可查看的该号码提交的案件" in body
        none_at_all = _list_section(_queue(client, "13700001111")[2])
        same = none_at_all.replace("137****1111", MASKED).replace("13700001111", PHONE)
        assert same == _list_section(body)
    for username in ("intake", "supervisor"):
        status, location, _body = _queue(_client_as(app, username), PHONE)
        assert (status, location) == (302, f"/staff/cases/{petition}")


def test_a_digit_string_that_is_no_phone_searches_the_text_as_before(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        meter = case_in(S.NEW, title="电表号12345678901读数异常", citizen_phone=PHONE).number
        case_in(S.NEW, title="路灯不亮", citizen_phone=PHONE)
    for q in ("12345678901", "2345678"):
        status, _location, body = _queue(intake_client, q, "&view=all")
        assert status == 200
        assert CASE_LINK.findall(body) == [meter]
        assert "phone-search-heading" not in body
    assert _queue(intake_client, "1381234", "&view=all")[2].count("/staff/cases/") == 0


@pytest.mark.parametrize(
    "q",
    [
        "\x00",
        "138\x001234\x005678",
        "13812345678\x00",
        "\x00" * 50,
        "1" * 10_000,
        "138 " * 2_500,
        "+" * 40,
        "+86",
        "(((((((",
        "+86 138 1234 5678 " * 600,
    ],
)
def test_junk_in_the_search_is_never_a_server_error(
    app: Flask, intake_client: FlaskClient, q: str
) -> None:
    with app.app_context():
        case_in(S.NEW, citizen_phone=PHONE)
    for path in ("/staff/queue", "/staff/queue.csv", "/staff/queue.xlsx"):
        response = intake_client.get(f"{path}?q={quote(q)}")
        assert response.status_code in (200, 400), (path, response.status_code)


def _audit_after(app: Flask) -> list[tuple[str, dict[str, object]]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.entity == PHONE_SEARCH).order_by(AuditLog.id)
        ).all()
        return [(row.action, dict(row.after or {})) for row in rows]


def test_the_exports_of_a_phone_hold_its_list_and_are_audited(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        numbers = [
            case_in(status, citizen_phone=PHONE, now=T0 + timedelta(days=i)).number
            for i, status in enumerate((S.CLOSED, S.IN_PROGRESS, S.WITHDRAWN))
        ]
        case_in(S.NEW, citizen_phone="13987654321")
    newest_first = list(reversed(numbers))
    page = _list_section(_queue(supervisor_client, PHONE)[2])
    assert CASE_LINK.findall(page) == newest_first
    xlsx = supervisor_client.get(f"/staff/queue.xlsx?q={PHONE}&lang=zh_CN")
    assert xlsx.status_code == 200
    assert "cases-phone-" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.title == "手机号码的案件"
    rows = [[str(v or "") for v in row] for row in sheet.iter_rows(values_only=True)]
    assert [row[0] for row in rows[1:]] == newest_first
    assert not any(PHONE in cell or "5678" in cell for row in rows for cell in row)
    csv_text = supervisor_client.get(f"/staff/queue.csv?q={PHONE}").data.decode("utf-8-sig")
    assert [line.split(",")[0] for line in csv_text.splitlines()[1:]] == newest_first
    assert _audit_after(app) == [
        ("search", {"phone": MASKED, "cases": newest_first}),
        ("export", {"phone": MASKED, "cases": newest_first}),
        ("export", {"phone": MASKED, "cases": newest_first}),
    ]


def test_the_admin_audit_page_shows_phone_searches_masked(
    app: Flask, intake_client: FlaskClient, admin_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(S.CLOSED, citizen_phone=PHONE).number
    _queue(intake_client, "+86 138 1234 5678")
    body = admin_client.get("/admin/audit?entity=phone_search&lang=en").get_data(True)
    assert "Searches by phone number" in body
    assert MASKED in body and number in body
    assert PHONE not in body and "138 1234 5678" not in body


def test_the_search_box_says_what_it_takes(intake_client: FlaskClient) -> None:
    chinese = intake_client.get("/staff/queue?lang=zh_CN").get_data(True)
    assert "案件编号、手机号码，或标题、诉求内容中的词语。" in chinese
    english = intake_client.get("/staff/queue?lang=en").get_data(True)
    assert "A case number, a mobile phone number, or words from the title or description." in (
        english
    )
