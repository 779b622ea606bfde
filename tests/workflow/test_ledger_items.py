"""Which ledger items are late, who may manage or see them, and an item's status from its
cases and the supervisor's hand (issue 16, finding 6): pure rules."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pytest

from caseapp.models.enums import CaseStatus, CloseReason, LedgerItemAction, LedgerItemStatus, Role
from caseapp.workflow.ledger_items import (
    CasesChanged,
    CasesSay,
    HandMark,
    LinkedCase,
    cases_say,
    item_is_late,
    item_status,
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


# --- the write-off rule: an item's status from its cases and the supervisor's hand ---------

W, OPEN, IN_PROGRESS = S.WRITTEN_OFF, S.OPEN, S.IN_PROGRESS
HAND = {"write-off": LedgerItemAction.WRITE_OFF, "reopen": LedgerItemAction.REOPEN}
WORKED = LinkedCase(CaseStatus.IN_PROGRESS, accepted=True)
CLOSED = LinkedCase(CaseStatus.CLOSED, CloseReason.RATED, accepted=True)

# What each change of the cases does to the linked cases, and when it can happen. The item
# starts with case A being worked (accepted) and case B new (not accepted); C is not linked.
CASE_CHANGES: dict[str, tuple[str, set[CaseStatus | None], LinkedCase | None]] = {
    "A closes": ("A", {CaseStatus.IN_PROGRESS}, CLOSED),
    "A closes unrated": (
        "A",
        {CaseStatus.IN_PROGRESS},
        LinkedCase(CaseStatus.CLOSED, CloseReason.NO_RATING, accepted=True),
    ),
    "A reopened": ("A", {CaseStatus.CLOSED}, WORKED),
    "A withdrawn": ("A", {CaseStatus.IN_PROGRESS}, LinkedCase(CaseStatus.WITHDRAWN, accepted=True)),
    "B withdrawn": ("B", {CaseStatus.NEW}, LinkedCase(CaseStatus.WITHDRAWN)),
    "B rejected": ("B", {CaseStatus.NEW}, LinkedCase(CaseStatus.REJECTED)),
    "B reinstated": ("B", {CaseStatus.REJECTED}, LinkedCase(CaseStatus.NEW)),
    "B unlinked": ("B", {CaseStatus.NEW, CaseStatus.REJECTED, CaseStatus.WITHDRAWN}, None),
    "C linked": ("C", {None}, WORKED),
    "C linked closed": ("C", {None}, CLOSED),
}


def history_of(events: Sequence[str]) -> list[HandMark | CasesChanged] | None:
    """The item's history after ``events`` in this order (A and B linked first), or None
    when the order is impossible (B reinstated before it was rejected)."""
    cases: dict[str, LinkedCase] = {"A": WORKED, "B": LinkedCase(CaseStatus.NEW)}
    history: list[HandMark | CasesChanged] = [CasesChanged(tuple(cases.values()))]
    for event in events:
        if event in HAND:
            history.append(HandMark(HAND[event]))
            continue
        name, before, after = CASE_CHANGES[event]
        if (cases[name].status if name in cases else None) not in before:
            return None
        if after is None:
            del cases[name]
        else:
            cases[name] = after
        history.append(CasesChanged(tuple(cases.values())))
    return history


def the_rule(events: Sequence[str]) -> LedgerItemStatus:
    """DESIGN §5 as the module's docstring words it, restated over the events' names."""
    history = history_of(events)
    assert history is not None
    final = next(step for step in reversed(history) if isinstance(step, CasesChanged))
    counted = [
        c for c in final.cases if c.status not in (CaseStatus.WITHDRAWN, CaseStatus.REJECTED)
    ]
    marks = [e for e in events if e in HAND]
    last_case_change = max((i for i, e in enumerate(events) if e not in HAND), default=-1)
    last_mark = max((i for i, e in enumerate(events) if e in HAND), default=-1)
    if marks and (last_mark > last_case_change or not counted):
        written_off = marks[-1] == "write-off"
    elif not counted:
        written_off = False
    else:
        written_off = all(
            c.status is CaseStatus.CLOSED and c.close_reason is not CloseReason.MERGED
            for c in counted
        )
    return W if written_off else IN_PROGRESS


# Each order as finding 6 of issue 16 names it, and its neighbours, with the status it must
# give; A is accepted, so an item not written off is in progress.
ORDERS = [
    (("A closes", "B withdrawn"), W),
    (("B withdrawn", "A closes"), W),
    (("A closes", "B rejected"), W),
    (("B rejected", "A closes"), W),
    (("A closes unrated", "B withdrawn"), W),
    (("A closes", "B withdrawn", "C linked"), IN_PROGRESS),
    (("A closes", "B withdrawn", "C linked closed"), W),
    (("A closes", "B rejected", "B reinstated"), IN_PROGRESS),
    (("B rejected", "A closes", "B reinstated"), IN_PROGRESS),
    (("B rejected", "B reinstated", "A closes"), IN_PROGRESS),
    (("A closes", "B unlinked"), W),
    (("B unlinked", "A closes"), W),
    (("A closes", "B withdrawn", "A reopened"), IN_PROGRESS),
    (("A withdrawn", "B withdrawn"), IN_PROGRESS),  # nothing counts: no write-off
    # By hand: the hand stands until the next change of the cases.
    (("write-off",), W),
    (("write-off", "A closes"), IN_PROGRESS),  # B is still open
    (("write-off", "B withdrawn"), IN_PROGRESS),  # A is still open
    (("write-off", "B withdrawn", "A closes"), W),
    (("A closes", "B withdrawn", "reopen"), IN_PROGRESS),
    (("A closes", "B withdrawn", "reopen", "C linked closed"), W),
    (("A closes", "B withdrawn", "write-off", "reopen"), IN_PROGRESS),
    (("A closes", "write-off", "C linked"), IN_PROGRESS),
    # No case counts any more: the last hand holds, as if they had never been linked.
    (("write-off", "A withdrawn", "B withdrawn"), W),
    (("write-off", "A withdrawn", "B unlinked"), W),
    (("A withdrawn", "B withdrawn", "write-off", "reopen"), IN_PROGRESS),
]


@pytest.mark.parametrize(
    ("events", "status"), ORDERS, ids=[" → ".join(events) for events, _ in ORDERS]
)
def test_the_item_status_after_each_order_of_events(
    events: tuple[str, ...], status: LedgerItemStatus
) -> None:
    history = history_of(events)
    assert history is not None
    assert item_status(history) is status
    assert the_rule(events) is status


# Sets of changes of the cases (no hand): every possible order gives the same status,
# what the cases say at the end.
CASE_ONLY_SETS = [
    ("A closes", "B withdrawn"),
    ("A closes", "B rejected"),
    ("A closes", "B rejected", "B reinstated"),
    ("A closes", "B withdrawn", "C linked"),
    ("A closes", "B withdrawn", "C linked closed"),
    ("A closes", "A reopened", "B withdrawn"),
    ("A closes", "B unlinked", "C linked closed"),
    ("A closes unrated", "B rejected", "B reinstated", "B unlinked"),
    ("A closes", "A reopened", "B rejected", "B reinstated", "C linked closed"),
]


@pytest.mark.parametrize("events", CASE_ONLY_SETS, ids=" · ".join)
def test_the_order_of_the_cases_changes_never_changes_the_status(events: tuple[str, ...]) -> None:
    orders = [order for order in itertools.permutations(events) if history_of(order) is not None]
    outcomes = {item_status(history_of(order) or []) for order in orders}
    assert len(orders) >= 2 and outcomes == {the_rule(orders[0])}


# The same sets with the hand in them: every order gives what the rule says.
MIXED_SETS = [
    ("A closes", "B withdrawn", "write-off"),
    ("A closes", "B withdrawn", "reopen"),
    ("A closes", "B rejected", "B reinstated", "reopen"),
    ("A closes", "B withdrawn", "C linked", "write-off"),
    ("A withdrawn", "B unlinked", "write-off", "C linked closed"),
    ("A closes", "B withdrawn", "write-off", "reopen", "C linked closed"),
    ("A closes", "A reopened", "B rejected", "write-off", "reopen"),
]


@pytest.mark.parametrize("events", MIXED_SETS, ids=" · ".join)
def test_every_order_with_the_hand_gives_what_the_rule_says(events: tuple[str, ...]) -> None:
    tried = 0
    for order in itertools.permutations(events):
        history = history_of(order)
        if history is None:
            continue
        tried += 1
        assert item_status(history) is the_rule(order), order
    assert tried >= 2


def test_cases_say_nothing_when_none_counts_and_merged_never_writes_off() -> None:
    merged = LinkedCase(CaseStatus.CLOSED, CloseReason.MERGED)
    assert cases_say([]) is CasesSay.NOTHING
    assert cases_say([LinkedCase(CaseStatus.WITHDRAWN), merged]) is CasesSay.NOTHING
    assert cases_say([CLOSED, LinkedCase(CaseStatus.REJECTED)]) is CasesSay.WRITE_OFF
    assert cases_say([CLOSED, LinkedCase(CaseStatus.RESOLVED)]) is CasesSay.KEEP_OPEN


def test_open_until_started_and_in_progress_after() -> None:
    new = CasesChanged((LinkedCase(CaseStatus.NEW),))
    assert item_status([]) is OPEN
    assert item_status([new]) is OPEN
    assert item_status([new], started=True) is IN_PROGRESS
    assert item_status([CasesChanged((WORKED,))]) is IN_PROGRESS
    # An item once written off is in progress when the write-off is taken back.
    answered = LinkedCase(CaseStatus.CLOSED, CloseReason.RATED)  # answered at intake
    assert item_status([CasesChanged((answered,)), new]) is IN_PROGRESS
    assert item_status(
        [HandMark(LedgerItemAction.WRITE_OFF), HandMark(LedgerItemAction.REOPEN)]
    ) is (IN_PROGRESS)
    with pytest.raises(ValueError):
        HandMark(LedgerItemAction.LINK_CASE)
