"""A mobile number typed in the queue's search: that citizen's cases in every status,
newest first, only those whose filer the user may know, through an index, each search
in the audit log with the number masked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog, Case, CaseAssist, User
from caseapp.models.enums import CaseKind, CaseStatus, Role
from caseapp.services.access import accounts
from caseapp.services.casework import supervision
from caseapp.services.errors import ValidationFailed
from caseapp.services.pages.queue import (
    PHONE_SEARCH,
    Cursor,
    cases_of_phone,
    iter_phone_cases,
    phone_named,
    phone_statement,
    record_phone_export,
)
from tests.conftest import DEMO_PASSWORD, database_kind
from tests.factories import case_in, case_row, department, staff, user

PHONE = "13812345678"
OTHER_PHONE = "13987654321"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
S = CaseStatus


@pytest.mark.parametrize(
    ("query", "phone"),
    [
        ("13812345678", PHONE),
        ("  13812345678 ", PHONE),
        ("138 1234 5678", PHONE),
        ("138-1234-5678", PHONE),
        ("+86 138 1234 5678", PHONE),
        ("+86-138-1234-5678", PHONE),
        ("+8613812345678", PHONE),
        ("(+86) 138 1234 5678", PHONE),
        # Not a mobile number: the query stays words or a case number.
        ("1381234567", None),  # ten digits
        ("138123456789", None),  # twelve
        ("12345678901", None),  # no mobile number starts with 12
        ("03592345678", None),  # a landline
        ("YC2026-000123", None),
        ("2026", None),
        ("000123", None),
        ("138abcd5678", None),  # letters are not keypad digits here
        ("138 1234 5678 漏水", None),
        ("１３８１２３４５６７８", None),  # full-width digits: the public form's rule refuses them
        ("138\x001234\x005678", None),
        ("1" * 10_000, None),
        ("", None),
    ],
)
def test_which_queries_are_a_mobile_number(query: str, phone: str | None) -> None:
    assert phone_named(query) == phone


def _numbers(page_cases: object) -> list[str]:
    return [case.number for case in page_cases]  # type: ignore[attr-defined]


def _audit_rows() -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog).where(AuditLog.entity == PHONE_SEARCH).order_by(AuditLog.id)
        )
    )


# --- one case, several, every status ------------------------------------------------------


def test_the_one_case_of_a_phone_is_found_even_when_closed(app_ctx: Flask, demo_base: None) -> None:
    closed = case_in(S.CLOSED, citizen_phone=PHONE).number
    case_in(S.IN_PROGRESS, citizen_phone=OTHER_PHONE)
    found = cases_of_phone(user("intake"), PHONE)
    assert _numbers(found.page.cases) == [closed]
    assert found.only_case(first_page=True) == closed
    assert found.only_case(first_page=False) is None  # a later page opens nothing
    assert found.masked_phone == "138****5678"


def test_every_status_is_listed_newest_first(app_ctx: Flask, demo_base: None) -> None:
    statuses = (S.NEW, S.REJECTED, S.WITHDRAWN, S.IN_PROGRESS, S.AWAITING_CITIZEN, S.CLOSED)
    made = {
        status: case_in(status, citizen_phone=PHONE, now=T0 + timedelta(days=i)).number
        for i, status in enumerate(statuses)
    }
    case_in(S.CLOSED, citizen_phone=OTHER_PHONE, now=T0 + timedelta(days=9))
    for username in ("intake", "supervisor"):
        found = cases_of_phone(user(username), PHONE)
        assert _numbers(found.page.cases) == [made[s] for s in reversed(statuses)]
        assert found.only_case(first_page=True) is None
        assert found.page.next_cursor is None


def test_the_phone_is_matched_as_stored_by_filing(app_ctx: Flask, demo_base: None) -> None:
    # The web form took it with spaces and +86; the case keeps national digits.
    number = case_in(S.NEW, citizen_phone="+86 138-1234-5678").number
    phone = phone_named("138 1234 5678")
    assert phone is not None
    assert _numbers(cases_of_phone(user("intake"), phone).page.cases) == [number]


# --- whose identity the user may know -------------------------------------------------------


@pytest.fixture
def petitioner(app_ctx: Flask, demo_base: None) -> dict[str, str]:
    """One citizen's petition and request for help, both led by zjj, a report led by
    cgj, and a help case of zjj with cgj assisting; all from PHONE."""
    petition = case_in(S.IN_PROGRESS, kind=CaseKind.PETITION, citizen_phone=PHONE, now=T0)
    help_case = case_in(S.CLOSED, citizen_phone=PHONE, now=T0 + timedelta(days=1))
    report = case_in(S.IN_PROGRESS, kind=CaseKind.REPORT, lead="cgj", citizen_phone=PHONE, now=T0)
    assisted = case_in(S.DISPATCHED, citizen_phone=PHONE, now=T0 + timedelta(days=2))
    assisted.assists.append(CaseAssist(department_id=department("cgj").id))
    db.session.commit()
    assert petition.identity_confidential and report.identity_confidential
    return {
        "petition": petition.number,
        "help": help_case.number,
        "report": report.number,
        "assisted": assisted.number,
    }


def _found(username: str | User) -> set[str]:
    someone = user(username) if isinstance(username, str) else username
    return set(_numbers(cases_of_phone(someone, PHONE).page.cases))


def test_intake_and_supervisors_find_petitions_and_reports(petitioner: dict[str, str]) -> None:
    everything = set(petitioner.values())
    assert _found("intake") == everything
    assert _found("supervisor") == everything


def test_a_department_never_finds_which_petitions_a_phone_filed(
    petitioner: dict[str, str],
) -> None:
    # The handler and the lead of zjj see the petition in their queue, but not who filed
    # it: the phone finds only the cases whose filer they may know.
    for username in ("handler", "lead"):
        assert _found(username) == {petitioner["help"], petitioner["assisted"]}
    # cgj leads the report (confidential) and assists on one case (no identity).
    assert _found("handler2") == set()


def test_a_district_lead_does_not_find_its_street_offices_cases_by_phone(
    app_ctx: Flask, demo_base: None
) -> None:
    district = accounts.create_user("lead-yhq", DEMO_PASSWORD, "区负责人", (Role.LEAD,), "yhq")
    street = case_row(title="街道办的案件", lead="yhq-bc")
    street.citizen_phone = PHONE
    db.session.commit()
    # In the district's queue, but may_see_identity is the lead department's alone.
    assert street.number in set(
        db.session.scalars(phone_statement(user("intake"), PHONE).with_only_columns(Case.number))
    )
    assert _found(district) == set()


def test_a_responsible_leader_finds_their_cases_but_not_a_petition(
    app_ctx: Flask, demo_base: None
) -> None:
    helped = case_in(S.IN_PROGRESS, citizen_phone=PHONE, leader=True)
    petition = case_in(S.IN_PROGRESS, kind=CaseKind.PETITION, citizen_phone=PHONE)
    supervision.set_responsible_leader(
        petition, staff("supervisor"), user("leader").id, version=None
    )
    assert _found("leader") == {helped.number}


def test_an_admin_finds_nothing(petitioner: dict[str, str]) -> None:
    assert _found("admin") == set()


# --- pages, exports, the audit log ------------------------------------------------------------


def test_pages_visit_every_case_once_newest_first(app_ctx: Flask, demo_base: None) -> None:
    made = []
    for i in range(7):
        case = case_row(title=f"第{i}件", lead="zjj", status=S.CLOSED if i % 2 else S.DISPATCHED)
        case.citizen_phone = PHONE
        case.received_at = T0 + timedelta(hours=i // 2)  # ties: the id decides
        made.append(case)
    db.session.commit()
    expected = [c.number for c in sorted(made, key=lambda c: (c.received_at, c.id), reverse=True)]
    seen: list[str] = []
    after: Cursor | None = None
    while True:
        found = cases_of_phone(user("handler"), PHONE, after, size=3)
        seen += _numbers(found.page.cases)
        if found.page.next_cursor is None:
            break
        after = Cursor.decode(found.page.next_cursor.encode())
    assert seen == expected
    # The export reads the same list in batches of its own.
    assert [c.number for c in iter_phone_cases(user("handler"), PHONE, batch=2)] == expected
    # Each page asked for is in the audit log with the cases it listed.
    rows = _audit_rows()
    assert [len(row.after["cases"]) for row in rows] == [3, 3, 1]  # type: ignore[index]
    assert sum((row.after["cases"] for row in rows), []) == expected  # type: ignore[index]


def test_a_position_from_the_deadline_order_is_refused(app_ctx: Flask, demo_base: None) -> None:
    with pytest.raises(ValidationFailed):
        cases_of_phone(user("intake"), PHONE, Cursor(None, 5))
    assert _audit_rows() == []


def test_each_search_is_audited_with_the_number_masked(petitioner: dict[str, str]) -> None:
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    cases_of_phone(user("handler"), PHONE, now=now)
    cases_of_phone(user("intake"), OTHER_PHONE, now=now)  # nothing found: recorded too
    record_phone_export(user("supervisor"), PHONE, now)
    rows = _audit_rows()
    assert [(r.actor.username, r.action) for r in rows] == [  # type: ignore[union-attr]
        ("handler", "search"),
        ("intake", "search"),
        ("supervisor", "export"),
    ]
    assert all(r.at == now for r in rows)
    assert rows[0].after == {
        "phone": "138****5678",
        "cases": [petitioner["assisted"], petitioner["help"]],
    }
    assert rows[1].after == {"phone": "139****4321", "cases": []}
    assert set(rows[2].after["cases"]) == set(petitioner.values())  # type: ignore[index]
    # The number itself is nowhere in the log: admins read it and see no case.
    for row in rows:
        assert PHONE not in str(row.after) and OTHER_PHONE not in str(row.after)


# --- through an index -----------------------------------------------------------------------


def _literal_sql(stmt: sa.Select) -> str:  # type: ignore[type-arg]
    return str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("username", ["intake", "handler"])
def test_the_phone_is_looked_up_through_its_index(
    app_ctx: Flask, demo_base: None, username: str
) -> None:
    for i in range(30):
        case = case_row(title=f"案件{i}")
        case.citizen_phone = f"1390000{i:04d}"
    db.session.commit()
    if database_kind() == "postgresql":
        db.session.execute(sa.text("ANALYZE cases"))
    stmt = (
        phone_statement(user(username), PHONE)
        .with_only_columns(Case.id)
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(51)
    )
    conn = db.session.connection()
    if database_kind() == "sqlite":
        plan = " ".join(
            str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + _literal_sql(stmt))
        )
    else:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(conn.exec_driver_sql("EXPLAIN " + _literal_sql(stmt)).scalars())
    assert "ix_cases_citizen_phone_received_at" in plan, plan
    db.session.rollback()
