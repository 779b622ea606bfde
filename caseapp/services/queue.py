"""The staff queues."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import Case, User
from caseapp.models.enums import CaseStatus
from caseapp.workflow.visibility import visible_cases

QUEUE_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.RETURNED,
    CaseStatus.DISPATCHED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.AWAITING_CITIZEN,
    CaseStatus.RESOLVED,
)


def open_cases_for(user: User, limit: int = 50) -> Sequence[Case]:
    """Open cases this user may see, the nearest deadline first."""
    stmt = (
        visible_cases(user)
        .where(Case.status.in_(QUEUE_STATUSES))
        .options(joinedload(Case.category), joinedload(Case.lead_department))
        .order_by(Case.next_deadline_at.is_(None), Case.next_deadline_at, Case.id)
        .limit(limit)
    )
    return db.session.scalars(stmt).all()
