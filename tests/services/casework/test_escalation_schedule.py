"""The escalation schedule (issue 19): each running clock keeps when its level next
rises (``next_escalation_at``) and the sweep reads only the clocks that are due. It
must escalate exactly what the rule (``DeadlineMath.escalation_level``) says, at the
same moments as a sweep over every running clock did; the schedule follows every
operation on a clock, and a change of the calendar."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, CaseClock
from caseapp.models.enums import CaseStatus, Clock, TimeUnit
from caseapp.models.types import utcnow
from caseapp.services.admin import policies
from caseapp.services.casework import calendar_years, clocks, supervision
from caseapp.services.casework.sweep import reschedule_escalations, run_sweep
from caseapp.workflow.deadlines import (
    ESCALATING_CLOCKS,
    LEVEL_SUPERVISED,
    DeadlineMath,
    Period,
    level_after_move,
)
from tests.factories import case_in, staff, user

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 6, 8, 10, 0, tzinfo=TZ)


def expected_schedule(row: CaseClock, math: DeadlineMath) -> datetime | None:
    if (
        row.stopped_at is not None
        or row.paused_at is not None
        or row.clock not in ESCALATING_CLOCKS
        or row.escalation_level >= LEVEL_SUPERVISED
    ):
        return None
    return math.next_escalation_at(row.started_at, row.due_at, row.escalation_level)


def running_clocks() -> dict[int, tuple[datetime, datetime, int, bool]]:
    rows = db.session.scalars(sa.select(CaseClock).where(CaseClock.stopped_at.is_(None)))
    found = {
        row.id: (row.started_at, row.due_at, row.escalation_level, row.paused_at is not None)
        for row in rows
        if row.clock in ESCALATING_CLOCKS
    }
    db.session.rollback()
    return found


def assert_every_schedule_is_right(math: DeadlineMath) -> None:
    wrong = [
        (row.id, row.next_escalation_at, expected_schedule(row, math))
        for row in db.session.scalars(sa.select(CaseClock))
        if row.next_escalation_at != expected_schedule(row, math)
    ]
    db.session.rollback()
    assert wrong == []


def test_the_sweep_raises_every_clock_of_the_demo_city_as_the_rule_says(
    app_ctx: Flask, demo_city: None
) -> None:
    math = clocks.deadline_math()
    start = utcnow()
    assert_every_schedule_is_right(math)
    # Moments across level changes: the next threshold of some clock, just before it
    # and at it, then hours and days later (sweeps accumulate, as the worker's do).
    thresholds = sorted(
        t for t in db.session.scalars(sa.select(CaseClock.next_escalation_at)) if t and t > start
    )
    assert thresholds, "the demo city has clocks that escalate later"
    first = thresholds[0]
    moments = [start, first - timedelta(microseconds=1), first]
    moments += [start + timedelta(hours=h) for h in (6, 30, 80, 24 * 6, 24 * 12, 24 * 40)]
    raised_at_levels: set[int] = set()
    for moment in sorted(set(moments)):
        before = running_clocks()
        report = run_sweep(moment)
        after = running_clocks()
        raised = 0
        for clock_id, (started, due, level, paused) in after.items():
            if paused:
                continue
            rule = math.escalation_level(started, due, moment)
            if clock_id in before:
                was_due, was_level = before[clock_id][1], before[clock_id][2]
                kept = level_after_move(was_level, was_due, due)
            else:
                kept = 0  # a clock the sweep's resumptions started
            assert level == max(kept, rule), (moment, clock_id, kept, rule, level)
            if level > kept:
                raised += 1
                raised_at_levels.add(level)
        assert sum(report.escalated.values()) == raised
        assert report.skipped == 0
        if moment == first - timedelta(microseconds=1):
            assert all(
                row.next_escalation_at >= first
                for row in db.session.scalars(
                    sa.select(CaseClock).where(CaseClock.next_escalation_at.is_not(None))
                )
            )
        assert_every_schedule_is_right(math)
    assert raised_at_levels == {1, 2, 3}


@pytest.mark.parametrize("seed", range(6))
def test_the_schedule_follows_every_operation_on_a_clock(
    app_ctx: Flask, demo_base: None, seed: int
) -> None:
    rng = random.Random(seed)
    math = clocks.deadline_math()
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    case_id = case.id
    moment = MONDAY

    def a_running_clock(case: Case) -> CaseClock | None:
        rows = [row for row in clocks.running(case) if row.clock in ESCALATING_CLOCKS]
        return rng.choice(rows) if rows else None

    for _step in range(25):
        moment += timedelta(hours=rng.choice([1, 5, 13, 26, 50, 100]))
        case = db.session.get(Case, case_id)
        assert case is not None
        operation = rng.choice(
            ["start", "pause", "resume", "extend", "move", "stop", "urge", "sweep"]
        )
        if operation == "start":
            clock = rng.choice([Clock.SIGN, Clock.FIRST_RESPONSE, Clock.RESOLVE])
            clocks.start_clock(case, clock, moment, math)
        elif operation == "pause":
            clocks.pause_all(case, moment)
        elif operation == "resume":
            clocks.resume_all(case, moment, math)
        elif operation == "extend" and (row := a_running_clock(case)) is not None:
            unit = rng.choice([TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS, TimeUnit.HOURS])
            clocks.extend_clock(row, Period(unit, rng.randint(1, 5)), math)
        elif operation == "move" and (row := a_running_clock(case)) is not None:
            # What a recompute does to a clock whose deadline the calendar moved.
            clocks.move_deadline(row, row.due_at + timedelta(days=rng.choice([-1, 1, 2])))
            clocks.mark_fallback(row, math)
            clocks.schedule_escalation(row, math)
        elif operation == "stop" and (row := a_running_clock(case)) is not None:
            clocks.stop_clock(case, row.clock, moment)
        elif operation == "urge":
            db.session.commit()
            supervision.urge_case(case, staff("supervisor"), "请加快办理", version=None, now=moment)
        elif operation == "sweep":
            db.session.commit()
            run_sweep(moment)
        db.session.flush()
        assert_every_schedule_is_right(math)
        db.session.commit()


def test_a_change_of_the_calendar_moves_the_moment_a_clock_is_due_soon(
    app_ctx: Flask, demo_base: None
) -> None:
    """A holiday added the working day before a deadline makes the clock due soon a
    day earlier, as the rule counted with the new calendar says, recomputed or not."""
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    math = clocks.deadline_math()
    run_sweep(MONDAY)  # the schedule is counted with this calendar
    row = next(r for r in clocks.running(case) if r.clock is Clock.RESOLVE)
    due_soon = math.due_soon_from(row.started_at, row.due_at)
    day_before = math.calendar.add_working_days(math.deadline_day(row.due_at), -1)
    assert row.next_escalation_at == due_soon
    policies.add_override(user("admin"), day_before, "holiday", "test", now=MONDAY)
    db.session.commit()
    math = clocks.deadline_math()
    earlier = math.due_soon_from(row.started_at, row.due_at)
    assert earlier < due_soon
    report = run_sweep(earlier)
    row = db.session.get(CaseClock, row.id)
    assert row is not None and row.escalation_level == 1 and report.escalated[1] >= 1
    assert_every_schedule_is_right(math)
    # Counted again with nothing changed, nothing moves.
    assert reschedule_escalations(math) == 0
    assert calendar_years.recompute_deadlines(user("admin"), now=earlier).left == []
    assert_every_schedule_is_right(clocks.deadline_math())
