"""Which milestones of a case plan are late: a pure rule on the city's date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from caseapp.workflow.case_plan import late_milestones

TODAY = date(2026, 3, 2)


@dataclass(frozen=True)
class Step:
    due_on: date
    done_on: date | None = None


@pytest.mark.parametrize(
    ("step", "late"),
    [
        (Step(date(2026, 3, 1)), True),
        (Step(date(2025, 12, 31)), True),
        (Step(TODAY), False),
        (Step(date(2026, 3, 3)), False),
        (Step(date(2026, 3, 1), done_on=date(2026, 3, 2)), False),
        (Step(date(2026, 3, 3), done_on=date(2026, 3, 1)), False),
    ],
    ids=["yesterday", "last year", "today", "tomorrow", "done late", "done early"],
)
def test_late_is_not_done_and_due_before_today(step: Step, late: bool) -> None:
    assert late_milestones([step], TODAY) == ([step] if late else [])


def test_late_ones_keep_their_order() -> None:
    steps = [Step(date(2026, 2, 1)), Step(date(2026, 4, 1)), Step(date(2026, 1, 1))]
    assert late_milestones(steps, TODAY) == [steps[0], steps[2]]
