"""``casework.clocks``: a case's deadline clocks on its CaseClock rows (DESIGN §4). A
clock runs once at a time (a fresh start stops the run still going); stopping, pausing
and resuming touch only running rows; a pause moves the deadline by the time (or the
days) it took, an extension by its period; a moved deadline starts a new escalation
episode except that 督办 stands; the case's summary (next deadline, escalation level)
follows its running, unpaused clocks; the calendar is the admin's overrides and years."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseapp.extensions import db
from caseapp.models import CalendarOverride, CalendarYear, Case, CaseClock
from caseapp.models.enums import CalendarDayKind, CaseStatus, Clock, PolicyTerm, Priority, TimeUnit
from caseapp.services.casework import clocks
from caseapp.workflow.deadlines import LEVEL_OVERDUE, LEVEL_SUPERVISED, Period
from tests.factories import case_in, new_case

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 6, 8, 10, 0, tzinfo=TZ)  # an ordinary working week


def runs(case: Case, clock: Clock) -> list[CaseClock]:
    return [row for row in case.clocks if row.clock is clock]


def test_case_period_reads_the_case_s_copied_policy() -> None:
    normal = new_case(now=MONDAY)
    urgent = new_case(priority=Priority.URGENT, now=MONDAY)
    assert clocks.case_period(normal, PolicyTerm.ACCEPT) == Period(TimeUnit.WORKING_DAYS, 1)
    assert clocks.case_period(urgent, PolicyTerm.ACCEPT) == Period(TimeUnit.HOURS, 2)


def test_start_clock_stops_the_run_still_going_and_counts_from_now() -> None:
    case = new_case(now=MONDAY)  # its accept clock runs
    math = clocks.deadline_math()
    [first] = clocks.running(case, Clock.ACCEPT)
    later = MONDAY + timedelta(days=1)
    row = clocks.start_clock(case, Clock.ACCEPT, later, math)
    assert first.stopped_at == later
    assert clocks.running(case, Clock.ACCEPT) == [row]
    period = clocks.case_period(case, PolicyTerm.ACCEPT)
    assert row.started_at == later
    assert row.due_at == math.due_at(later, period)
    assert (row.unit, row.length) == (period.unit.value, period.value)
    assert (row.extended_by, row.escalation_level) == (0, 0)
    assert row.department_id == case.lead_department_id


def test_start_clock_with_a_period_given() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    row = clocks.start_clock(
        case, Clock.REPLY_WINDOW, MONDAY, clocks.deadline_math(), Period(TimeUnit.HOURS, 5)
    )
    assert row.due_at == MONDAY + timedelta(hours=5)
    assert (row.unit, row.length) == ("hours", 5)
    assert row.department_id == case.lead_department_id is not None


def test_running_stop_clock_and_stop_all() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    kinds = {row.clock for row in clocks.running(case)}
    assert Clock.RESOLVE in kinds and len(kinds) >= 2
    stopped_before = {row.id: row.stopped_at for row in case.clocks if row.stopped_at}
    at = MONDAY + timedelta(days=2)

    clocks.stop_clock(case, Clock.RESOLVE, at)
    assert clocks.running(case, Clock.RESOLVE) == []
    assert {row.clock for row in clocks.running(case)} == kinds - {Clock.RESOLVE}
    assert all(
        row.stopped_at == at for row in runs(case, Clock.RESOLVE) if row.id not in stopped_before
    )

    clocks.stop_all(case, at + timedelta(hours=1))
    assert clocks.running(case) == []
    # A run stopped earlier keeps the moment it stopped.
    for row in case.clocks:
        if row.id in stopped_before:
            assert row.stopped_at == stopped_before[row.id]
    assert all(
        row.stopped_at == at for row in runs(case, Clock.RESOLVE) if row.id not in stopped_before
    )


def test_pause_all_pauses_running_clocks_once() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    stopped = [row for row in case.clocks if row.stopped_at is not None]
    first, second = MONDAY + timedelta(hours=1), MONDAY + timedelta(hours=5)
    clocks.pause_all(case, first)
    clocks.pause_all(case, second)
    assert clocks.running(case) and all(row.paused_at == first for row in clocks.running(case))
    assert all(row.paused_at is None for row in stopped)


def test_resume_moves_each_deadline_by_the_pause_in_its_unit() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    clocks.stop_all(case, MONDAY)
    hours = clocks.start_clock(case, Clock.FIRST_RESPONSE, MONDAY, math, Period(TimeUnit.HOURS, 8))
    days = clocks.start_clock(case, Clock.RESOLVE, MONDAY, math, Period(TimeUnit.CALENDAR_DAYS, 10))
    working = clocks.start_clock(case, Clock.SIGN, MONDAY, math, Period(TimeUnit.WORKING_DAYS, 5))
    due = {row.clock: row.due_at for row in (hours, days, working)}

    clocks.pause_all(case, MONDAY + timedelta(hours=1))  # Monday 11:00
    resumed = datetime(2026, 6, 15, 9, 0, tzinfo=TZ)  # the next Monday 09:00
    clocks.resume_all(case, resumed, math)

    assert hours.due_at == due[Clock.FIRST_RESPONSE] + (resumed - (MONDAY + timedelta(hours=1)))
    assert days.due_at == due[Clock.RESOLVE] + timedelta(days=7)  # Tuesday … Monday began
    # Tuesday to Friday and Monday: five working days began; the weekend is not counted.
    assert working.due_at == math.extended(due[Clock.SIGN], Period(TimeUnit.WORKING_DAYS, 5))
    assert all(row.paused_at is None for row in (hours, days, working))


def test_resume_leaves_a_clock_that_was_not_paused() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    before = {row.id: row.due_at for row in clocks.running(case)}
    clocks.resume_all(case, MONDAY + timedelta(days=3), math)
    assert {row.id: row.due_at for row in clocks.running(case)} == before


def test_extend_clock_moves_the_deadline_and_counts_the_days() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    [row] = clocks.running(case, Clock.RESOLVE)
    due = row.due_at
    row.escalation_level = LEVEL_OVERDUE
    clocks.extend_clock(row, Period(TimeUnit.WORKING_DAYS, 3), math)
    clocks.extend_clock(row, Period(TimeUnit.WORKING_DAYS, 2), math)
    assert row.due_at == math.extended(due, Period(TimeUnit.WORKING_DAYS, 5))
    assert row.extended_by == 5
    assert row.escalation_level == 0  # a new deadline, a new episode
    assert row.on_fallback is False  # 2026 is a year the calendar covers


@pytest.mark.parametrize(
    ("level", "moved", "after"),
    [
        (LEVEL_OVERDUE, False, LEVEL_OVERDUE),
        (LEVEL_OVERDUE, True, 0),
        (1, True, 0),
        (LEVEL_SUPERVISED, True, LEVEL_SUPERVISED),
        (LEVEL_SUPERVISED, False, LEVEL_SUPERVISED),
    ],
)
def test_move_deadline_keeps_the_level_while_the_deadline_stands(
    level: int, moved: bool, after: int
) -> None:
    due = MONDAY + timedelta(days=3)
    row = CaseClock(clock=Clock.RESOLVE, due_at=due, escalation_level=level)
    new_due = due + timedelta(days=2) if moved else due
    clocks.move_deadline(row, new_due)
    assert row.due_at == new_due
    assert row.escalation_level == after


def test_refresh_summary_follows_the_running_unpaused_clocks() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    clocks.stop_all(case, MONDAY)
    near = clocks.start_clock(case, Clock.FIRST_RESPONSE, MONDAY, math, Period(TimeUnit.HOURS, 4))
    far = clocks.start_clock(case, Clock.RESOLVE, MONDAY, math, Period(TimeUnit.CALENDAR_DAYS, 9))
    far.escalation_level = LEVEL_OVERDUE
    clocks.refresh_summary(case)
    assert (case.next_deadline_at, case.escalation_level) == (near.due_at, LEVEL_OVERDUE)

    near.paused_at = MONDAY  # a paused clock does not set the next deadline
    clocks.refresh_summary(case)
    assert case.next_deadline_at == far.due_at

    far.paused_at = MONDAY
    clocks.refresh_summary(case)
    assert (case.next_deadline_at, case.escalation_level) == (None, 0)

    far.escalation_level = LEVEL_SUPERVISED  # 督办 shows while the case waits, too
    clocks.refresh_summary(case)
    assert (case.next_deadline_at, case.escalation_level) == (None, LEVEL_SUPERVISED)

    clocks.stop_all(case, MONDAY)
    clocks.refresh_summary(case)
    assert (case.next_deadline_at, case.escalation_level) == (None, 0)


def test_the_calendar_holds_the_admin_s_overrides_and_imported_years() -> None:
    assert clocks.imported_years() == frozenset()
    plain = clocks.load_calendar()
    assert plain.is_working_day(date(2026, 6, 9))  # a Tuesday
    db.session.add(CalendarOverride(day=date(2026, 6, 9), kind=CalendarDayKind.HOLIDAY))
    db.session.add(CalendarOverride(day=date(2026, 6, 13), kind=CalendarDayKind.WORKDAY))
    db.session.add(
        CalendarYear(
            year=2031, source="test", status="official", digest="0" * 64, holidays=0, workdays=0
        )
    )
    db.session.commit()
    calendar = clocks.load_calendar()
    assert not calendar.is_working_day(date(2026, 6, 9))
    assert calendar.is_working_day(date(2026, 6, 13))  # a Saturday made a working day
    assert clocks.imported_years() == frozenset({2031})
    assert calendar.year_is_covered(2031)
    # Deadlines are counted with it.
    math = clocks.deadline_math()
    assert math.add_days(date(2026, 6, 8), Period(TimeUnit.WORKING_DAYS, 1)) == date(2026, 6, 10)
