"""The deadline sweep, with time travel over real holidays (time-machine)."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import time_machine
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, CaseEvent, InboxMessage
from caseapp.models.enums import CaseStatus, Clock, CloseReason, EventAction, Satisfaction
from caseapp.services.casework import closing, intake
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.casework.sweep import run_sweep
from tests.factories import case_in, department, new_case, staff, user

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def clock_of(case: Case, clock: Clock) -> CaseClock:
    return next(row for row in case.clocks if row.clock is clock and row.stopped_at is None)


def escalations(case: Case) -> list[dict]:
    return [
        e.data
        for e in db.session.scalars(
            sa.select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.action == EventAction.ESCALATE)
            .order_by(CaseEvent.id)
        )
    ]


def inbox(username: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(InboxMessage.kind).where(InboxMessage.user_id == user(username).id)
        )
    )


def test_a_case_dispatched_before_national_day_is_overdue_only_on_9_october(
    app_ctx: Flask, demo_base: None
) -> None:
    case = new_case(now=local(2026, 9, 30, 9, 0))
    intake.dispatch_case(
        case, staff("intake"), department("zjj").id, version=None, now=local(2026, 9, 30, 10, 0)
    )
    sign = clock_of(case, Clock.SIGN)
    assert sign.due_at == local(2026, 10, 9)  # 1 working day: the end of 8 October
    with time_machine.travel(local(2026, 10, 5, 12, 0), tick=False):  # in the holiday
        run_sweep()
    assert clock_of(case, Clock.SIGN).escalation_level == 1  # due soon: the last day is next
    with time_machine.travel(local(2026, 10, 8, 23, 59), tick=False):
        run_sweep()
    assert clock_of(case, Clock.SIGN).escalation_level == 1
    with time_machine.travel(local(2026, 10, 9, 0, 0), tick=False):
        report = run_sweep()
    sign = clock_of(case, Clock.SIGN)
    assert sign.escalation_level == 2 and report.escalated[2] >= 1
    assert sign.overdue_department_id == department("zjj").id
    assert "escalation_2" in inbox("lead")
    assert {k: escalations(case)[-1][k] for k in ("from", "to")} == {"from": 1, "to": 2}


def test_the_sweep_is_idempotent(app_ctx: Flask, demo_base: None) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    with time_machine.travel(local(2026, 11, 20, 9, 0), tick=False):
        first = run_sweep()
        events = len(escalations(case))
        notices = db.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
        second = run_sweep()
    assert sum(first.escalated.values()) >= 1 and events >= 1
    assert second.escalated == {1: 0, 2: 0, 3: 0} and second.notices == 0
    assert len(escalations(case)) == events
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == notices


def test_five_working_days_overdue_is_supervised_and_supervisors_are_told(
    app_ctx: Flask, demo_base: None
) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0), leader=True)
    resolve_due = clock_of(case, Clock.RESOLVE).due_at  # end of Thursday 5 November
    assert resolve_due == local(2026, 11, 6)
    with time_machine.travel(local(2026, 11, 12, 23, 0), tick=False):  # 4 working days late
        run_sweep()
    assert clock_of(case, Clock.RESOLVE).escalation_level == 2
    with time_machine.travel(local(2026, 11, 13, 0, 0), tick=False):  # after 5 working days
        run_sweep()
    assert clock_of(case, Clock.RESOLVE).escalation_level == 3
    assert "escalation_3" in inbox("supervisor") and "escalation_3" in inbox("leader")


def test_windows_that_passed_resume_and_close(app_ctx: Flask, demo_base: None) -> None:
    waiting = case_in(CaseStatus.AWAITING_CITIZEN, now=local(2026, 11, 2, 9, 0))
    answered = case_in(CaseStatus.RESOLVED, now=local(2026, 11, 2, 9, 0))
    with time_machine.travel(local(2026, 11, 20, 9, 0), tick=False):  # 10 working days on
        report = run_sweep()
    assert report.resumed == 1 and report.closed_unrated == 1
    assert waiting.status is CaseStatus.IN_PROGRESS
    assert answered.status is CaseStatus.CLOSED and answered.close_reason is CloseReason.NO_RATING


def test_a_redo_starts_a_fresh_period_and_a_new_escalation_episode(
    app_ctx: Flask, demo_base: None
) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    with time_machine.travel(local(2026, 11, 9, 9, 0), tick=False):
        run_sweep()
    assert clock_of(case, Clock.RESOLVE).escalation_level == 2
    casework.resolve_case(
        case, staff("handler"), "已处理", version=None, now=local(2026, 11, 9, 10, 0)
    )
    closing.rate_case(
        case,
        Actor.citizen(),
        False,
        Satisfaction.UNSATISFIED,
        version=None,
        now=local(2026, 11, 9, 11, 0),
    )
    fresh = clock_of(case, Clock.RESOLVE)
    assert fresh.escalation_level == 0 and fresh.due_at == local(2026, 11, 13)  # 3 working days
    with time_machine.travel(local(2026, 11, 10, 9, 0), tick=False):
        run_sweep()
    assert clock_of(case, Clock.RESOLVE).escalation_level == 0


def test_two_sweeps_at_once_do_the_work_once(app: Flask, demo_base: None) -> None:
    with app.app_context():
        numbers = [
            case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0)).number for _ in range(4)
        ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweep() -> None:
        with app.app_context(), time_machine.travel(local(2026, 11, 20, 9, 0), tick=False):
            try:
                barrier.wait(timeout=30)
                run_sweep()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        for number in numbers:
            case = db.session.scalar(sa.select(Case).where(Case.number == number))
            levels = [(e["clock"], e["to"]) for e in escalations(case)]
            assert len(levels) == len(set(levels)), levels  # each raise once
        keys = db.session.scalars(sa.select(InboxMessage.dedupe_key)).all()
        assert len(keys) == len(set(keys))


def test_a_clock_that_skips_levels_tells_everyone_once_of_the_level_it_reached(
    app_ctx: Flask, demo_base: None
) -> None:
    case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0), leader=True)
    with time_machine.travel(local(2026, 11, 30, 9, 0), tick=False):  # long past: level 3 at once
        run_sweep()
    # resolve and first response: each clock's people, the supervisors and the leader
    for username in ("handler", "lead", "supervisor", "leader"):
        assert inbox(username) == ["escalation_3", "escalation_3"], username
