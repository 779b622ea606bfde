"""One meaning of overdue, due soon and supervised (issue 18): on the demo city, at
moments days apart, every page that counts late cases counts the same ones — the
queue's filter and its navigation badge, the escalation board, the scorecards — and a
row in hand shows the state the SQL gives it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.reports.scorecards import overdue_now
from caseapp.services.pages import escalation_board
from caseapp.services.pages.queue import (
    DeadlineState,
    QueueFilters,
    QueueView,
    deadline_state,
    iter_queue,
    navigation_counts,
)
from caseapp.workflow import deadline_states as states
from tests.factories import user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_city")

MOMENTS = [datetime.now(UTC) + timedelta(days=d) for d in (0, 3, 20)]


def ids_where(condition: sa.ColumnElement[bool]) -> set[int]:
    return set(db.session.scalars(sa.select(Case.id).where(condition)))


@pytest.mark.parametrize("now", MOMENTS, ids=["today", "in-3-days", "in-20-days"])
def test_every_page_counts_the_same_late_cases(now: datetime) -> None:
    late = ids_where(states.overdue(now))
    supervisor = user("supervisor")
    assert late, "the demo city has overdue cases"
    filtered = {
        c.id
        for c in iter_queue(
            supervisor, QueueView.ALL, QueueFilters(deadline=DeadlineState.OVERDUE), now=now
        )
    }
    board = escalation_board.counts_by_department(supervisor, now)
    assert filtered == late
    assert navigation_counts(supervisor, now).overdue == len(late)
    assert sum(c.overdue for c in board) == len(late)
    assert sum(overdue_now(now).values()) == len(
        ids_where(sa.and_(states.overdue(now), Case.lead_department_id.is_not(None)))
    )
    assert len(escalation_board.overdue_cases(supervisor, now, limit=100_000)) == len(late)


@pytest.mark.parametrize("now", MOMENTS, ids=["today", "in-3-days", "in-20-days"])
def test_a_row_shows_the_state_the_query_gives_it(now: datetime) -> None:
    by_state = {
        DeadlineState.SUPERVISED: ids_where(states.supervised()),
        DeadlineState.OVERDUE: ids_where(states.overdue(now)),
        DeadlineState.DUE_SOON: ids_where(states.due_soon(now)),
    }
    assert not by_state[DeadlineState.OVERDUE] & by_state[DeadlineState.DUE_SOON]
    for case in db.session.scalars(sa.select(Case)):
        shown = deadline_state(case, now)
        # A row shows its most pressing state: supervised, then overdue, then due soon.
        expected = next((state for state, ids in by_state.items() if case.id in ids), None)
        assert shown is expected, (case.number, case.status, shown, expected)
