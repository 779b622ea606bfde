"""Ledger items (台账, DESIGN §5): who may manage them or see a department's, and which
are late. Pure functions of roles, statuses and dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from caseapp.models.enums import LedgerItemStatus, Role
from caseapp.workflow.case_plan import DatedStep, Step, late_milestones


def may_manage_items(roles: Iterable[Role]) -> bool:
    """Supervisors open, edit, write off and reopen ledger items."""
    return Role.SUPERVISOR in set(roles)


def may_see_department_items(roles: Iterable[Role]) -> bool:
    """A department's lead sees the items their department (and those below it) owns."""
    return Role.LEAD in set(roles)


def target_passed(status: LedgerItemStatus, target_date: date | None, today: date) -> bool:
    """The target date has passed and the item is not written off; ``today`` is the
    city's local date, so an item due today is not late until tomorrow."""
    return (
        status is not LedgerItemStatus.WRITTEN_OFF
        and target_date is not None
        and target_date < today
    )


def late_steps(status: LedgerItemStatus, milestones: Iterable[Step], today: date) -> list[Step]:
    """The item's late milestones; none once it is written off (its plan is history)."""
    if status is LedgerItemStatus.WRITTEN_OFF:
        return []
    return late_milestones(milestones, today)


def item_is_late(
    status: LedgerItemStatus, target_date: date | None, milestones: Iterable[DatedStep], today: date
) -> bool:
    """Late: the target date passed, or a milestone is late, and it is not written off."""
    return target_passed(status, target_date, today) or bool(late_steps(status, milestones, today))
