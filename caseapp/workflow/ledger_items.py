"""Ledger items (台账, DESIGN §5): an item's status from its cases and a supervisor's
hand, who may manage items or see a department's, and which are late. Pure functions of
roles, statuses, dates and an item's history.

The write-off rule (销号):

- What the cases say: a linked case *counts* unless it was withdrawn or rejected (and a
  merged case is never linked: its links move to the case it was merged into). The cases
  say **write off** when at least one case counts and every case that counts has closed
  ``rated`` or ``no_rating``; **keep open** when a case that counts has not; **nothing**
  when no case counts (none linked, or all withdrawn or rejected: they count neither for
  nor against).
- A supervisor's write-off or reopen by hand (an imported write-off is one too) stands
  until the next change of the item's cases: a case that counts closes, is rated (an
  unsatisfied rating is a redo), reopened, withdrawn, rejected, reinstated or merged, or
  a case is linked or unlinked. After such a change the item is what its cases say; when
  they say nothing it is what the last hand said (not written off if no hand did), as
  if the cases that do not count had never been linked. An item without cases follows
  only the hand.
- Hence the order of the cases' changes never matters: with no hand involved the item is
  written off exactly when its cases, as they are now, say so.
- Not written off, an item is in progress once it has started (it was in progress or
  written off before, or a linked case has been accepted), and open before.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from caseapp.models.enums import (
    CaseStatus,
    CloseReason,
    LedgerItemAction,
    LedgerItemStatus,
    Role,
)
from caseapp.workflow.case_plan import DatedStep, Step, late_milestones

# Cases that no longer count for their item: they will never close with an answer.
OUT_OF_PICTURE = frozenset({CaseStatus.WITHDRAWN, CaseStatus.REJECTED})
ANSWERED_CLOSES = frozenset({CloseReason.RATED, CloseReason.NO_RATING})
HAND_ACTIONS = frozenset({LedgerItemAction.WRITE_OFF, LedgerItemAction.REOPEN})


class CasesSay(enum.Enum):
    """What an item's linked cases say about its write-off."""

    WRITE_OFF = "write_off"
    KEEP_OPEN = "keep_open"
    NOTHING = "nothing"


@dataclass(frozen=True)
class LinkedCase:
    """What the write-off rule reads of a case linked to an item."""

    status: CaseStatus
    close_reason: CloseReason | None = None
    accepted: bool = False

    @property
    def counts(self) -> bool:
        """Whether the case holds its item back until it closes with an answer."""
        return self.status not in OUT_OF_PICTURE and self.close_reason is not CloseReason.MERGED

    @property
    def closed_with_answer(self) -> bool:
        return self.status is CaseStatus.CLOSED and self.close_reason in ANSWERED_CLOSES


@dataclass(frozen=True)
class HandMark:
    """A write-off or reopen by hand (``LedgerItemAction.WRITE_OFF`` or ``REOPEN``)."""

    action: LedgerItemAction

    def __post_init__(self) -> None:
        if self.action not in HAND_ACTIONS:
            raise ValueError(f"{self.action} is not a write-off or reopen by hand")


@dataclass(frozen=True)
class CasesChanged:
    """A change of an item's cases, with every case linked to the item after it."""

    cases: tuple[LinkedCase, ...]


def cases_say(cases: Iterable[LinkedCase]) -> CasesSay:
    """What ``cases`` say: write off when some count and all of those closed with an
    answer; nothing when none counts."""
    counted = [case for case in cases if case.counts]
    if not counted:
        return CasesSay.NOTHING
    if all(case.closed_with_answer for case in counted):
        return CasesSay.WRITE_OFF
    return CasesSay.KEEP_OPEN


def item_status(
    history: Iterable[HandMark | CasesChanged], *, started: bool = False
) -> LedgerItemStatus:
    """The status of an item after ``history`` (its hand marks and the changes of its
    cases, oldest first) by the rule in this module's docstring. ``started``: the item
    had started before the history (an import or a done milestone put it in progress)."""
    last_mark: HandMark | None = None
    hand_after_cases = False
    cases: tuple[LinkedCase, ...] = ()
    written_off = False
    for step in history:
        if isinstance(step, HandMark):
            last_mark, hand_after_cases = step, True
        else:
            cases, hand_after_cases = step.cases, False
        said = cases_say(cases)
        if hand_after_cases or said is CasesSay.NOTHING:
            written_off = last_mark is not None and last_mark.action is LedgerItemAction.WRITE_OFF
        else:
            written_off = said is CasesSay.WRITE_OFF
        started = started or written_off or any(case.accepted for case in cases)
    if written_off:
        return LedgerItemStatus.WRITTEN_OFF
    return LedgerItemStatus.IN_PROGRESS if started else LedgerItemStatus.OPEN


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
