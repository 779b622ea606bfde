"""The deadline sweep (DESIGN §4): raise escalation levels, resume cases whose reply
window passed, close resolved cases whose feedback window passed, and notify staff once
per (case, clock, deadline, level), the people of ``workflow.deadlines.
escalation_audience``. Idempotent; safe to run from several hosts at once: each case is
changed in its own transaction under the case's version check, a level is raised
together with its notices, and every notice has a unique key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, InboxMessage, Setting
from caseapp.models.enums import CaseStatus, Clock, EventAction
from caseapp.models.types import utcnow
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, lifecycle
from caseapp.services.casework.handling import reply_window_passes
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError, StaleVersion
from caseapp.services.notices import staff as staff_notices
from caseapp.services.transactions import one_transaction
from caseapp.workflow.deadlines import (
    ESCALATING_CLOCKS,
    LEVEL_OVERDUE,
    LEVEL_SUPERVISED,
    DeadlineMath,
)

# Cases read per query, their clocks with them.
BATCH = 500
# Clocks read per query when their schedule is counted again.
RESCHEDULE_BATCH = 2000
# The calendar the stored escalation moments were counted with (``calendar_fingerprint``).
SCHEDULE_SETTING = "sweep.escalation_calendar"


@dataclass
class SweepReport:
    escalated: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0})
    resumed: int = 0
    closed_unrated: int = 0
    notices: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"due soon {self.escalated[1]}, overdue {self.escalated[2]}, supervised "
            f"{self.escalated[3]}, resumed {self.resumed}, closed unrated "
            f"{self.closed_unrated}, staff notices {self.notices}, skipped {self.skipped}"
        )


@one_transaction
def run_sweep(now: datetime | None = None) -> SweepReport:
    """One pass over the clocks that can have moved since the last: one transaction
    per case, and what a failure half-way wrote is rolled back."""
    now = now or utcnow()
    report = SweepReport()
    for case_id in _due_case_ids(Clock.REPLY_WINDOW, now):
        if _one(
            report, lambda c: reply_window_passes(c, now=now), case_id, CaseStatus.AWAITING_CITIZEN
        ):
            report.resumed += 1
    for case_id in _due_case_ids(Clock.FEEDBACK, now):
        if _one(
            report,
            lambda c: closing.feedback_window_passes(c, now=now),
            case_id,
            CaseStatus.RESOLVED,
        ):
            report.closed_unrated += 1
    _escalate(report, now)
    return report


def _due_case_ids(clock: Clock, now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(CaseClock.case_id)
            .where(
                CaseClock.clock == clock, CaseClock.stopped_at.is_(None), CaseClock.due_at <= now
            )
            .order_by(CaseClock.case_id)
        )
    )


def _one(report: SweepReport, action, case_id: int, status: CaseStatus) -> bool:  # type: ignore[no-untyped-def]
    case = db.session.get(Case, case_id)
    if case is None or case.status is not status:
        db.session.rollback()
        return False
    try:
        action(case)
    except (StaleVersion, DomainError):
        # Another sweep (or a person) got there first.
        db.session.rollback()
        report.skipped += 1
        return False
    return True


def _escalate(report: SweepReport, now: datetime) -> None:
    math = deadlines.deadline_math()
    reschedule_escalations(math)
    # The due clocks of each case, in the order of its clocks.
    due: dict[int, list[int]] = {}
    for case_id, clock_id in db.session.execute(
        sa.select(CaseClock.case_id, CaseClock.id)
        .where(*_due_to_escalate(now))
        .order_by(CaseClock.case_id, CaseClock.id)
    ):
        due.setdefault(case_id, []).append(clock_id)
    case_ids = list(due)
    db.session.rollback()
    # Loaded objects outlive each case's commit, so a batch is read in two queries; a
    # rollback (a skipped case) still expires them, and they are read again as needed.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        for first in range(0, len(case_ids), BATCH):
            batch = case_ids[first : first + BATCH]
            cases = db.session.scalars(
                sa.select(Case)
                .where(Case.id.in_(batch))
                .options(selectinload(Case.clocks))
                .order_by(Case.id)
            ).all()
            for case in cases:
                _escalate_case(report, case, due[case.id], math, now)
            db.session.rollback()
    finally:
        session.expire_on_commit = expire_on_commit


def _due_to_escalate(now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """The clocks whose next level is due (``next_escalation_at``, DESIGN §4)."""
    return (
        CaseClock.next_escalation_at <= now,
        CaseClock.stopped_at.is_(None),
        CaseClock.paused_at.is_(None),
        CaseClock.escalation_level < LEVEL_SUPERVISED,
        CaseClock.clock.in_(sorted(ESCALATING_CLOCKS)),
    )


def _escalate_case(
    report: SweepReport, case: Case, due: list[int], math: DeadlineMath, now: datetime
) -> None:
    """Raise each due clock (``due``: their ids, as ``_due_to_escalate`` chose them) of
    ``case``, one transaction per clock, in clock order."""
    for clock_id in due:
        # After a skip (rollback) the case and its clocks are read again: either we see
        # another sweep's level or our version is stale, as with a fresh read.
        clock = next((row for row in case.clocks if row.id == clock_id), None)
        if clock is None or clock.stopped_at is not None or clock.paused_at is not None:
            continue
        level = math.escalation_level(clock.started_at, clock.due_at, now)
        if level <= clock.escalation_level:
            _correct_schedule(clock, math)
            continue
        try:
            told = _raise_level(case, clock, level, math, now)
        except (StaleVersion, DomainError, IntegrityError):
            # Another sweep (or a person) changed the case first: its work stands.
            db.session.rollback()
            report.skipped += 1
            continue
        report.escalated[level] += 1
        report.notices += told


def _correct_schedule(clock: CaseClock, math: DeadlineMath) -> None:
    """A clock looked at too early (the calendar moved its thresholds later) is looked
    at again when its next level is really due; nothing else of it changes."""
    table = CaseClock.__table__
    db.session.execute(
        sa.update(table)
        .where(*_unchanged(table, clock.id, clock.due_at, clock.escalation_level))
        .values(
            next_escalation_at=math.next_escalation_at(
                clock.started_at, clock.due_at, clock.escalation_level
            )
        )
    )
    db.session.commit()


def _unchanged(
    table: sa.Table, clock_id: int, due: datetime, level: int
) -> tuple[sa.ColumnElement[bool], ...]:
    # Written only where the clock is still as it was read: a concurrent move of its
    # deadline or level keeps the schedule that move wrote.
    return (
        table.c.id == clock_id,
        table.c.due_at == due,
        table.c.escalation_level == level,
        table.c.stopped_at.is_(None),
        table.c.paused_at.is_(None),
    )


@one_transaction
def reschedule_escalations(math: DeadlineMath, *, force: bool = False) -> int:
    """Count ``next_escalation_at`` of every running clock again when the calendar
    changed since it was counted (an override added or removed, a year imported, a new
    package): the thresholds of due soon and 督办 are working days. Returns how many
    clocks moved. Each batch is its own transaction; safe beside other sweeps."""
    fingerprint = calendar_fingerprint(math)
    stored = db.session.get(Setting, SCHEDULE_SETTING)
    if not force and stored is not None and stored.value == fingerprint:
        db.session.rollback()
        return 0
    table = CaseClock.__table__
    moved, after = 0, 0
    while True:
        rows = db.session.execute(
            sa.select(
                table.c.id,
                table.c.started_at,
                table.c.due_at,
                table.c.escalation_level,
                table.c.next_escalation_at,
            )
            .where(
                table.c.id > after,
                table.c.stopped_at.is_(None),
                table.c.paused_at.is_(None),
                table.c.escalation_level < LEVEL_SUPERVISED,
                table.c.clock.in_(sorted(ESCALATING_CLOCKS)),
            )
            .order_by(table.c.id)
            .limit(RESCHEDULE_BATCH)
        ).all()
        if not rows:
            break
        after = rows[-1].id
        changes = [
            {
                "b_id": row.id,
                "b_due": row.due_at,
                "b_level": row.escalation_level,
                "b_next": next_at,
            }
            for row in rows
            if (
                next_at := math.next_escalation_at(row.started_at, row.due_at, row.escalation_level)
            )
            != row.next_escalation_at
        ]
        if changes:
            db.session.execute(
                sa.update(table)
                .where(
                    table.c.id == sa.bindparam("b_id"),
                    table.c.due_at == sa.bindparam("b_due"),
                    table.c.escalation_level == sa.bindparam("b_level"),
                    table.c.stopped_at.is_(None),
                    table.c.paused_at.is_(None),
                )
                .values(next_escalation_at=sa.bindparam("b_next")),
                changes,
            )
            moved += len(changes)
        db.session.commit()
    stored = db.session.get(Setting, SCHEDULE_SETTING)
    if stored is None:
        db.session.add(Setting(key=SCHEDULE_SETTING, value=fingerprint, updated_at=utcnow()))
    else:
        stored.value = fingerprint
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another sweep recorded it at the same time
    return moved


def calendar_fingerprint(math: DeadlineMath) -> str:
    """What the escalation thresholds are counted with: the overrides, the imported
    years, the package's version and the city's zone."""
    calendar = math.calendar
    described = {
        "overrides": sorted(f"{day}:{kind}" for day, kind in calendar.overrides.items()),
        "imported": sorted(calendar.imported_years),
        "package": _package_version(),
        "zone": str(math.tz),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def _package_version() -> str:
    try:
        return metadata.version("chinesecalendar")
    except metadata.PackageNotFoundError:
        return "unknown"


def _raise_level(
    case: Case, clock: CaseClock, level: int, math: DeadlineMath, now: datetime
) -> int:
    """Raise the clock to ``level`` and tell its people, in one transaction: the level
    and its notices are written together or not at all. Returns how many were told."""
    before = clock.escalation_level

    def effects() -> None:
        clock.escalation_level = level
        deadlines.schedule_escalation(clock, math)
        if level >= LEVEL_OVERDUE and clock.overdue_at is None:
            clock.overdue_at = clock.due_at
            # Lateness is charged to the department holding the case when it fell due.
            clock.overdue_department_id = case.lead_department_id

    lifecycle.apply_action(
        case,
        EventAction.ESCALATE,
        Actor.system(),
        now,
        expected_version=case.version,
        data={
            "clock": str(clock.clock),
            "from": before,
            "to": level,
            "due": clock.due_at.isoformat(),
        },
        effects=effects,
    )
    # The case row is written (and, on PostgreSQL, locked) under its version: a sweep
    # on another host now waits and then finds the version stale.
    told = _notify_staff(case, clock, level, now)
    lifecycle.commit()
    return told


def _notify_staff(case: Case, clock: CaseClock, level: int, now: datetime) -> int:
    """A notice of the level reached to each of its people (an inbox row, and an email
    where they have one), once per (case, clock, deadline, level): whoever a notice of
    that key reached already is skipped. A clock that skipped levels (the sweep did not
    run for a while) tells of the level it reached; its people include every lower
    level's (``escalation_audience``)."""
    key = f"esc:{case.id}:{clock.clock}:{clock.due_at:%Y%m%d%H%M}:{level}"
    people = staff_notices.escalation_recipients(case, clock.clock, level)
    told = set(
        db.session.scalars(
            sa.select(InboxMessage.dedupe_key).where(
                InboxMessage.dedupe_key.in_([f"{key}:{user.id}" for user in people])
            )
        )
    )
    params = {"number": case.number, "title": case.title, "clock": str(clock.clock),
              "level": level, "due": clock.due_at.isoformat()}  # fmt: skip
    added = staff_notices.notify_staff(
        [user for user in people if f"{key}:{user.id}" not in told],
        case,
        f"escalation_{level}",
        key,
        params,
        now,
    )
    return len(added)
