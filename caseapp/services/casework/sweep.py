"""The deadline sweep (DESIGN §4): raise escalation levels, resume cases whose reply
window passed, close resolved cases whose feedback window passed, and notify staff once
per (case, clock, deadline, level), the people of ``workflow.deadlines.
escalation_audience``. Idempotent; safe to run from several hosts at once: each case is
changed in its own transaction under the case's version check, a level is raised
together with its notices, and every notice has a unique key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, InboxMessage
from caseapp.models.enums import CaseStatus, Clock, EventAction
from caseapp.models.types import utcnow
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, lifecycle
from caseapp.services.casework.handling import reply_window_passes
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError, StaleVersion
from caseapp.services.notices import staff as staff_notices
from caseapp.services.transactions import one_transaction
from caseapp.workflow.deadlines import ESCALATING_CLOCKS, LEVEL_OVERDUE, LEVEL_SUPERVISED

# Clocks further than this from their deadline cannot be due soon yet (the longest
# policy period is 60 days; 80 % of it leaves 12 days).
HORIZON = timedelta(days=30)


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
    rows = db.session.execute(
        sa.select(CaseClock.id, CaseClock.case_id)
        .where(
            CaseClock.stopped_at.is_(None),
            CaseClock.paused_at.is_(None),
            CaseClock.due_at <= now + HORIZON,
            CaseClock.escalation_level < LEVEL_SUPERVISED,
            CaseClock.clock.in_(sorted(ESCALATING_CLOCKS)),
        )
        .order_by(CaseClock.case_id, CaseClock.id)
    ).all()
    db.session.rollback()
    for clock_id, case_id in rows:
        # The case (and its version) first, then the clock: if another sweep raises the
        # clock in between, either we see its new level or our version is stale.
        case = db.session.get(Case, case_id)
        clock = db.session.get(CaseClock, clock_id)
        if case is None or clock is None or clock.stopped_at is not None:
            db.session.rollback()
            continue
        level = math.escalation_level(clock.started_at, clock.due_at, now)
        if level <= clock.escalation_level:
            db.session.rollback()
            continue
        try:
            told = _raise_level(case, clock, level, now)
        except (StaleVersion, DomainError, IntegrityError):
            # Another sweep (or a person) changed the case first: its work stands.
            db.session.rollback()
            report.skipped += 1
            continue
        report.escalated[level] += 1
        report.notices += told


def _raise_level(case: Case, clock: CaseClock, level: int, now: datetime) -> int:
    """Raise the clock to ``level`` and tell its people, in one transaction: the level
    and its notices are written together or not at all. Returns how many were told."""
    before = clock.escalation_level

    def effects() -> None:
        clock.escalation_level = level
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
