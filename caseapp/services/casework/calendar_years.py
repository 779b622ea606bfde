"""The working-day calendar's years (DESIGN §4): which years are covered, the deadlines
counted on the Monday–Friday fallback, importing a year's official holiday schedule,
and recomputing every running clock once the calendar has changed.

A year is covered when the package knows it or a complete official schedule of it was
imported (a ``CalendarYear`` row; its days are calendar overrides naming the year).
Importing replaces the days of an earlier import of the year and the hand-set dates the
schedule sets otherwise; other hand-set dates of the year stay. Then every running day
clock is counted again from its start, replaying its finished pauses and approved
extensions with the calendar as it is now; a case whose deadline moved gets an event,
and its citizens a notice when the date they were promised moved.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from caseapp.extensions import db
from caseapp.models import CalendarOverride, CalendarYear, Case, CaseClock, CaseRequest, User
from caseapp.models.enums import (
    OPEN_STATUSES,
    CalendarDayKind,
    Clock,
    EventAction,
    PolicyTerm,
    RequestKind,
    RequestStatus,
    TimeUnit,
)
from caseapp.models.types import utcnow
from caseapp.services.admin import audit
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import lifecycle
from caseapp.services.errors import NotFound, StaleVersion, ValidationFailed
from caseapp.services.messages import N_, Message
from caseapp.services.notices import citizen as notices
from caseapp.services.transactions import one_transaction
from caseapp.workflow.calendar import WorkingCalendar
from caseapp.workflow.calendar_schedule import MAX_BYTES, Problem, Schedule, parse_schedule
from caseapp.workflow.deadlines import DeadlineMath, Pause, Period, period_for

DAY_UNITS = (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS)
# The clocks whose deadline is a date the citizen was given (receipt, acceptance).
PROMISED = (Clock.RESOLVE, Clock.ACCEPT)
FALLBACK_LISTED = 500
MAX_SCHEDULE_BYTES = MAX_BYTES
# The format's examples: the official 2025 and 2026 schedules and a 2027 test example.
EXAMPLES = Path(__file__).resolve().parents[2] / "calendar_schedules"
STALE_RETRIES = 3


# --- coverage and the clocks on the fallback --------------------------------------------------


@dataclass(frozen=True)
class YearCoverage:
    """How a year is known: ``package``, ``schedule`` (imported) or not at all (None)."""

    year: int
    covered_by: str | None
    record: CalendarYear | None = None


def coverage(years: Sequence[int]) -> list[YearCoverage]:
    """The coverage of each of ``years``."""
    records = {
        row.year: row
        for row in db.session.scalars(sa.select(CalendarYear).where(CalendarYear.year.in_(years)))
    }
    found = []
    for year in years:
        if WorkingCalendar.has_data_for(year):
            found.append(YearCoverage(year, "package", records.get(year)))
        elif year in records:
            found.append(YearCoverage(year, "schedule", records[year]))
        else:
            found.append(YearCoverage(year, None))
    return found


@dataclass(frozen=True)
class FallbackClock:
    """A running clock whose deadline was counted on the Monday–Friday fallback."""

    case_number: str
    clock: Clock
    started_at: datetime
    due_at: datetime
    paused: bool
    extended_by: int


def fallback_clocks(limit: int = FALLBACK_LISTED) -> tuple[list[FallbackClock], int]:
    """The running clocks of open cases counted on the fallback, soonest due first, and
    how many there are in all."""
    where = (
        CaseClock.stopped_at.is_(None),
        CaseClock.on_fallback.is_(True),
        Case.status.in_([str(s) for s in OPEN_STATUSES]),
    )
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(CaseClock).join(Case).where(*where)
    )
    rows = db.session.execute(
        sa.select(
            Case.number,
            CaseClock.clock,
            CaseClock.started_at,
            CaseClock.due_at,
            CaseClock.paused_at,
            CaseClock.extended_by,
        )
        .join(Case, Case.id == CaseClock.case_id)
        .where(*where)
        .order_by(CaseClock.due_at, CaseClock.id)
        .limit(limit)
    ).all()
    return [
        FallbackClock(number, clock, started, due, paused is not None, extended)
        for number, clock, started, due, paused, extended in rows
    ], total or 0


# --- importing a year's schedule ---------------------------------------------------------------


def example_names() -> list[str]:
    """The example schedule files shipped with the app."""
    return sorted(path.name for path in EXAMPLES.glob("*.txt"))


def example_path(name: str) -> Path:
    """The path of one example file; NotFound for any other name."""
    if name not in example_names():
        raise NotFound("no such example")
    return EXAMPLES / name


@dataclass(frozen=True)
class DayChange:
    """A date the schedule sets differently from the calendar as it is now."""

    day: date
    kind: CalendarDayKind
    name: str  # the festival
    before: CalendarDayKind | None  # the override it replaces, if any
    before_note: str = ""


@dataclass
class SchedulePreview:
    """What importing a file would do; ``problems`` empty means it may be imported."""

    schedule: Schedule
    problems: list[Problem]
    changes: list[DayChange] = field(default_factory=list)
    kept: list[CalendarOverride] = field(default_factory=list)  # hand-set dates that stay
    dropped: list[date] = field(default_factory=list)  # the earlier import's, not set now
    replaces: CalendarYear | None = None  # the earlier import of the year
    running_clocks: int = 0

    @property
    def ready(self) -> bool:
        return not self.problems


def test_examples_allowed() -> bool:
    """Made-up (test-example) schedules are imported only in demo and test instances."""
    return bool(current_app.config.get("DEMO") or current_app.config.get("TESTING"))


def preview_schedule(data: bytes, filename: str = "") -> SchedulePreview:
    """Read and check a schedule file, and say what importing it would change."""
    schedule = parse_schedule(data, filename)
    problems = list(schedule.problems)
    if schedule.complete and schedule.is_test_example and not test_examples_allowed():
        problems.append(
            Problem(
                None,
                Message(
                    N_("This file is a test example, not an official schedule: it can be "
                       "imported only in a demo or test instance.")
                ),
            )
        )  # fmt: skip
    preview = SchedulePreview(schedule, problems)
    if problems or schedule.year is None:
        return preview
    year = schedule.year
    names = {
        day: period.name for period in schedule.periods for day in (*period.days, *period.workdays)
    }
    existing = {
        row.day: row
        for row in db.session.scalars(
            sa.select(CalendarOverride).where(
                CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31)
            )
        )
    }
    for day, kind in schedule.days().items():
        row = existing.get(day)
        if row is None or row.kind is not kind or row.calendar_year is None:
            preview.changes.append(
                DayChange(
                    day,
                    kind,
                    names[day],
                    row.kind if row is not None else None,
                    row.note if row is not None else "",
                )
            )
    preview.kept = [
        row
        for day, row in sorted(existing.items())
        if row.calendar_year is None and day not in names
    ]
    preview.dropped = [
        day
        for day, row in sorted(existing.items())
        if row.calendar_year is not None and day not in names
    ]
    preview.replaces = db.session.get(CalendarYear, year)
    preview.running_clocks = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(CaseClock).where(CaseClock.stopped_at.is_(None))
        )
        or 0
    )
    return preview


class ScheduleRefused(ValidationFailed):
    """The file is not a complete schedule (or not one this instance accepts)."""

    def __init__(self, preview: SchedulePreview) -> None:
        super().__init__(N_("The schedule was not imported."), {"schedule": preview.problems})
        self.preview = preview


@dataclass(frozen=True)
class ImportResult:
    year: CalendarYear
    recomputed: RecomputeResult


@one_transaction
def import_schedule(
    actor: User, data: bytes, filename: str = "", now: datetime | None = None
) -> ImportResult:
    """Import a complete schedule: its days become the year's overrides, the year counts
    as covered, and every running clock is recomputed. ScheduleRefused otherwise."""
    now = now or utcnow()
    preview = preview_schedule(data, filename)
    schedule = preview.schedule
    if not preview.ready or schedule.year is None:
        raise ScheduleRefused(preview)
    year = schedule.year
    days = schedule.days()
    record = db.session.get(CalendarYear, year)
    before = audit.snapshot(record, YEAR_FIELDS) if record is not None else None
    # The schedule's days replace the earlier import's and any hand-set date they set.
    db.session.execute(
        sa.delete(CalendarOverride).where(
            sa.or_(CalendarOverride.calendar_year == year, CalendarOverride.day.in_(list(days)))
        )
    )
    if record is None:
        record = CalendarYear(year=year)
        db.session.add(record)
    record.source = schedule.source
    record.status = schedule.status
    record.digest = hashlib.sha256(data).hexdigest()
    record.holidays = sum(1 for kind in days.values() if kind is CalendarDayKind.HOLIDAY)
    record.workdays = len(days) - record.holidays
    record.imported_by_id = actor.id
    record.imported_at = now
    db.session.flush()
    period_names = {d: p.name for p in schedule.periods for d in (*p.days, *p.workdays)}
    for day, kind in days.items():
        db.session.add(
            CalendarOverride(
                day=day,
                kind=kind,
                note=period_names[day][:200],
                created_by_id=actor.id,
                created_at=now,
                calendar_year=year,
            )
        )
    audit.record(
        actor,
        "calendar_year",
        year,
        "import",
        before,
        {
            **audit.snapshot(record, YEAR_FIELDS),
            "replaced": [
                {"day": c.day, "before": c.before, "note": c.before_note}
                for c in preview.changes
                if c.before is not None
            ],
        },
        now,
    )
    db.session.commit()
    return ImportResult(record, recompute_deadlines(actor, now))


YEAR_FIELDS = ("year", "source", "status", "digest", "holidays", "workdays")


# --- recomputing the running clocks -------------------------------------------------------------


@dataclass(frozen=True)
class ClockMove:
    """A running clock whose deadline the recount moved."""

    case_number: str
    clock: Clock
    before: datetime
    after: datetime


@dataclass
class RecomputeResult:
    changed: int = 0  # clocks whose deadline moved
    unchanged: int = 0
    notices: int = 0  # citizen notices queued
    moves: list[ClockMove] = field(default_factory=list)
    # Cases whose clocks could not be replayed (their record does not add up) or that
    # kept changing while this ran: left as they were, for the admin to check.
    left: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _History:
    """What moved a case's clocks: finished pauses and approved extensions."""

    pauses: list[Pause]
    extensions: list[tuple[datetime, int]]  # (approved at, days)
    extension_unit: TimeUnit | None


