"""``casework.intake``: what intake does with a new (or returned) case — answer it
directly, reject it (a petition names where it belongs), take back a wrong rejection,
merge a duplicate into an open case, dispatch it to a department (the first dispatch is
the acceptance). Action texts are cleaned and refused when empty or too long; a named
handler must be an active handler of the department; the intake clerk who first acts on
a case becomes first-responsible; every refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseFollower, CaseParticipant
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    CloseReason,
    EventAction,
    Role,
)
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import clocks, intake
from caseapp.services.errors import DomainError, NotAllowed, ValidationFailed
from tests.factories import case_in, department, new_case, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 6, 8, 10, 0, tzinfo=TZ)


def events(case: Case) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def written(*cases: Case) -> list[object]:
    db.session.expire_all()
    found: list[object] = [
        db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    ]
    for case in cases:
        fresh = db.session.get(Case, case.id)
        assert fresh is not None
        found.append((fresh.version, fresh.status, fresh.lead_department_id, fresh.handler_id))
    return found


def refused(error: type[DomainError], call: Callable[[], object], *cases: Case) -> None:
    before = written(*cases)
    with pytest.raises(error):
        call()
    db.session.rollback()
    assert written(*cases) == before, "a refused intake action wrote something"


# --- action texts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "limit", "reason"),
    [
        ("", 4000, "This field is required."),
        (" \n\t ", 4000, "This field is required."),
        ("一二三四五六", 5, "At most 5"),
    ],
)
def test_required_text_refusals_name_the_field(value: str, limit: int, reason: str) -> None:
    with pytest.raises(ValidationFailed) as refusal:
        intake.required_text(value, "reason", limit)
    assert list(refusal.value.field_errors) == ["reason"]
    assert reason in str(refusal.value.field_errors["reason"])


def test_required_text_counts_the_cleaned_text() -> None:
    assert intake.required_text("  一二三四五  ", "reason", 5) == "一二三四五"
    assert intake.optional_text(None, "note") == ""
    assert intake.optional_text("  好  ", "note") == "好"
    with pytest.raises(ValidationFailed):
        intake.optional_text("一二三四五六", "note", 5)


# --- answering directly ----------------------------------------------------------------------


def test_answer_directly_resolves_with_only_the_feedback_clock() -> None:
    case = new_case(now=MONDAY)
    intake.answer_directly(
        case, staff("intake"), "  您好，已答复。 ", version=case.version, now=MONDAY
    )
    assert case.status is CaseStatus.RESOLVED
    assert case.resolved_at == MONDAY and case.public_answer == "您好，已答复。"
    assert [row.clock for row in clocks.running(case)] == [Clock.FEEDBACK]
    event = events(case)[-1]
    assert event.action is EventAction.ANSWER_DIRECTLY and event.public_text == "您好，已答复。"
    assert case.first_responsible_id == user("intake").id


def test_answer_directly_refusals_write_nothing() -> None:
    case = new_case(now=MONDAY)
    refused(
        ValidationFailed,
        lambda: intake.answer_directly(case, staff("intake"), " ", version=None),
        case,
    )
    refused(
        NotAllowed,
        lambda: intake.answer_directly(case, staff("supervisor"), "答复", version=None),
        case,
    )
    dispatched = case_in(CaseStatus.DISPATCHED)
    refused(
        NotAllowed,
        lambda: intake.answer_directly(dispatched, staff("intake"), "答复", version=None),
        dispatched,
    )


# --- rejecting and reinstating ---------------------------------------------------------------


def test_reject_stops_every_clock_and_names_the_first_responsible() -> None:
    case = new_case(now=MONDAY)
    intake.reject_case(case, staff("intake"), "不属于受理范围", version=None, now=MONDAY)
    assert case.status is CaseStatus.REJECTED
    assert clocks.running(case) == []
    assert case.close_reason is None  # a rejection is no closing reason
    assert case.first_responsible_id == user("intake").id
    assert db.session.get(CaseParticipant, (case.id, user("intake").id)) is not None
    event = events(case)[-1]
    assert (event.public_text, event.data) == ("不属于受理范围", {})


@pytest.mark.parametrize("channel", intake.PETITION_CHANNELS)
def test_a_petition_is_rejected_with_the_channel_it_belongs_to(channel: str) -> None:
    petition = new_case(kind=CaseKind.PETITION, category="petition")
    intake.reject_case(petition, staff("intake"), "请走其他途径", version=None, belongs_to=channel)
    assert events(petition)[-1].data == {"belongs_to": channel}


@pytest.mark.parametrize("belongs_to", [None, "", "police", "COURT"])
def test_a_petition_without_a_known_channel_is_refused(belongs_to: str | None) -> None:
    petition = new_case(kind=CaseKind.PETITION, category="petition")
    refused(
        ValidationFailed,
        lambda: intake.reject_case(
            petition, staff("intake"), "请走其他途径", version=None, belongs_to=belongs_to
        ),
        petition,
    )


def test_reject_refusals_write_nothing() -> None:
    case = new_case()
    refused(
        ValidationFailed, lambda: intake.reject_case(case, staff("intake"), "", version=None), case
    )
    refused(
        NotAllowed,
        lambda: intake.reject_case(case, staff("supervisor"), "不受理", version=None),
        case,
    )
    done = case_in(CaseStatus.IN_PROGRESS)
    refused(
        NotAllowed, lambda: intake.reject_case(done, staff("intake"), "不受理", version=None), done
    )


def test_reinstate_makes_the_case_new_with_an_accept_clock() -> None:
    case = case_in(CaseStatus.REJECTED, now=MONDAY)
    later = MONDAY + timedelta(days=1)
    intake.reinstate_case(case, staff("supervisor"), "误驳回", version=None, now=later)
    assert case.status is CaseStatus.NEW
    [accept] = clocks.running(case)
    assert accept.clock is Clock.ACCEPT and accept.started_at == later
    event = events(case)[-1]
    assert (event.internal_text, event.public) == ("误驳回", False)


def test_reinstating_a_case_accepted_before_its_rejection_keeps_its_resolve_promise() -> None:
    case = case_in(CaseStatus.RETURNED, now=MONDAY)
    [promise] = clocks.running(case, Clock.RESOLVE)
    due = promise.due_at
    intake.reject_case(
        case, staff("intake"), "不属于受理范围", version=None, now=MONDAY + timedelta(hours=2)
    )
    assert clocks.running(case) == []
    intake.reinstate_case(
        case, staff("supervisor"), "误驳回", version=None, now=MONDAY + timedelta(days=3)
    )
    assert clocks.running(case, Clock.RESOLVE) == [promise] and promise.due_at == due
    assert len(clocks.running(case, Clock.ACCEPT)) == 1


def test_reinstate_refusals_write_nothing() -> None:
    case = case_in(CaseStatus.REJECTED)
    refused(
        NotAllowed,
        lambda: intake.reinstate_case(case, staff("intake"), "误驳回", version=None),
        case,
    )
    refused(
        ValidationFailed,
        lambda: intake.reinstate_case(case, staff("supervisor"), "", version=None),
        case,
    )


# --- merging ---------------------------------------------------------------------------------


def test_merge_closes_the_duplicate_and_its_citizen_follows_the_survivor() -> None:
    into = case_in(CaseStatus.IN_PROGRESS)
    case = new_case(citizen_phone="13900001111", citizen_name="王五")
    intake.merge_case(case, staff("intake"), into, version=None, now=MONDAY)
    assert case.status is CaseStatus.CLOSED
    assert (case.close_reason, case.closed_at) == (CloseReason.MERGED, MONDAY)
    assert case.duplicate_of_id == into.id
    assert clocks.running(case) == []
    [follower] = db.session.scalars(sa.select(CaseFollower).where(CaseFollower.case_id == into.id))
    assert (follower.source_case_id, follower.phone, follower.name) == (
        case.id,
        "13900001111",
        "王五",
    )
    assert follower.access_key_hash == case.access_key_hash
    follow = events(into)[-1]
    assert follow.action is EventAction.FOLLOW and follow.data == {"merged_from": case.number}
    assert into.status is CaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "into_status",
    [CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN, CaseStatus.RESOLVED],
)
def test_merge_only_into_an_open_case(into_status: CaseStatus) -> None:
    into = case_in(into_status)
    case = new_case()
    refused(
        ValidationFailed,
        lambda: intake.merge_case(case, staff("intake"), into, version=None),
        case,
        into,
    )


def test_a_case_is_not_merged_into_itself_nor_by_a_department() -> None:
    case = case_in(CaseStatus.DISPATCHED)
    into = case_in(CaseStatus.DISPATCHED)
    refused(
        ValidationFailed, lambda: intake.merge_case(case, staff("intake"), case, version=None), case
    )
    refused(
        NotAllowed,
        lambda: intake.merge_case(case, staff("handler"), into, version=None),
        case,
        into,
    )


# --- dispatching -----------------------------------------------------------------------------


def test_handler_in_names_only_an_active_handler_of_the_department() -> None:
    zjj = department("zjj").id
    assert intake.handler_in(zjj, None) is None
    assert intake.handler_in(zjj, user("handler").id) == user("handler")
    retired = create_user("handler-old", "long-enough-pw", "老承办人", [Role.HANDLER], "zjj")
    retired.active = False
    db.session.commit()
    for wrong in ("handler2", "lead", "intake", "handler-old"):
        with pytest.raises(ValidationFailed) as refusal:
            intake.handler_in(zjj, user(wrong).id)
        assert "handler" in refusal.value.field_errors
    with pytest.raises(ValidationFailed):
        intake.handler_in(zjj, 999_999)


def test_the_first_dispatch_is_the_acceptance_and_a_later_one_is_not() -> None:
    case = new_case(now=MONDAY)
    zjj, cgj = department("zjj"), department("cgj")
    intake.dispatch_case(
        case, staff("intake"), zjj.id, version=None, assisting_ids=[cgj.id, cgj.id, zjj.id],
        handler_id=user("handler").id, now=MONDAY,
    )  # fmt: skip
    assert case.status is CaseStatus.DISPATCHED and case.accepted_at == MONDAY
    assert [a.department_id for a in case.assists] == [cgj.id]  # once, and never the lead
    assert case.handler_id == user("handler").id
    first = events(case)[-1]
    assert first.data == {
        "department": "zjj", "assisting": ["cgj"], "handler": "handler", "acceptance": True
    }  # fmt: skip
    assert case.first_responsible_id == user("intake").id

    from caseapp.services.casework import handling

    handling.return_case(
        case, staff("handler"), "不属于本单位", version=None, now=MONDAY + timedelta(hours=1)
    )
    later = MONDAY + timedelta(hours=2)
    intake.dispatch_case(case, staff("supervisor"), cgj.id, version=None, now=later)
    assert case.accepted_at == MONDAY
    assert events(case)[-1].data["acceptance"] is False
    assert case.first_responsible_id == user("intake").id  # a supervisor never becomes it


def test_dispatch_refusals_write_nothing() -> None:
    case = new_case()
    zjj = department("zjj").id
    refused(
        ValidationFailed,
        lambda: intake.dispatch_case(case, staff("intake"), 999_999, version=None),
        case,
    )
    refused(
        ValidationFailed,
        lambda: intake.dispatch_case(
            case, staff("intake"), zjj, version=None, assisting_ids=[999_999]
        ),
        case,
    )
    refused(
        ValidationFailed,
        lambda: intake.dispatch_case(
            case, staff("intake"), zjj, version=None, handler_id=user("handler2").id
        ),
        case,
    )
    refused(
        NotAllowed, lambda: intake.dispatch_case(case, staff("handler"), zjj, version=None), case
    )
    case.repeat_of_final = True
    db.session.commit()
    refused(
        NotAllowed, lambda: intake.dispatch_case(case, staff("intake"), zjj, version=None), case
    )
