"""A case at one moment, as ``workflow.offers`` decides on it: the waiting requests, the
rating, the resolve clock and the windows (return, reopen, review) worked out from the
case's clocks, its deadline policy and the working-day calendar."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent
from caseapp.models.enums import (
    CaseKind,
    Clock,
    CloseReason,
    EventAction,
    PolicyTerm,
    RequestStatus,
)
from caseapp.services.casework import clocks as deadlines
from caseapp.services.messages import N_
from caseapp.workflow.offers import Moment

A = EventAction
REOPEN_WINDOW = timedelta(days=30)
FINAL_REVIEW_LEVEL = 2  # after re-review (复核) the matter is final


def handling_departments(case: Case) -> set[int]:
    """The departments that worked the case: lead and assisting, now and before."""
    departments = {a.department_id for a in case.assists}
    departments |= {row.department_id for row in case.clocks if row.department_id is not None}
    if case.lead_department_id is not None:
        departments.add(case.lead_department_id)
    return departments


def last_dispatch_at(case: Case) -> datetime | None:
    """When the case last reached its current department (the latest sign clock's start)."""
    runs = [row.started_at for row in case.clocks if row.clock is Clock.SIGN]
    return max(runs) if runs else None


def within_return_window(case: Case, now: datetime) -> bool | None:
    """Whether a direct return is still allowed (2 working days of the dispatch, by
    policy); None if the case was never dispatched."""
    dispatched = last_dispatch_at(case)
    if dispatched is None:
        return None
    period = deadlines.case_period(case, PolicyTerm.RETURN_WINDOW)
    return now < deadlines.deadline_math().due_at(dispatched, period)


def review_refusal(case: Case, now: datetime) -> str | None:
    """Why the citizen may not ask for a review of the decision now (None: they may):
    only a petition's written decision, once, within its window, never after re-review."""
    if case.kind is not CaseKind.PETITION or case.resolved_at is None or case.decision is None:
        return N_("Only a petition's written decision can be reviewed.")
    if case.review_level >= FINAL_REVIEW_LEVEL:
        return N_("The re-review decision is final.")
    asked = sa.select(CaseEvent.id).where(
        CaseEvent.case_id == case.id, CaseEvent.action == EventAction.REQUEST_REVIEW
    )
    if db.session.scalar(asked.limit(1)) is not None:
        return N_("A review has already been asked for.")
    window = deadlines.case_period(case, PolicyTerm.REVIEW_WINDOW)
    if now >= deadlines.deadline_math().due_at(case.resolved_at, window):
        return N_("The 30 days to ask for a review have passed.")
    return None


def moment_of(case: Case, now: datetime, actions: Collection[EventAction] | None = None) -> Moment:
    """``case`` at ``now``. The windows that need the calendar or a query are worked out
    only for ``actions`` that depend on them (all of them when None)."""

    def wanted(*needing: EventAction) -> bool:
        return actions is None or any(a in actions for a in needing)

    resolve = deadlines.running(case, Clock.RESOLVE)
    return Moment(
        status=case.status,
        kind=case.kind,
        waiting={
            r.kind: r.requested_by_id for r in case.requests if r.status is RequestStatus.PENDING
        },
        rating=case.rating_satisfaction,
        rating_excluded=bool(case.rating_excluded),
        handling_department_ids=frozenset(handling_departments(case))
        if wanted(A.RATE)
        else (frozenset()),
        held_by_department=case.lead_department_id is not None,
        resolve_running=bool(resolve),
        resolve_overdue=bool(resolve) and resolve[0].paused_at is None and now >= resolve[0].due_at,
        extension_cap=(
            deadlines.case_period(case, PolicyTerm.EXTENSION_CAP).value
            if wanted(A.REQUEST_EXTENSION)
            else 0
        ),
        in_return_window=(
            within_return_window(case, now) if wanted(A.RETURN, A.REQUEST_RETURN) else None
        ),
        merged=case.close_reason is CloseReason.MERGED,
        in_reopen_window=case.closed_at is not None and now - case.closed_at <= REOPEN_WINDOW,
        review_refused=review_refusal(case, now) if wanted(A.REQUEST_REVIEW) else "not asked",
    )