def _recounted(
    math: DeadlineMath,
    clock: Clock,
    started_at: datetime,
    unit: TimeUnit,
    length: int,
    extended_by: int,
    history: _History,
) -> datetime | None:
    """The deadline of a running clock counted again with ``math``'s calendar; None when
    its extensions cannot be told (they do not add up to ``extended_by``)."""
    timed: list[tuple[datetime, Pause | Period]] = [
        (pause.resumed_at, pause) for pause in history.pauses if pause.paused_at >= started_at
    ]
    if clock is Clock.RESOLVE:
        granted = [(at, days) for at, days in history.extensions if at >= started_at]
        if sum(days for _at, days in granted) != extended_by:
            return None
        if granted and history.extension_unit is None:
            return None
        timed += [(at, Period(history.extension_unit, days)) for at, days in granted]  # type: ignore[arg-type]
    elif extended_by:
        return None
    timed.sort(key=lambda item: item[0])
    return math.replayed(started_at, Period(unit, length), [move for _at, move in timed])


def _histories(case_ids: Sequence[int] | None) -> dict[int, _History]:
    """The pauses and extensions of open cases (of ``case_ids``, or all), by case."""
    open_case = Case.status.in_([str(s) for s in OPEN_STATUSES])
    pauses: dict[int, list[Pause]] = defaultdict(list)
    query = (
        sa.select(CaseClock.case_id, CaseClock.started_at, CaseClock.stopped_at)
        .join(Case, Case.id == CaseClock.case_id)
        .where(CaseClock.clock == Clock.REPLY_WINDOW, CaseClock.stopped_at.is_not(None), open_case)
    )
    if case_ids is not None:
        query = query.where(CaseClock.case_id.in_(case_ids))
    for case_id, paused_at, resumed_at in db.session.execute(query):
        pauses[case_id].append(Pause(paused_at, resumed_at))
    extensions: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    query = (
        sa.select(CaseRequest.case_id, CaseRequest.decided_at, CaseRequest.days)
        .join(Case, Case.id == CaseRequest.case_id)
        .where(
            CaseRequest.kind == RequestKind.EXTENSION,
            CaseRequest.status == RequestStatus.APPROVED,
            open_case,
        )
    )
    if case_ids is not None:
        query = query.where(CaseRequest.case_id.in_(case_ids))
    for case_id, decided_at, days in db.session.execute(query):
        extensions[case_id].append((decided_at, days or 0))
    units: dict[int, TimeUnit | None] = {}
    if extensions:
        for case_id, terms, kind, priority in db.session.execute(
            sa.select(Case.id, Case.policy_terms, Case.kind, Case.priority).where(
                Case.id.in_(list(extensions))
            )
        ):
            try:
                units[case_id] = period_for(terms, PolicyTerm.EXTENSION_CAP, kind, priority).unit
            except KeyError:
                units[case_id] = None
    return {
        case_id: _History(
            sorted(pauses.get(case_id, []), key=lambda p: p.paused_at),
            sorted(extensions.get(case_id, [])),
            units.get(case_id),
        )
        for case_id in {*pauses, *extensions}
    }


