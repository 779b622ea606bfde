"""The deadline sweep (DESIGN §4): raise escalation levels, resume cases whose reply
window passed, close resolved cases whose feedback window passed, and notify staff once
per (case, clock, deadline, level). Idempotent; safe to run from several hosts at once:
each case is changed in its own transaction under the case's version check, and every
notice has a unique key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, User
from caseapp.models.enums import CaseStatus, Clock, EventAction, Role
from caseapp.models.types import utcnow
from caseapp.services import closing, deadlines, lifecycle, staff_notices
from caseapp.services.case_page import users_with_role
from caseapp.services.casework import reply_window_passes
from caseapp.services.errors import DomainError, StaleVersion
from caseapp.services.lifecycle import Actor
from caseapp.workflow.deadlines import LEVEL_DUE_SOON, LEVEL_OVERDUE, LEVEL_SUPERVISED

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


def run_sweep(now: datetime | None = None) -> SweepReport:
    """One pass over the clocks that can have moved since the last."""
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
            CaseClock.clock.not_in((Clock.REPLY_WINDOW, Clock.FEEDBACK)),
        )
        .order_by(CaseClock.case_id, CaseClock.id)
    ).all()
    db.session.rollback()
    for clock_id, case_id in rows:
        # The case (and its version) first, then the clock: if another sweep raises the
        # clock in between, either we see its new level or our version is stale.
        case = db.session.get(Case, case_id)
        version = case.version if case is not None else None
        clock = db.session.get(CaseClock, clock_id)
        if case is None or clock is None or clock.stopped_at is not None:
            db.session.rollback()
            continue
        level = math.escalation_level(clock.started_at, clock.due_at, now)
        before = clock.escalation_level
        if level <= before:
            db.session.rollback()
            continue
        try:
            _raise_level(case, clock, level, now, version)
        except (StaleVersion, DomainError):
            db.session.rollback()
            report.skipped += 1
            continue
        report.escalated[level] += 1
        # A clock that skipped levels (the sweep did not run for a while) still tells
        # everyone each level would have told.
        for reached in range(before + 1, level + 1):
            report.notices += _notify_staff(case, clock, reached, now)


def _raise_level(
    case: Case, clock: CaseClock, level: int, now: datetime, version: int | None
) -> None:
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
    lifecycle.commit()


def recipients(case: Case, level: int) -> list[User]:
    """Who is told at each level: the handler (1), the department's lead (2), the
    supervisors and the responsible leader (3)."""
    people: list[User] = []
    if level == LEVEL_DUE_SOON and case.handler is not None:
        people.append(case.handler)
    if level == LEVEL_OVERDUE and case.lead_department_id is not None:
        people += users_with_role(Role.LEAD, case.lead_department_id)
        if case.handler is not None:
            people.append(case.handler)
    if level == LEVEL_SUPERVISED:
        people += users_with_role(Role.SUPERVISOR)
        if case.responsible_leader is not None:
            people.append(case.responsible_leader)
    unique = {user.id: user for user in people if user.active}
    return list(unique.values())


def _notify_staff(case: Case, clock: CaseClock, level: int, now: datetime) -> int:
    """An inbox notice (and an email where the user has one) per recipient, once: each in
    its own transaction, so a notice another sweep wrote already is skipped alone."""
    sent = 0
    key = f"esc:{case.id}:{clock.clock}:{clock.due_at:%Y%m%d%H%M}:{level}"
    params = {"number": case.number, "title": case.title, "clock": str(clock.clock),
              "level": level, "due": clock.due_at.isoformat()}  # fmt: skip
    for user in recipients(case, level):
        staff_notices.notify_staff([user], case, f"escalation_{level}", key, params, now)
        try:
            db.session.commit()
            sent += 1
        except IntegrityError:
            db.session.rollback()  # already told: another sweep wrote it
    return sent
