"""The escalation board: due-soon, overdue and supervised counts per department, the
overdue cases most late first, and the approvals waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.enums import CaseStatus
from caseapp.services.pages.escalation_board import (
    counts_by_department,
    overdue_cases,
)
from caseapp.workflow.deadlines import LEVEL_DUE_SOON, LEVEL_SUPERVISED
from tests.factories import case_row, department, user

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday, 10:00 in Shanghai
S = CaseStatus


def make(
    title: str,
    due: timedelta | None,
    *,
    lead: str = "zjj",
    status: CaseStatus = S.IN_PROGRESS,
    level: int = 0,
) -> Case:
    """An open case whose next deadline is ``due`` from NOW (negative: past)."""
    case = case_row(status=status, lead=lead, title=title, due_in=None)
    case.next_deadline_at = NOW + due if due is not None else None
    case.escalation_level = level
    db.session.commit()
    return case


def counts(username: str) -> list[tuple[str | None, int, int, int]]:
    return [
        (c.department.code if c.department else None, c.due_soon, c.overdue, c.supervised)
        for c in counts_by_department(user(username), NOW)
    ]


@pytest.fixture
def board(app_ctx: Flask, demo_base: None) -> None:
    make("zjj late", timedelta(days=-3))
    make("zjj late supervised", timedelta(hours=-1), level=LEVEL_SUPERVISED)
    make("zjj soon", timedelta(hours=23))
    make("zjj later", timedelta(days=3))
    make("zjj marked due soon", timedelta(days=3), level=LEVEL_DUE_SOON)
    make("zjj no deadline", None)
    make("zjj closed late", timedelta(days=-5), status=S.CLOSED)
    make("cgj soon", timedelta(hours=2), lead="cgj")
    make("cgj late", timedelta(days=-10), lead="cgj")
    make("cgj withdrawn late", timedelta(days=-10), lead="cgj", status=S.WITHDRAWN)
    make("cgj later", timedelta(days=5), lead="cgj")


def test_counts_per_department_of_open_cases_most_overdue_first(board: None) -> None:
    assert counts("supervisor") == [("zjj", 2, 2, 1), ("cgj", 1, 1, 0)]


def test_a_department_with_nothing_to_tell_is_left_out(app_ctx: Flask, demo_base: None) -> None:
    make("zjj later", timedelta(days=3))
    make("cgj soon", timedelta(hours=1), lead="cgj")
    assert counts("supervisor") == [("cgj", 1, 0, 0)]


def test_supervised_comes_before_due_soon_in_the_order(app_ctx: Flask, demo_base: None) -> None:
    for hours in (1, 2, 3):
        make("zjj soon", timedelta(hours=hours))
    make("cgj supervised", timedelta(days=2), lead="cgj", level=LEVEL_SUPERVISED)
    assert counts("supervisor") == [("cgj", 0, 0, 1), ("zjj", 3, 0, 0)]


def test_a_handler_counts_only_what_they_may_see(board: None) -> None:
    assert counts("handler") == [("zjj", 2, 2, 1)]
    assert counts("handler2") == [("cgj", 1, 1, 0)]


def test_overdue_cases_are_the_open_late_ones_most_late_first(board: None) -> None:
    late = overdue_cases(user("supervisor"), NOW)
    assert [lc.case.title for lc in late] == ["cgj late", "zjj late", "zjj late supervised"]
    days = [lc.working_days_late for lc in late]
    assert days[0] > days[1] >= days[2] >= 0
    assert days[1] > 0


def test_overdue_cases_of_one_department_and_a_limit(board: None) -> None:
    zjj = department("zjj").id
    titles = [lc.case.title for lc in overdue_cases(user("supervisor"), NOW, zjj)]
    assert titles == ["zjj late", "zjj late supervised"]
    assert [lc.case.title for lc in overdue_cases(user("supervisor"), NOW, limit=1)] == ["cgj late"]


def test_overdue_cases_respect_visibility_and_come_loaded(board: None) -> None:
    late = overdue_cases(user("handler"), NOW)
    db.session.expunge_all()  # a lazy load now would fail: what the board shows is there
    assert [(lc.case.title, lc.case.lead_department.code) for lc in late] == [
        ("zjj late", "zjj"),
        ("zjj late supervised", "zjj"),
    ]
    assert [lc.case.category.service_code for lc in late] == ["road-damage"] * 2
