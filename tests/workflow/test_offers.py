"""workflow.offers: the table and the moment's conditions, as one decision. Pure: every
condition is tried on both of its sides, for every status and kind the table allows
the action in, and ``offered`` is checked against ``refusal`` for every action."""

from __future__ import annotations

from dataclasses import replace

import pytest

from caseapp.models.enums import CaseKind, CaseStatus, EventAction, RequestKind, Satisfaction
from caseapp.workflow import lifecycle, offers
from caseapp.workflow.lifecycle import Capacity
from caseapp.workflow.offers import Moment, Who

A = EventAction
EVERYONE = Who(frozenset(Capacity), user_id=7, department_id=3)

# For each action with a condition: a moment that allows it, and moments that do not.
SIDES: dict[EventAction, tuple[dict[str, object], list[dict[str, object]]]] = {
    A.DECIDE_RETURN: (
        {"waiting": {RequestKind.RETURN: 1}},
        [{"waiting": {}}, {"waiting": {RequestKind.RETURN: 7}}, {"waiting": {RequestKind.REDO: 1}}],
    ),
    A.DECIDE_EXTENSION: (
        {"waiting": {RequestKind.EXTENSION: None}},
        [{"waiting": {}}, {"waiting": {RequestKind.EXTENSION: 7}}],
    ),
    A.DECIDE_REDO: ({"waiting": {RequestKind.REDO: 2}}, [{"waiting": {RequestKind.REDO: 7}}]),
    A.RATE: (
        {"handling_department_ids": frozenset({4})},
        [{"handling_department_ids": frozenset({3})}, {"waiting": {RequestKind.REDO: 1}}],
    ),
    A.EXCLUDE_RATING: (
        {"rating": Satisfaction.UNSATISFIED},
        [
            {"rating": Satisfaction.SATISFIED},
            {"rating": None},
            {"rating": Satisfaction.UNSATISFIED, "rating_excluded": True},
        ],
    ),
    A.REASSIGN: ({"held_by_department": True}, [{"held_by_department": False}]),
    A.REQUEST_EXTENSION: (
        {"resolve_running": True, "extension_cap": 5},
        [
            {"resolve_running": False, "extension_cap": 5},
            {"resolve_running": True, "resolve_overdue": True, "extension_cap": 5},
            {"resolve_running": True, "extension_cap": 0},
            {"resolve_running": True, "extension_cap": 5, "waiting": {RequestKind.EXTENSION: 1}},
        ],
    ),
    A.RETURN: ({"in_return_window": True}, [{"in_return_window": False}, {}]),
    A.REQUEST_RETURN: (
        {"in_return_window": False},
        [
            {"in_return_window": True},
            {"in_return_window": None},
            {"in_return_window": False, "waiting": {RequestKind.RETURN: 1}},
        ],
    ),
    A.REOPEN: (
        {"in_reopen_window": True},
        [{"in_reopen_window": False}, {"in_reopen_window": True, "merged": True}],
    ),
    A.REQUEST_REVIEW: ({"review_refused": None}, [{"review_refused": "passed"}]),
}


def _where_allowed(action: EventAction) -> list[tuple[CaseStatus, CaseKind]]:
    return [
        (status, kind)
        for status in CaseStatus
        for kind in CaseKind
        if lifecycle.who_may(action, status, kind)
    ]


def test_every_condition_is_tried() -> None:
    assert set(SIDES) == set(offers.CONDITIONS)


@pytest.mark.parametrize("action", list(SIDES), ids=str)
def test_each_condition_allows_one_side_and_refuses_the_other(action: EventAction) -> None:
    allowing, refusing = SIDES[action]
    places = _where_allowed(action)
    assert places, f"{action} is allowed nowhere in the table"
    for status, kind in places:
        base = Moment(status=status, kind=kind)
        yes = replace(base, **allowing)  # type: ignore[arg-type]
        assert offers.refusal(action, yes, EVERYONE) is None, (action, status, kind)
        assert action in offers.offered(yes, EVERYONE)
        for case in refusing:
            no = replace(base, **case)  # type: ignore[arg-type]
            reason = offers.refusal(action, no, EVERYONE)
            assert reason, (action, status, kind, case)
            assert action not in offers.offered(no, EVERYONE)


@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
@pytest.mark.parametrize("capacity", list(Capacity), ids=str)
def test_offered_is_exactly_what_refusal_lets_through(
    status: CaseStatus, capacity: Capacity
) -> None:
    who = Who(frozenset({capacity}), user_id=1, department_id=1)
    for kind in CaseKind:
        for allowing, _refusing in SIDES.values():
            moment = replace(Moment(status=status, kind=kind), **allowing)  # type: ignore[arg-type]
            offered = offers.offered(moment, who)
            for action in EventAction:
                assert (action in offered) == (offers.refusal(action, moment, who) is None)


def test_the_table_comes_first() -> None:
    moment = Moment(status=CaseStatus.CLOSED, kind=CaseKind.HELP, in_reopen_window=True)
    citizen = Who(frozenset({Capacity.CITIZEN}))
    assert "not allowed" in (offers.refusal(A.REOPEN, moment, citizen) or "")
    supervisor = Who(frozenset({Capacity.SUPERVISOR}), user_id=1)
    assert offers.refusal(A.REOPEN, moment, supervisor) is None
