"""Which ledger items are late, and who may manage or see them: pure rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from caseapp.models.enums import LedgerItemStatus, Role
from caseapp.workflow.ledger_items import (
    item_is_late,
    may_manage_items,
    may_see_department_items,
)

TODAY = date(2026, 3, 10)
S = LedgerItemStatus


@dataclass(frozen=True)
class Step:
    due_on: date
    done_on: date | None = None


LATE_STEP = Step(date(2026, 3, 9))

LATENESS = [
    ("no target, no plan", S.IN_PROGRESS, None, [], False),
    ("due today", S.IN_PROGRESS, TODAY, [], False),
    ("due yesterday", S.IN_PROGRESS, date(2026, 3, 9), [], True),
    ("not started and past", S.OPEN, date(2026, 3, 9), [], True),
    ("written off after its date", S.WRITTEN_OFF, date(2026, 1, 1), [LATE_STEP], False),
    ("a milestone late", S.IN_PROGRESS, date(2026, 12, 31), [LATE_STEP], True),
    ("the milestone done late", S.IN_PROGRESS, None, [Step(date(2026, 3, 9), TODAY)], False),
    ("a milestone due today", S.IN_PROGRESS, None, [Step(TODAY)], False),
]


@pytest.mark.parametrize(
    ("status", "target", "steps", "late"), [c[1:] for c in LATENESS], ids=[c[0] for c in LATENESS]
)
def test_an_item_is_late_after_its_target_or_a_milestone_until_written_off(
    status: LedgerItemStatus, target: date | None, steps: list[Step], late: bool
) -> None:
    assert item_is_late(status, target, steps, TODAY) is late


def test_supervisors_manage_items_and_leads_see_their_department_s() -> None:
    assert may_manage_items({Role.SUPERVISOR}) and not may_manage_items({Role.LEAD, Role.LEADER})
    assert may_see_department_items({Role.LEAD}) and not may_see_department_items({Role.HANDLER})
