"""What the staff case page shows besides the case itself: its timeline, clocks, links,
possible duplicates, and the choices its forms offer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from caseapp.extensions import db
from caseapp.models import (
    Case,
    CaseEvent,
    CaseRequest,
    Department,
    LedgerItem,
    ReplyTemplate,
    User,
)
from caseapp.models.enums import OPEN_STATUSES, RequestStatus
from caseapp.models.types import utcnow
from caseapp.services.casework import clocks as deadlines
from caseapp.services.filing import duplicates
from caseapp.services.ledgers import items as ledgers
from caseapp.services.notices.written import ReviewedDecision, reviewed_decision
from caseapp.workflow.case_plan import late_milestones
from caseapp.workflow.visibility import visible_cases


def timeline(case: Case) -> Sequence[CaseEvent]:
    """Every event of the case, oldest first, with who acted."""
    return db.session.scalars(
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .options(selectinload(CaseEvent.actor))
        .order_by(CaseEvent.id)
    ).all()


@dataclass(frozen=True)
class ClockView:
    clock: str
    started_at: datetime
    due_at: datetime
    used_percent: int
    paused: bool
    overdue: bool
    level: int
    on_fallback: bool = False  # counted Monday–Friday over a year the calendar lacks


def running_clocks(case: Case, now: datetime | None = None) -> list[ClockView]:
    """The running clocks with the share of their period used (for the deadline bar)."""
    now = now or utcnow()
    views = []
    for row in deadlines.running(case):
        moment = row.paused_at or now
        period = (row.due_at - row.started_at).total_seconds() or 1
        used = max(0, min(100, round((moment - row.started_at).total_seconds() / period * 100)))
        views.append(
            ClockView(
                clock=str(row.clock),
                started_at=row.started_at,
                due_at=row.due_at,
                used_percent=used,
                paused=row.paused_at is not None,
                overdue=moment >= row.due_at,
                level=row.escalation_level,
                on_fallback=row.on_fallback,
            )
        )
    return sorted(views, key=lambda v: v.due_at)


@dataclass(frozen=True)
class MilestoneView:
    due_on: date
    text: str
    done_on: date | None
    late: bool


def plan_milestones(case: Case, now: datetime | None = None) -> list[MilestoneView]:
    """The case plan's milestones in order, each marked late when its day has passed (in
    the city's zone) and it is not done — while the case is open: a finished case's plan
    is history, and nothing in it can be late any more."""
    if not case.milestones:
        return []
    late = (
        late_milestones(case.milestones, deadlines.deadline_math().local_date(now or utcnow()))
        if case.status in OPEN_STATUSES
        else []
    )
    return [
        MilestoneView(row.due_on, row.text, row.done_on, row in late) for row in case.milestones
    ]


def child_departments(case: Case) -> Sequence[Department]:
    if case.lead_department_id is None:
        return []
    return db.session.scalars(
        sa.select(Department)
        .where(Department.parent_id == case.lead_department_id, Department.retired_at.is_(None))
        .order_by(Department.id)
    ).all()


def reply_templates(case: Case) -> Sequence[ReplyTemplate]:
    return db.session.scalars(
        sa.select(ReplyTemplate)
        .where(
            ReplyTemplate.retired_at.is_(None),
            sa.or_(
                ReplyTemplate.category_id == case.category_id, ReplyTemplate.category_id.is_(None)
            ),
        )
        .order_by(ReplyTemplate.category_id.is_(None), ReplyTemplate.id)
    ).all()


@dataclass(frozen=True)
class Links:
    review_of: Case | None
    # The decision a review case reviews, shown whether or not the user may open that case
    # (the review body decides on it); ``review_of_visible``: a link to it is offered.
    reviewed: ReviewedDecision | None
    review_of_visible: bool
    reviews: Sequence[Case]
    duplicate_of: Case | None
    merged: Sequence[Case]
    followers: int
    ledger_items: Sequence[LedgerItem]


def waiting_requests(case: Case) -> list[CaseRequest]:
    """The case's requests that wait for a decision (return, extension, redo)."""
    return [r for r in case.requests if r.status is RequestStatus.PENDING]


def links(case: Case, user: User) -> Links:
    """Cases linked to this one that ``user`` may see, and its ledger items."""
    visible = visible_cases(user)
    review_of = case.review_of
    return Links(
        review_of=review_of,
        reviewed=reviewed_decision(case),
        review_of_visible=review_of is not None
        and db.session.scalar(visible.where(Case.id == review_of.id)) is not None,
        reviews=db.session.scalars(visible.where(Case.review_of_id == case.id)).all(),
        duplicate_of=case.duplicate_of,
        merged=db.session.scalars(visible.where(Case.duplicate_of_id == case.id)).all(),
        followers=len(case.followers),
        ledger_items=ledgers.items_of(case),
    )


def possible_duplicates(case: Case) -> list[duplicates.Match]:
    """Open cases that look like this one (for a merge), this one left out."""
    matches = duplicates.possible_duplicates(
        case.category_id,
        case.title,
        case.description,
        public_location=case.public_location,
        district_department_id=case.district_department_id,
        latitude=case.latitude,
        longitude=case.longitude,
        limit=6,
    )
    return [m for m in matches if m.case.id != case.id][:5]
