"""Admin deadline policies and calendar overrides: validation, audit, and what a change
does to cases filed before and after it (DESIGN §4)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog, CalendarOverride, Case, DeadlinePolicy
from caseapp.models.enums import CaseStatus, Clock, PolicyTerm, TimeUnit
from caseapp.services.admin import policies as admin_policies
from caseapp.services.admin.policies import PolicyFields, TermFields
from caseapp.services.casework import calendar_years, intake
from caseapp.services.casework import clocks as deadlines
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.workflow.deadlines import Period
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC) + timedelta(
        days=1
    )


def audit_rows(entity: str) -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)
        )
    )


def full_terms(**resolve: object) -> list[TermFields]:
    """A default row for every term (1 working day), the resolve row as given."""
    rows = [TermFields(term=str(t), unit=str(TimeUnit.WORKING_DAYS), value=1) for t in PolicyTerm]
    if resolve:
        rows = [
            dataclasses.replace(r, **resolve) if r.term == PolicyTerm.RESOLVE else r  # type: ignore[arg-type]
            for r in rows
        ]
    return rows


def policy(code: str = "quick-7") -> DeadlinePolicy:
    found = db.session.scalar(sa.select(DeadlinePolicy).where(DeadlinePolicy.code == code))
    assert found is not None
    return found


@pytest.fixture
def admin(app_ctx: Flask, demo_base: None):  # type: ignore[no-untyped-def]
    return factories.user("admin")


def test_create_policy_keeps_every_term_and_is_audited(admin) -> None:  # type: ignore[no-untyped-def]
    terms = full_terms(value=7, urgent_unit="hours", urgent_value=24)
    terms.append(TermFields(term="resolve", kind="petition", unit="calendar_days", value=60))
    made = admin_policies.create_policy(
        admin, PolicyFields("quick-7", "七日办结", "Resolve in 7 days", terms)
    )
    assert {(str(t.term), str(t.kind) if t.kind else "") for t in made.terms} == {
        (str(t), "") for t in PolicyTerm
    } | {("resolve", "petition")}
    resolve = next(t for t in made.terms if t.term is PolicyTerm.RESOLVE and t.kind is None)
    assert (resolve.unit, resolve.value, resolve.urgent_unit, resolve.urgent_value) == (
        TimeUnit.WORKING_DAYS,
        7,
        TimeUnit.HOURS,
        24,
    )
    [row] = audit_rows("deadline_policy")
    assert row.action == "create" and row.actor_id == admin.id and row.before is None
    assert row.after["code"] == "quick-7"
    assert {"term": "resolve", "kind": "petition", "unit": "calendar_days", "value": 60,
            "urgent_unit": "", "urgent_value": None} in row.after["terms"]  # fmt: skip


BAD_CODE = "Use lower-case letters, digits and hyphens (at most 40)."


@pytest.mark.parametrize(
    ("code", "name_zh", "rows", "field", "expected"),
    [
        ("", "名", None, "code", "This field is required."),
        ("Quick 7", "名", None, "code", BAD_CODE),
        ("x" * 41, "名", None, "code", BAD_CODE),
        ("standard", "名", None, "code", "This code is already taken."),
        ("ok", "", None, "name_zh", "This field is required."),
        ("ok", "名", {"value": 0}, "terms", {3: {"value": "Enter a whole number greater than zero."}}),
        ("ok", "名", {"value": -2}, "terms", {3: {"value": "Enter a whole number greater than zero."}}),
        ("ok", "名", {"value": 1000}, "terms", {3: {"value": "Enter a number of at most 999."}}),
        ("ok", "名", {"unit": "weeks"}, "terms", {3: {"unit": "Choose one of the options."}}),
        ("ok", "名", {"urgent_unit": "hours"}, "terms",
         {3: {"urgent_value": "Give the urgent value with its unit."}}),
        ("ok", "名", {"urgent_value": 0, "urgent_unit": "hours"}, "terms",
         {3: {"urgent_value": "Enter a whole number greater than zero."}}),
        ("ok", "名", {"kind": "alien"}, "terms", {3: {"kind": "Choose one of the options."}}),
    ],
)  # fmt: skip
def test_policy_validation(admin, code, name_zh, rows, field, expected) -> None:  # type: ignore[no-untyped-def]
    terms = full_terms(**rows) if rows else full_terms()
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.create_policy(admin, PolicyFields(code, name_zh, "Name", terms))
    assert caught.value.field_errors[field] == expected
    assert audit_rows("deadline_policy") == []


@pytest.mark.parametrize(
    ("term", "unit"),
    [
        ("extension_cap", "hours"),
        ("reply_window", "hours"),
        ("feedback", "hours"),
        ("review_window", "hours"),
    ],
)
def test_day_only_terms_refuse_hours(admin, term: str, unit: str) -> None:  # type: ignore[no-untyped-def]
    rows = [dataclasses.replace(r, unit=unit) if r.term == term else r for r in full_terms()]
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.create_policy(admin, PolicyFields("ok", "名", "Name", rows))
    index = [str(t) for t in PolicyTerm].index(term)
    assert caught.value.field_errors["terms"] == {
        index: {"unit": "This term is counted in days only."}
    }


def test_a_policy_needs_every_term_once(admin) -> None:  # type: ignore[no-untyped-def]
    rows = [r for r in full_terms() if r.term != "feedback"]
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.create_policy(admin, PolicyFields("ok", "名", "Name", rows))
    assert "term_defaults" in caught.value.field_errors
    twice = [*full_terms(), TermFields(term="resolve", unit="working_days", value=3)]
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.create_policy(admin, PolicyFields("ok", "名", "Name", twice))
    assert caught.value.field_errors["terms"] == {
        len(twice) - 1: {"kind": "This term is already set for this kind of case."}
    }


def test_a_policy_change_applies_to_new_cases_only(admin) -> None:  # type: ignore[no-untyped-def]
    standard = policy("quick-repair")  # road damage: resolve in 3 working days
    before_change = factories.new_case(now=local(2026, 3, 2, 9))
    filed_first = before_change.id

    rows = [
        dataclasses.replace(r, value=7) if r.term == "resolve" and r.kind == "" else r
        for r in admin_policies.term_fields(standard)
    ]
    admin_policies.update_policy(
        admin, standard.id, PolicyFields("quick-repair", standard.name_zh, standard.name_en, rows)
    )
    after_change = factories.new_case(now=local(2026, 3, 2, 10))

    intake_staff = factories.staff("intake")
    zjj = factories.department("zjj").id
    for case in (db.session.get(Case, filed_first), after_change):
        assert case is not None
        intake.dispatch_case(case, intake_staff, zjj, version=None, now=local(2026, 3, 3, 9))
    old = db.session.get(Case, filed_first)
    assert old is not None
    [old_resolve] = deadlines.running(old, Clock.RESOLVE)
    [new_resolve] = deadlines.running(after_change, Clock.RESOLVE)
    assert (old_resolve.length, new_resolve.length) == (3, 7)
    # 2026-03-03 (Tue) + 3 working days = Fri 6 March; + 7 = Thu 12 March (end of day).
    assert old_resolve.due_at == end_of_local_day(date(2026, 3, 6))
    assert new_resolve.due_at == end_of_local_day(date(2026, 3, 12))

    [row] = audit_rows("deadline_policy")
    assert row.action == "update" and row.entity_id == str(standard.id)
    resolve_before = [t for t in row.before["terms"] if t["term"] == "resolve" and not t["kind"]]
    resolve_after = [t for t in row.after["terms"] if t["term"] == "resolve" and not t["kind"]]
    assert (resolve_before[0]["value"], resolve_after[0]["value"]) == (3, 7)


def test_update_without_change_writes_no_audit_row(admin) -> None:  # type: ignore[no-untyped-def]
    standard = policy("standard")
    fields = PolicyFields(
        "standard", standard.name_zh, standard.name_en, admin_policies.term_fields(standard)
    )
    admin_policies.update_policy(admin, standard.id, fields)
    assert audit_rows("deadline_policy") == []


def test_update_removes_a_kind_override(admin) -> None:  # type: ignore[no-untyped-def]
    standard = policy("standard")
    rows = [r for r in admin_policies.term_fields(standard) if r.kind != "consultation"]
    admin_policies.update_policy(
        admin, standard.id, PolicyFields("standard", standard.name_zh, standard.name_en, rows)
    )
    db.session.expire_all()
    assert not [t for t in policy("standard").terms if t.kind and t.kind.value == "consultation"]


def test_update_of_a_missing_policy_is_not_found(admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        admin_policies.update_policy(admin, 9999, PolicyFields("x", "名", "N", full_terms()))


# --- calendar ----------------------------------------------------------------------------


def test_an_override_changes_new_deadline_computations(admin) -> None:  # type: ignore[no-untyped-def]
    one_day = Period(TimeUnit.WORKING_DAYS, 1)
    dispatched = local(2026, 11, 30, 10)  # a Monday
    assert deadlines.deadline_math().due_at(dispatched, one_day) == end_of_local_day(
        date(2026, 12, 1)
    )
    admin_policies.add_override(admin, date(2026, 12, 1), "holiday", "全市停工日")
    assert deadlines.deadline_math().due_at(dispatched, one_day) == end_of_local_day(
        date(2026, 12, 2)
    )

    # The same through a real dispatch: the sign clock is 1 working day.
    case = factories.new_case(now=local(2026, 11, 30, 9))
    intake.dispatch_case(
        case, factories.staff("intake"), factories.department("zjj").id, version=None,
        now=dispatched,
    )  # fmt: skip
    [sign] = deadlines.running(case, Clock.SIGN)
    assert sign.due_at == end_of_local_day(date(2026, 12, 2))

    [row] = audit_rows("calendar_override")
    assert (row.action, row.before, row.after) == (
        "create",
        None,
        {"day": "2026-12-01", "kind": "holiday", "note": "全市停工日"},
    )


@pytest.mark.parametrize(
    ("day", "kind", "note", "field", "expected"),
    [
        (None, "holiday", "", "day", "Enter a date as YYYY-MM-DD."),
        (date(1900, 1, 1), "holiday", "", "day", "Enter a date between 1990 and 2199."),
        (date(2026, 12, 1), "weekend", "", "kind", "Choose one of the options."),
        (date(2026, 12, 1), "", "", "kind", "Choose one of the options."),
        (date(2026, 12, 1), "holiday", "x" * 201, "note",
         "The text is too long or holds characters that are not allowed."),
        (date(2026, 12, 1), "holiday", "a\x00b", "note",
         "The text is too long or holds characters that are not allowed."),
    ],
)  # fmt: skip
def test_override_validation(admin, day, kind, note, field, expected) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.add_override(admin, day, kind, note)
    assert caught.value.field_errors[field] == expected
    assert audit_rows("calendar_override") == []


def test_one_override_per_date_and_removal_is_audited(admin) -> None:  # type: ignore[no-untyped-def]
    row = admin_policies.add_override(admin, date(2027, 2, 20), "workday", "春节调休")
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.add_override(admin, date(2027, 2, 20), "holiday")
    assert caught.value.field_errors == {
        "day": "This date already has an override; remove it first."
    }
    assert [o.day for o in admin_policies.overrides_for_year(2027)] == [date(2027, 2, 20)]
    assert admin_policies.override_years() == [2027]
    admin_policies.remove_override(admin, row.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0
    actions = [(r.action, r.before, r.after) for r in audit_rows("calendar_override")]
    assert actions[1] == (
        "delete",
        {"day": "2027-02-20", "kind": "workday", "note": "春节调休"},
        None,
    )
    with pytest.raises(NotFound):
        admin_policies.remove_override(admin, row.id)


def test_recompute_moves_running_day_clocks_paused_ones_included(admin) -> None:  # type: ignore[no-untyped-def]
    dispatched = factories.case_in(CaseStatus.DISPATCHED, now=local(2026, 11, 30, 9))
    paused = factories.case_in(CaseStatus.AWAITING_CITIZEN, now=local(2026, 11, 30, 9))
    [sign] = deadlines.running(dispatched, Clock.SIGN)
    assert sign.due_at == end_of_local_day(date(2026, 12, 1))
    [paused_resolve] = deadlines.running(paused, Clock.RESOLVE)
    paused_due = paused_resolve.due_at

    admin_policies.add_override(admin, date(2026, 12, 1), "holiday")
    assert sign.due_at == end_of_local_day(date(2026, 12, 1))  # not moved by the override

    result = calendar_years.recompute_deadlines(admin, now=local(2026, 11, 30, 12))
    db.session.expire_all()
    case = db.session.get(Case, dispatched.id)
    assert case is not None
    [sign] = deadlines.running(case, Clock.SIGN)
    assert sign.due_at == end_of_local_day(date(2026, 12, 2))
    assert case.next_deadline_at == min(
        r.due_at for r in deadlines.running(case) if r.paused_at is None
    )
    # The paused case's resolve clock moves too, though it is paused.
    paused_case = db.session.get(Case, paused.id)
    assert paused_case is not None
    [paused_resolve] = deadlines.running(paused_case, Clock.RESOLVE)
    assert paused_resolve.paused_at is not None
    assert paused_resolve.due_at == paused_due + timedelta(days=1)
    assert result.changed >= 3 and result.left == []
    [row] = audit_rows("calendar")
    assert row.action == "recompute"
    assert row.after["changed"] == result.changed


def test_recompute_with_nothing_open_changes_nothing(admin) -> None:  # type: ignore[no-untyped-def]
    result = calendar_years.recompute_deadlines(admin)
    assert (result.changed, result.unchanged, result.left) == (0, 0, [])
    assert len(audit_rows("calendar")) == 1