_NO_HISTORY = _History([], [], None)


@one_transaction
def recompute_deadlines(actor: User, now: datetime | None = None) -> RecomputeResult:
    """Count every running day clock of the open cases again with the calendar as it is
    now — paused and extended ones included — and mark or unmark it as counted on the
    fallback. A case whose deadline moved gets an event; its citizens a notice when the
    date they were promised (accept, resolve) moved. Audited."""
    now = now or utcnow()
    math = deadlines.deadline_math()
    result = RecomputeResult()
    rows = db.session.execute(
        sa.select(
            CaseClock.id,
            CaseClock.case_id,
            CaseClock.clock,
            CaseClock.started_at,
            CaseClock.due_at,
            CaseClock.unit,
            CaseClock.length,
            CaseClock.extended_by,
            CaseClock.on_fallback,
        )
        .join(Case, Case.id == CaseClock.case_id)
        .where(
            CaseClock.stopped_at.is_(None),
            CaseClock.unit.in_([str(u) for u in DAY_UNITS]),
            Case.status.in_([str(s) for s in OPEN_STATUSES]),
        )
        .order_by(CaseClock.case_id, CaseClock.id)
    ).all()
    histories = _histories(None)
    moved_cases: set[int] = set()
    flags: list[dict[str, Any]] = []
    unreplayable: set[int] = set()
    for clock_id, case_id, clock, started, due, unit, length, extended_by, flagged in rows:
        unit = TimeUnit(unit)
        history = histories.get(case_id, _NO_HISTORY)
        new_due = _recounted(math, clock, started, unit, length, extended_by, history)
        if new_due is None:
            unreplayable.add(case_id)
            continue
        if new_due != due:
            moved_cases.add(case_id)
            continue
        result.unchanged += 1
        fallback = math.counted_on_fallback(started, due, unit)
        if fallback != flagged:
            flags.append({"id": clock_id, "on_fallback": fallback})
    if flags:
        db.session.execute(sa.update(CaseClock), flags)
    db.session.commit()
    for case_id in sorted(moved_cases):
        for _attempt in range(STALE_RETRIES):
            try:
                _move_case(case_id, actor, math, now, result)
            except StaleVersion:
                db.session.rollback()
                continue
            break
        else:
            unreplayable.add(case_id)
    if unreplayable:
        result.left = list(
            db.session.scalars(
                sa.select(Case.number).where(Case.id.in_(unreplayable)).order_by(Case.number)
            )
        )
    audit.record(
        actor,
        "calendar",
        None,
        "recompute",
        None,
        {
            "changed": result.changed,
            "unchanged": result.unchanged,
            "notices": result.notices,
            "left": result.left[:200],
            "clocks": [
                {"case": m.case_number, "clock": m.clock, "before": m.before, "after": m.after}
                for m in result.moves[:200]
            ],
        },
        now,
    )
    db.session.commit()
    return result


