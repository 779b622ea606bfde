"""What "overdue", "due soon" and "supervised" mean for a case, as SQL conditions on its
next deadline and escalation level: one definition for the queue's filters and its
navigation counts, the escalation board and the scorecards, so every page counts the
same cases (issue 18: "overdue counts come from one query used by every page")."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from caseapp.models import Case
from caseapp.models.enums import OPEN_STATUSES
from caseapp.workflow.deadlines import LEVEL_DUE_SOON, LEVEL_SUPERVISED

# A deadline this close counts as due soon, whatever the escalation level says.
DUE_SOON_WITHIN = timedelta(days=1)


def is_open() -> sa.ColumnElement[bool]:
    return Case.status.in_(OPEN_STATUSES)


def overdue(now: datetime) -> sa.ColumnElement[bool]:
    """An open case whose next deadline has passed."""
    return sa.and_(is_open(), Case.next_deadline_at < now)


def due_soon(now: datetime) -> sa.ColumnElement[bool]:
    """An open case not overdue whose deadline is near, or whose clock the sweep has
    raised to "due soon"."""
    return sa.and_(
        is_open(),
        sa.or_(Case.next_deadline_at.is_(None), Case.next_deadline_at >= now),
        sa.or_(
            Case.escalation_level == LEVEL_DUE_SOON, Case.next_deadline_at < now + DUE_SOON_WITHIN
        ),
    )


def supervised() -> sa.ColumnElement[bool]:
    """An open case the sweep has put under supervision (督办)."""
    return sa.and_(is_open(), Case.escalation_level >= LEVEL_SUPERVISED)
