"""Running a case's clocks (DESIGN §4) on its CaseClock rows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from caseapp.extensions import db
from caseapp.models import CalendarOverride, CalendarYear, Case, CaseClock
from caseapp.models.enums import Clock, PolicyTerm, TimeUnit
from caseapp.models.types import utcnow
from caseapp.workflow.calendar import WorkingCalendar, years_to_warn
from caseapp.workflow.deadlines import (
    ESCALATING_CLOCKS,
    LEVEL_SUPERVISED,
    DeadlineMath,
    Period,
    level_after_move,
    period_for,
)


def load_calendar() -> WorkingCalendar:
    """The working calendar with the admin's overrides and imported years as they are now."""
    overrides = db.session.execute(sa.select(CalendarOverride.day, CalendarOverride.kind)).all()
    return WorkingCalendar(
        overrides={day: kind for day, kind in overrides}, imported_years=imported_years()
    )


def imported_years() -> frozenset[int]:
    """The years whose complete official schedule the admin imported."""
    return frozenset(db.session.scalars(sa.select(CalendarYear.year)))


def deadline_math() -> DeadlineMath:
    """Calendar and zone for this city."""
    return DeadlineMath(load_calendar(), ZoneInfo(current_app.config["CITY_TIMEZONE"]))


def case_period(case: Case, term: PolicyTerm) -> Period:
    """The period the case's copied policy gives for ``term``."""
    return period_for(case.policy_terms, term, case.kind, case.priority)


def running(case: Case, clock: Clock | None = None) -> list[CaseClock]:
    """The case's clocks that have not stopped (of one kind, when given)."""
    return [
        row
        for row in case.clocks
        if row.stopped_at is None and (clock is None or row.clock is clock)
    ]


def start_clock(
    case: Case,
    clock: Clock,
    now: datetime,
    math: DeadlineMath,
    period: Period | None = None,
) -> CaseClock:
    """Start a fresh run of ``clock`` (stopping a run of it still going)."""
    stop_clock(case, clock, now)
    period = period or case_period(case, PolicyTerm(clock.value))
    due = math.due_at(now, period)
    row = CaseClock(
        clock=clock,
        started_at=now,
        due_at=due,
        unit=period.unit.value,
        length=period.value,
        extended_by=0,
        escalation_level=0,
        department_id=case.lead_department_id,
        on_fallback=math.counted_on_fallback(now, due, period.unit),
    )
    schedule_escalation(row, math)
    case.clocks.append(row)
    return row


def stop_clock(case: Case, clock: Clock, now: datetime) -> None:
    for row in running(case, clock):
        row.stopped_at = now
        row.next_escalation_at = None


def stop_all(case: Case, now: datetime) -> None:
    for row in running(case):
        row.stopped_at = now
        row.next_escalation_at = None


def pause_all(case: Case, now: datetime) -> None:
    """Stop the running clocks' time while the case waits for the citizen."""
    for row in running(case):
        if row.paused_at is None:
            row.paused_at = now
            row.next_escalation_at = None


def resume_all(case: Case, now: datetime, math: DeadlineMath) -> None:
    """Resume paused clocks, moving each deadline by the paused days (or hours)."""
    for row in running(case):
        if row.paused_at is None:
            continue
        move_deadline(row, math.after_pause(row.due_at, TimeUnit(row.unit), row.paused_at, now))
        row.paused_at = None
        mark_fallback(row, math)
        schedule_escalation(row, math)


def extend_clock(row: CaseClock, extension: Period, math: DeadlineMath) -> None:
    """Move a running clock's deadline later (an approved extension)."""
    move_deadline(row, math.extended(row.due_at, extension))
    row.extended_by += extension.value
    mark_fallback(row, math)
    schedule_escalation(row, math)


def mark_fallback(row: CaseClock, math: DeadlineMath) -> None:
    """Mark a deadline counted over days of a year the calendar does not cover."""
    row.on_fallback = math.counted_on_fallback(row.started_at, row.due_at, TimeUnit(row.unit))


def schedule_escalation(row: CaseClock, math: DeadlineMath) -> None:
    """Keep ``next_escalation_at``, the moment the sweep looks at the clock again, in
    step with its deadline, level and state: called after every change of those."""
    if (
        row.stopped_at is not None
        or row.paused_at is not None
        or row.clock not in ESCALATING_CLOCKS
    ):
        row.next_escalation_at = None
    else:
        row.next_escalation_at = math.next_escalation_at(
            row.started_at, row.due_at, row.escalation_level
        )


def move_deadline(row: CaseClock, due: datetime) -> None:
    """Set a running clock's deadline to ``due``; its escalation level stands while the
    deadline does, and 督办 stands through any move (``level_after_move``). The caller
    schedules the next escalation (``schedule_escalation``) once the move is done."""
    row.escalation_level = level_after_move(row.escalation_level, row.due_at, due)
    row.due_at = due


def refresh_summary(case: Case) -> None:
    """Keep ``next_deadline_at`` and ``escalation_level`` in step with the clocks."""
    active = [row for row in running(case) if row.paused_at is None]
    case.next_deadline_at = min((row.due_at for row in active), default=None)
    case.escalation_level = max((row.escalation_level for row in active), default=0)
    if any(row.escalation_level >= LEVEL_SUPERVISED for row in running(case)):
        case.escalation_level = LEVEL_SUPERVISED  # 督办 shows while the case waits, too


def calendar_warning(now: datetime | None = None) -> list[int]:
    """The years the calendar does not cover that pages must warn about (DESIGN §4):
    this year, next year from 1 December, and any year a running clock reaches."""
    math = DeadlineMath(
        WorkingCalendar(imported_years=imported_years()),
        ZoneInfo(current_app.config["CITY_TIMEZONE"]),
    )
    latest = db.session.scalar(
        sa.select(sa.func.max(CaseClock.due_at)).where(CaseClock.stopped_at.is_(None))
    )
    reached = [math.deadline_day(latest)] if latest is not None else []
    return years_to_warn(math.local_date(now or utcnow()), math.calendar, reached)