def _move_case(
    case_id: int, actor: User, math: DeadlineMath, now: datetime, result: RecomputeResult
) -> None:
    """Recount one case's running day clocks in its own transaction, with its event and
    the citizens' notice. StaleVersion if the case changed meanwhile."""
    case = db.session.scalar(
        sa.select(Case)
        .where(Case.id == case_id)
        .options(selectinload(Case.clocks), selectinload(Case.followers))
    )
    if case is None or case.status not in OPEN_STATUSES:
        db.session.rollback()
        return
    history = _histories([case_id]).get(case_id, _NO_HISTORY)
    moves: list[tuple[CaseClock, datetime]] = []
    unchanged = 0
    for row in deadlines.running(case):
        unit = TimeUnit(row.unit)
        if unit not in DAY_UNITS:
            continue
        new_due = _recounted(
            math, row.clock, row.started_at, unit, row.length, row.extended_by, history
        )
        if new_due is None:
            raise StaleVersion("the clock's record changed")  # counted again next round
        if new_due != row.due_at:
            moves.append((row, new_due))
        else:
            unchanged += 1
            deadlines.mark_fallback(row, math)
    if not moves:
        db.session.commit()
        result.unchanged += unchanged
        return
    changed = [
        {"clock": str(row.clock), "before": row.due_at.isoformat(), "after": due.isoformat()}
        for row, due in moves
    ]
    found = [ClockMove(case.number, row.clock, row.due_at, due) for row, due in moves]

    def effects() -> None:
        for row, due in moves:
            deadlines.move_deadline(row, due)
            deadlines.mark_fallback(row, math)
            deadlines.schedule_escalation(row, math)
            if row.overdue_at is not None:
                if due > now:
                    row.overdue_at = None
                    row.overdue_department_id = None
                else:
                    row.overdue_at = due

    outcome = lifecycle.apply_action(
        case,
        EventAction.RECOMPUTE_DEADLINES,
        lifecycle.Actor.system(),
        now,
        expected_version=case.version,
        data={"clocks": changed, "by": actor.username},
        effects=effects,
    )
    promised = next(
        ((row, due) for clock in PROMISED for row, due in moves if row.clock is clock), None
    )
    queued = []
    if promised is not None:
        row, due = promised
        queued = notices.notify_citizens(
            case,
            outcome.event,
            "deadline_moved",
            {"what": str(row.clock), "date": math.deadline_day(due).isoformat()},
        )
    lifecycle.commit()
    result.unchanged += unchanged
    result.changed += len(moves)
    result.moves += found
    result.notices += len(queued)
