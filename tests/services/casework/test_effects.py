"""``casework.effects``: the effects several actions share, each written once. Closing a
case stops every clock (and, when a reason is given, records why and when); the resolve
promise made at acceptance runs once, and comes back with its own deadline rather than a
fresh one; a department giving a case up keeps its handler as a participant, stops its
department clocks and leaves the case without a handler; handing a case over starts the
new department's sign clock, and from intake is the acceptance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, CaseParticipant
from caseapp.models.enums import CaseStatus, Clock, CloseReason, PolicyTerm
from caseapp.services.casework import clocks, effects
from caseapp.workflow.deadlines import LEVEL_OVERDUE
from tests.factories import case_in, department, new_case, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 6, 8, 10, 0, tzinfo=TZ)
LATER = MONDAY + timedelta(days=2)


def runs(case: Case, clock: Clock) -> list[CaseClock]:
    return [row for row in case.clocks if row.clock is clock]


def is_participant(case: Case, username: str) -> bool:
    return db.session.get(CaseParticipant, (case.id, user(username).id)) is not None


@pytest.mark.parametrize("reason", [None, *CloseReason])
def test_close_case_stops_every_clock_and_records_a_reason_when_given(
    reason: CloseReason | None,
) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    assert clocks.running(case)
    effects.close_case(case, LATER, reason)
    assert clocks.running(case) == []
    if reason is None:
        assert (case.close_reason, case.closed_at) == (None, None)
    else:
        assert (case.close_reason, case.closed_at) == (reason, LATER)


def test_keep_resolve_promise_leaves_a_running_resolve_clock() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    before = [(row.id, row.due_at) for row in runs(case, Clock.RESOLVE)]
    effects.keep_resolve_promise(case, LATER, clocks.deadline_math())
    assert [(row.id, row.due_at) for row in runs(case, Clock.RESOLVE)] == before


def test_keep_resolve_promise_starts_the_first_run() -> None:
    case = new_case(now=MONDAY)
    assert runs(case, Clock.RESOLVE) == []
    math = clocks.deadline_math()
    effects.keep_resolve_promise(case, LATER, math)
    [row] = runs(case, Clock.RESOLVE)
    assert row.stopped_at is None and row.started_at == LATER
    assert row.due_at == math.due_at(LATER, clocks.case_period(case, PolicyTerm.RESOLVE))


def test_keep_resolve_promise_runs_the_last_promise_again_as_it_was() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    [promise] = clocks.running(case, Clock.RESOLVE)
    promise.extended_by, promise.escalation_level = 3, LEVEL_OVERDUE
    due, started = promise.due_at, promise.started_at
    effects.close_case(case, MONDAY + timedelta(hours=1))
    db.session.flush()

    effects.keep_resolve_promise(case, LATER + timedelta(days=30), clocks.deadline_math())
    assert runs(case, Clock.RESOLVE) == [promise]  # no new run
    assert promise.stopped_at is None
    assert (promise.due_at, promise.started_at) == (due, started)
    assert (promise.extended_by, promise.escalation_level) == (3, LEVEL_OVERDUE)


def test_keep_resolve_promise_picks_the_latest_of_several_runs() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    [old] = clocks.running(case, Clock.RESOLVE)
    newer = clocks.start_clock(case, Clock.RESOLVE, MONDAY + timedelta(days=1), math)
    clocks.stop_all(case, LATER)
    db.session.flush()
    effects.keep_resolve_promise(case, LATER, math)
    assert clocks.running(case, Clock.RESOLVE) == [newer]
    assert old.stopped_at is not None


def test_leave_department_keeps_the_handler_as_participant_and_stops_department_clocks() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    clocks.start_clock(case, Clock.SIGN, MONDAY, math)
    clocks.start_clock(case, Clock.FIRST_RESPONSE, MONDAY, math)
    db.session.execute(CaseParticipant.__table__.delete().where(CaseParticipant.case_id == case.id))
    db.session.commit()
    assert case.handler_id == user("handler").id

    effects.leave_department(case, LATER)
    db.session.commit()
    assert case.handler_id is None
    assert is_participant(case, "handler")
    assert {row.clock for row in clocks.running(case)} == {Clock.RESOLVE}
    assert case.lead_department_id == department("zjj").id  # the move is the caller's


def test_hand_to_department_from_a_department() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    accepted = case.accepted_at
    [promise] = clocks.running(case, Clock.RESOLVE)
    [old_sign] = runs(case, Clock.SIGN)
    cgj, zjj = department("cgj"), department("zjj")

    effects.hand_to_department(
        case, cgj, LATER, clocks.deadline_math(), handler=user("handler2"), assisting=[zjj]
    )
    db.session.commit()
    assert case.lead_department_id == cgj.id
    assert case.handler_id == user("handler2").id
    assert [a.department_id for a in case.assists] == [zjj.id]
    assert is_participant(case, "handler")
    [sign] = clocks.running(case, Clock.SIGN)
    assert sign is not old_sign and sign.started_at == LATER
    assert sign.department_id == cgj.id
    assert clocks.running(case, Clock.RESOLVE) == [promise]
    assert case.accepted_at == accepted  # not an acceptance


def test_hand_to_department_keeps_the_assisting_departments_unless_given() -> None:
    case = case_in(CaseStatus.DISPATCHED, now=MONDAY)
    math = clocks.deadline_math()
    effects.hand_to_department(case, department("zjj"), LATER, math, assisting=[department("cgj")])
    db.session.commit()
    effects.hand_to_department(case, department("zjj"), LATER, math)
    db.session.commit()
    assert [a.department_id for a in case.assists] == [department("cgj").id]
    assert case.handler_id is None
    effects.hand_to_department(case, department("zjj"), LATER, math, assisting=[])
    db.session.commit()
    assert case.assists == []


def test_hand_to_department_from_intake_is_the_acceptance() -> None:
    case = new_case(now=MONDAY)
    assert clocks.running(case, Clock.ACCEPT) and case.accepted_at is None
    math = clocks.deadline_math()

    effects.hand_to_department(case, department("zjj"), LATER, math, from_intake=True)
    db.session.commit()
    assert case.accepted_at == LATER
    assert clocks.running(case, Clock.ACCEPT) == []
    assert {row.clock for row in clocks.running(case)} == {Clock.SIGN, Clock.RESOLVE}
    [promise] = clocks.running(case, Clock.RESOLVE)
    assert promise.started_at == LATER

    # A second hand-over from intake (after a return) neither re-accepts nor restarts.
    effects.hand_to_department(
        case, department("cgj"), LATER + timedelta(days=1), math, from_intake=True
    )
    db.session.commit()
    assert case.accepted_at == LATER
    assert clocks.running(case, Clock.RESOLVE) == [promise]
    assert len(runs(case, Clock.SIGN)) == 2 and len(clocks.running(case, Clock.SIGN)) == 1
