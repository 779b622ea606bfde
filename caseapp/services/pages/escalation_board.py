"""The supervisor's escalation board (DESIGN §8): what is due soon, overdue and
supervised, by department; the overdue cases, most late first; approvals waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import Case, CaseRequest, Department, User
from caseapp.models.enums import OPEN_STATUSES, RequestStatus
from caseapp.models.types import utcnow
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework.lifecycle import DECIDED_BY, Actor, offered_actions
from caseapp.services.notices.staff import deciders
from caseapp.services.pages.queue import first_by_deadline
from caseapp.workflow import deadline_states as states
from caseapp.workflow.visibility import staff_can_see


@dataclass(frozen=True)
class DepartmentCounts:
    department: Department | None
    due_soon: int
    overdue: int
    supervised: int


def counts_by_department(user: User, now: datetime | None = None) -> list[DepartmentCounts]:
    """Due-soon, overdue and supervised open cases per lead department (one query)."""
    now = now or utcnow()
    overdue, due_soon, supervised = states.overdue(now), states.due_soon(now), states.supervised()
    rows = db.session.execute(
        sa.select(
            Case.lead_department_id,
            sa.func.sum(sa.case((due_soon, 1), else_=0)),
            sa.func.sum(sa.case((overdue, 1), else_=0)),
            sa.func.sum(sa.case((supervised, 1), else_=0)),
        )
        .where(staff_can_see(user), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.lead_department_id)
    ).all()
    departments = {d.id: d for d in db.session.scalars(sa.select(Department))}
    found = [
        DepartmentCounts(departments.get(dept_id), int(soon or 0), int(late or 0), int(sup or 0))
        for dept_id, soon, late, sup in rows
    ]
    found = [c for c in found if c.due_soon or c.overdue or c.supervised]
    return sorted(found, key=lambda c: (-c.overdue, -c.supervised, -c.due_soon))


@dataclass(frozen=True)
class LateCase:
    case: Case
    working_days_late: int


def overdue_cases(
    user: User, now: datetime | None = None, department_id: int | None = None, limit: int = 200
) -> list[LateCase]:
    """Open cases past their next deadline, the most working days late first."""
    now = now or utcnow()
    seen = staff_can_see(user)
    department = [] if department_id is None else [Case.lead_department_id == department_id]
    # Read status by status in deadline order (queue.first_by_deadline), not every
    # overdue case sorted.
    parts = [
        sa.and_(seen, states.overdue(now), Case.status == status, *department)
        for status in sorted(OPEN_STATUSES)
    ]
    stmt = (
        sa.select(Case)
        .where(Case.id.in_(first_by_deadline(parts, limit)))
        .options(
            joinedload(Case.lead_department), joinedload(Case.category), joinedload(Case.handler)
        )
        .order_by(Case.next_deadline_at, Case.id)
    )
    math = deadlines.deadline_math()
    return [
        LateCase(case, math.working_days_late(case.next_deadline_at, now))
        for case in db.session.scalars(stmt).unique()
        if case.next_deadline_at is not None
    ]


def approvals_waiting(user: User) -> list[CaseRequest]:
    """Pending extension, return and redo requests on cases this user may see."""
    return list(
        db.session.scalars(
            sa.select(CaseRequest)
            .join(Case, Case.id == CaseRequest.case_id)
            .where(CaseRequest.status == RequestStatus.PENDING, staff_can_see(user))
            .options(
                joinedload(CaseRequest.case).selectinload(Case.assists),
                joinedload(CaseRequest.requested_by),
            )
            .order_by(CaseRequest.requested_at)
        )
    )


def decidable(user: User, requests: list[CaseRequest]) -> set[int]:
    """The ids of the waiting requests ``user`` may decide now: those whose deciding
    action the case page would offer them (``lifecycle.offered_actions``)."""
    actor = Actor.staff(user)
    return {
        request.id
        for request in requests
        if DECIDED_BY[request.kind] in offered_actions(request.case, actor)
    }


def who_decides(requests: list[CaseRequest]) -> dict[int, list[str]]:
    """For each waiting request, the names of the staff who may decide it (never the one
    who asked); an empty list says nobody can yet (a department without a lead)."""
    return {
        request.id: [
            person.display_name
            for person in deciders(request.case, request.kind)
            if person.id != request.requested_by_id
        ]
        for request in requests
    }
