"""Issue 15's attacks, replayed against the demo city (on whichever database the suite
runs on): each is refused with a clear 4xx, or the harm it did is gone, and a refused
attack leaves every table as it was.

The demo city is loaded once for the module; every attack here either writes nothing or
is undone by its own assertions' design (noted where an attack's setup writes).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from caseapp.extensions import db, limiter
from caseapp.models import Case, CaseFollower, Department, OutboxMessage, TrackingCode, User
from caseapp.models.enums import WORKED_STATUSES, CaseKind, CaseStatus, NotifyBy
from caseapp.services.filing.cases import new_access_key
from tests.conftest import (
    DEMO_PASSWORD,
    AuthActions,
    Snapshots,
    csrf_token,
    empty_tables,
    load_demo_city,
    table_fingerprint,
)
from tests.factories import case_in

HUGE = str(2**70)


@pytest.fixture(scope="module")
def city(app: Flask, snapshots: Snapshots) -> Iterator[None]:
    with app.app_context():
        snapshots.restore("city", load_demo_city)
        db.session.remove()
    yield
    with app.app_context():
        db.session.remove()
        empty_tables(db.engine)


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    """The module shares one demo city (the suite's own fixture would empty it after each
    test); only the rate limits start afresh."""
    with app.app_context():
        limiter.reset()
    yield


pytestmark = [
    pytest.mark.usefixtures("city"),
    pytest.mark.long,
    pytest.mark.xdist_group("attacks-replayed"),
]


fingerprint = table_fingerprint


def a_case(app: Flask, *where: sa.ColumnElement[bool]) -> str:
    with app.app_context():
        number = db.session.scalar(sa.select(Case.number).where(*where).order_by(Case.id))
        db.session.remove()
    assert number, "the demo city has no such case"
    return number


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def post(client: FlaskClient, url: str, data: dict[str, object], page: str = "/track"):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


def refused_and_nothing_written(app: Flask, attempt) -> int:  # type: ignore[no-untyped-def]
    before = fingerprint(app)
    response = attempt()
    assert 400 <= response.status_code < 500, response.status_code
    assert fingerprint(app) == before, "a refused attack wrote something"
    return response.status_code


# --- 1. following any case, then reading it ------------------------------------------------


@pytest.mark.parametrize("kind", [CaseKind.PETITION, CaseKind.REPORT, CaseKind.HELP])
def test_a_stranger_cannot_follow_a_case_nobody_offered_and_read_it(
    app: Flask, kind: CaseKind
) -> None:
    if kind is CaseKind.REPORT:  # the demo city has no report (举报): file one
        with app.app_context():
            number = case_in(CaseStatus.DISPATCHED, kind=kind).number
            db.session.remove()
    else:
        number = a_case(app, Case.kind == kind, Case.status.in_(sorted(WORKED_STATUSES)))
    stranger = app.test_client()
    follow = {"citizen_name": "攻击者", "citizen_phone": "13900009999", "notify_by": "sms"}
    status = refused_and_nothing_written(
        app, lambda: post(stranger, f"/requests/follow/{number}", follow)
    )
    assert status == 403
    page = stranger.get(f"/track/{number}")
    assert page.status_code == 302 and page.headers["Location"] == "/track"
    assert stranger.get(f"/track/{number}/files/1").status_code == 403


# --- 2. a follower acting as the filer ------------------------------------------------------


def _follower_of(app: Flask, *where: sa.ColumnElement[bool]) -> tuple[str, FlaskClient]:
    """A follower of a demo case (setup: one follower row, as from an earlier follow)."""
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(*where).order_by(Case.id))
        assert case is not None
        key, digest = new_access_key()
        case.followers.append(
            CaseFollower(
                name="跟进人",
                phone="13900008888",
                notify_by=NotifyBy.SMS,
                access_key_hash=digest,
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()
        number = case.number
        db.session.remove()
    browser = app.test_client()
    assert browser.get(f"/p/{key}").status_code == 302
    return number, browser


@pytest.mark.parametrize(
    ("status", "kind", "route", "data"),
    [
        (CaseStatus.AWAITING_CITIZEN, None, "reply", {"text": "我来替他回答。"}),
        (CaseStatus.IN_PROGRESS, None, "withdraw", {"reason": "撤回。"}),
        (CaseStatus.IN_PROGRESS, None, "information", {"text": "补充。"}),
        (CaseStatus.RESOLVED, None, "rate", {"solved": "no", "satisfaction": "unsatisfied"}),
        (CaseStatus.CLOSED, CaseKind.PETITION, "review", {"reason": "申请复查。"}),
    ],
)
def test_a_follower_cannot_act_as_the_filer(
    app: Flask, status: CaseStatus, kind: CaseKind | None, route: str, data: dict[str, str]
) -> None:
    where = [Case.status == status]
    if kind is not None:
        where.append(Case.kind == kind)
    number, follower = _follower_of(app, *where)
    assert follower.get(f"/track/{number}").status_code == 200
    status_code = refused_and_nothing_written(
        app, lambda: post(follower, f"/track/{number}/{route}", data)
    )
    assert status_code == 403


# --- 3. signing out ends the session on the server -----------------------------------------


def test_a_cookie_captured_before_sign_out_opens_nothing_after(app: Flask) -> None:
    clerk = signed_in(app, "intake")
    assert clerk.get("/staff/queue").status_code == 200
    cookie = clerk.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    AuthActions(clerk).logout()
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    response = thief.get("/staff/queue")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


# --- 4. the one-time password ---------------------------------------------------------------


def test_an_issued_password_only_opens_the_page_to_choose_one(app: Flask) -> None:
    from caseapp.models.enums import Role
    from caseapp.services.admin import users as admin_users
    from caseapp.services.admin.users import AccountInput

    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
        _user, issued = admin_users.create_account(
            admin,
            AccountInput(
                display_name="新同事", roles=frozenset({Role.INTAKE}), username="new-clerk"
            ),
        )
        db.session.remove()
    clerk = app.test_client()
    assert AuthActions(clerk).login("new-clerk", issued).status_code == 302
    response = clerk.get("/staff/queue")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/password")


# --- 5. tracking codes ----------------------------------------------------------------------


def test_dozens_of_code_requests_from_many_addresses_send_a_few_codes(app: Flask) -> None:
    with app.app_context():
        case = db.session.scalar(
            sa.select(Case)
            .where(Case.citizen_phone.like("1%"), Case.status == CaseStatus.IN_PROGRESS)
            .order_by(Case.id)
        )
        number, phone, case_id = case.number, case.citizen_phone, case.id
        db.session.remove()
    for attempt in range(30):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"10.0.0.{attempt % 6 + 1}"
        response = post(browser, "/track/code", {"number": number, "phone": phone})
        assert response.status_code in (200, 429)
    with app.app_context():
        sent = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "access_code", OutboxMessage.case_id == case_id)
        )
        live = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TrackingCode)
            .where(
                TrackingCode.case_id == case_id,
                TrackingCode.used_at.is_(None),
                TrackingCode.expires_at > datetime.now(UTC),
            )
        )
        db.session.remove()
    limit = int(app.config["RATELIMIT_TRACKING_CODE_CASE"].split()[0])
    assert 1 <= sent <= limit
    assert live <= 1


# --- 6. input that gave a 500 ---------------------------------------------------------------


def test_unbounded_numbers_and_nul_bytes_get_a_clear_4xx(app: Flask) -> None:
    intake = signed_in(app, "intake")
    admin = signed_in(app, "admin")
    new = a_case(app, Case.status == CaseStatus.NEW, Case.kind == CaseKind.HELP)
    page = f"/staff/cases/{new}"
    with app.app_context():
        version = db.session.scalar(sa.select(Case.version).where(Case.number == new))
        department = db.session.scalar(sa.select(Department.id).order_by(Department.id))
        db.session.remove()
    dispatch = {"version": version, "department": department}
    attempts = [
        lambda: post(
            intake, f"/staff/cases/{new}/act/dispatch", {**dispatch, "handler": HUGE}, page
        ),
        lambda: post(
            intake, f"/staff/cases/{new}/act/dispatch", {**dispatch, "assisting": HUGE}, page
        ),
        lambda: post(
            intake, f"/staff/cases/{new}/act/dispatch", {**dispatch, "department": "abc"}, page
        ),
        lambda: post(intake, f"/staff/inbox/{HUGE}/read", {}, "/staff/inbox"),
        lambda: intake.get("/staff/queue?after=1.9999999999999999999"),
        lambda: admin.get(f"/admin/users/{HUGE}"),
        lambda: post(admin, f"/admin/outbox/{HUGE}/retry", {}, "/admin/outbox"),
        lambda: post(
            intake, f"/staff/cases/{new}/act/note", {"version": version, "text": "a\x00b"}, page
        ),
    ]
    for attempt in attempts:
        refused_and_nothing_written(app, attempt)


def test_the_citizen_s_texts_with_nul_bytes_get_a_clear_4xx(app: Flask) -> None:
    number = a_case(app, Case.status == CaseStatus.IN_PROGRESS, Case.kind == CaseKind.HELP)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        key, digest = new_access_key()
        case.access_key_hash = digest
        db.session.commit()
        db.session.remove()
    filer = app.test_client()
    assert filer.get(f"/p/{key}").status_code == 302
    for route, field in (("withdraw", "reason"), ("information", "text")):
        url, data = f"/track/{number}/{route}", {field: "撤\x00回"}
        refused_and_nothing_written(app, lambda url=url, data=data: post(filer, url, data))


def test_a_public_filing_with_a_huge_district_saves_nothing(app: Flask) -> None:
    browser = app.test_client()
    url = "/requests/new?category=road-damage"
    data = {
        "kind": "help",
        "title": "条山街井盖缺失",
        "description": "条山街中段井盖缺失，夜间危险。",
        "public_location": "条山街",
        "citizen_name": "赵六",
        "citizen_phone": "13600001111",
        "notify_by": "sms",
        "consent_privacy": "y",
        "confirm_distinct": "y",
        "district": "99999999999999999999",
    }
    before = fingerprint(app)
    response = post(browser, url, data, url)
    assert response.status_code < 500
    assert fingerprint(app) == before


@pytest.mark.parametrize(
    "title", ["\u200b\u200c\u200d", "\u202e工单已办结", "路灯\u2066不亮\u2069"]
)
def test_invisible_or_reversed_titles_are_refused(app: Flask, title: str) -> None:
    browser = app.test_client()
    url = "/requests/new?category=road-damage"
    data = {
        "kind": "help",
        "title": title,
        "description": "条山街中段路灯不亮。",
        "public_location": "条山街",
        "citizen_name": "赵六",
        "citizen_phone": "13600001111",
        "notify_by": "sms",
        "consent_privacy": "y",
        "confirm_distinct": "y",
    }
    before = fingerprint(app)
    response = post(browser, url, data, url)
    assert response.status_code < 500
    assert fingerprint(app) == before


def test_a_staff_filing_dated_in_year_one_is_refused(app: Flask) -> None:
    intake = signed_in(app, "intake")
    page = intake.get("/staff/cases/new").get_data(as_text=True)
    assert "received_at" in page
    data = {
        "kind": "help",
        "category": "road-damage",
        "channel": "letter",
        "title": "来信反映路面破损",
        "description": "来信反映人民路路面破损。",
        "citizen_name": "钱七",
        "citizen_phone": "13500001111",
        "notify_by": "none",
        "received_at": "0001-01-01",
    }
    before = fingerprint(app)
    response = post(intake, "/staff/cases/new", data, "/staff/cases/new")
    assert response.status_code < 500
    assert fingerprint(app) == before


def test_a_sign_in_next_with_a_line_break_goes_to_the_queue(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    response = client.post(
        "/staff/login?next=/staff/queue%0d%0aSet-Cookie:%20x=1",
        data={"username": "intake", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/queue"


# --- 7. smaller ------------------------------------------------------------------------------


def test_one_address_cannot_lock_every_account_and_one_account_is_throttled(app: Flask) -> None:
    office = "10.1.1.1"
    for attempt in range(8):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = office if attempt % 2 else f"10.2.0.{attempt}"
        AuthActions(client).login("supervisor", "wrong-password")
    locked = app.test_client()
    locked.environ_base["REMOTE_ADDR"] = "10.3.0.1"
    assert AuthActions(locked).login("supervisor", DEMO_PASSWORD).status_code == 429
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = office
    assert AuthActions(colleague).login("intake").status_code == 302


def test_a_department_name_that_looks_like_a_formula_stays_text_in_the_xlsx(app: Flask) -> None:
    with app.app_context():
        department = db.session.scalar(sa.select(Department).where(Department.code == "zjj"))
        original = department.name_zh
        department.name_zh = '=HYPERLINK("http://evil.example","点我")'
        db.session.commit()
        db.session.remove()
    try:
        supervisor = signed_in(app, "supervisor")
        response = supervisor.get("/supervisor/scorecards.xlsx")
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
        cells = [
            cell
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if isinstance(cell.value, str) and "HYPERLINK" in cell.value
        ]
        assert cells, "the department is in the sheet"
        # A string cell: no spreadsheet program runs it as a formula (reports/cells.py).
        assert [cell.data_type for cell in cells] == ["s"] * len(cells), [
            (cell.coordinate, cell.data_type, cell.value) for cell in cells
        ]
    finally:
        with app.app_context():
            department = db.session.scalar(sa.select(Department).where(Department.code == "zjj"))
            department.name_zh = original
            db.session.commit()
            db.session.remove()
