"""What may be done with a case now: the lifecycle table (who may take an action from
which status, ``workflow.lifecycle``) and the conditions of the moment — a request
waiting for a decision, a window still open, a rating to exclude (DESIGN §3, §4).

This is the one decision: the staff page and the citizen page offer exactly the actions
``offered`` gives, and the services refuse every other one with the reason ``refusal``
gives, so a page never offers what a service refuses. Pure: what it needs of the case
and the clock comes in a ``Moment`` the services build (``services.casework.moments``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    EventAction,
    RequestKind,
    Satisfaction,
)
from caseapp.workflow import lifecycle
from caseapp.workflow.lifecycle import Capacity

A = EventAction


def N_(message: str) -> str:  # noqa: N802 - marks a reason for translation
    return message


# A reason is an English sentence for the user; the web layer shows it translated.
WAITING_NONE = {
    RequestKind.RETURN: N_("No return request is waiting for a decision."),
    RequestKind.EXTENSION: N_("No extension request is waiting for a decision."),
    RequestKind.REDO: N_("No request for a further redo is waiting for a decision."),
}


@dataclass(frozen=True)
class Moment:
    """A case as the conditions see it at one moment."""

    status: CaseStatus
    kind: CaseKind
    # The requests waiting for a decision, by kind: who asked (a user id, or None).
    waiting: Mapping[RequestKind, int | None] = field(default_factory=dict)
    rating: Satisfaction | None = None
    rating_excluded: bool = False
    # The departments that worked the case, now and before (they never rate it).
    handling_department_ids: frozenset[int] = frozenset()
    held_by_department: bool = False
    # The resolve clock: running, and past its deadline while not paused.
    resolve_running: bool = False
    resolve_overdue: bool = False
    extension_cap: int = 0
    # Within the direct-return window of the last dispatch; None: never dispatched.
    in_return_window: bool | None = None
    merged: bool = False
    in_reopen_window: bool = False
    # Why the decision cannot be reviewed now; None: it can.
    review_refused: str | None = "not a petition's written decision"


@dataclass(frozen=True)
class Who:
    """Who acts: their capacities on the case, and who they are."""

    capacities: frozenset[Capacity]
    user_id: int | None = None
    department_id: int | None = None


Condition = Callable[[Moment, Who], str | None]


def _decides(kind: RequestKind) -> Condition:
    def condition(moment: Moment, who: Who) -> str | None:
        if kind not in moment.waiting:
            return WAITING_NONE[kind]
        if who.user_id is not None and moment.waiting[kind] == who.user_id:
            return N_("Nobody decides their own request: someone else decides it.")
        return None

    return condition


def _rate(moment: Moment, who: Who) -> str | None:
    if who.department_id is not None and who.department_id in moment.handling_department_ids:
        return N_("The department that handled the case does not record its follow-up rating.")
    if RequestKind.REDO in moment.waiting:
        return N_("The case was rated; a supervisor decides whether it is worked again.")
    return None


def _exclude_rating(moment: Moment, who: Who) -> str | None:
    if moment.rating is not Satisfaction.UNSATISFIED:
        return N_("Only an unsatisfied rating can be excluded.")
    if moment.rating_excluded:
        return N_("The rating is already excluded.")
    return None


def _reassign(moment: Moment, who: Who) -> str | None:
    if not moment.held_by_department:
        return N_("No department holds the case: dispatch it instead.")
    return None


def _request_extension(moment: Moment, who: Who) -> str | None:
    if not moment.resolve_running:
        return N_("The case has no running deadline to extend.")
    if moment.resolve_overdue:
        return N_("An extension must be asked for before the deadline.")
    if RequestKind.EXTENSION in moment.waiting:
        return N_("An extension request is already waiting for a decision.")
    if moment.extension_cap <= 0:
        return N_("The case's deadline policy allows no extension.")
    return None


def _return(moment: Moment, who: Who) -> str | None:
    if moment.in_return_window is None:
        return N_("The case was never dispatched.")
    if not moment.in_return_window:
        return N_("The time for a direct return has passed: ask for a return instead.")
    return None


def _request_return(moment: Moment, who: Who) -> str | None:
    if moment.in_return_window is None:
        return N_("The case was never dispatched.")
    if moment.in_return_window:
        return N_("The case can still be returned directly.")
    if RequestKind.RETURN in moment.waiting:
        return N_("A return request is already waiting for a decision.")
    return None


def _reopen(moment: Moment, who: Who) -> str | None:
    if moment.merged:
        return N_("A merged case is not reopened: reopen the case it was merged into.")
    if not moment.in_reopen_window:
        return N_("A case can be reopened only within 30 days of its close.")
    return None


def _request_review(moment: Moment, who: Who) -> str | None:
    return moment.review_refused


# What each action needs of the moment beyond the table's status and capacity.
CONDITIONS: dict[EventAction, Condition] = {
    A.DECIDE_RETURN: _decides(RequestKind.RETURN),
    A.DECIDE_EXTENSION: _decides(RequestKind.EXTENSION),
    A.DECIDE_REDO: _decides(RequestKind.REDO),
    A.RATE: _rate,
    A.EXCLUDE_RATING: _exclude_rating,
    A.REASSIGN: _reassign,
    A.REQUEST_EXTENSION: _request_extension,
    A.RETURN: _return,
    A.REQUEST_RETURN: _request_return,
    A.REOPEN: _reopen,
    A.REQUEST_REVIEW: _request_review,
}


def refusal(action: EventAction, moment: Moment, who: Who) -> str | None:
    """Why ``who`` may not take ``action`` now, or None if they may."""
    if lifecycle.find_rule(action, moment.status, moment.kind, who.capacities) is None:
        return f"{action} is not allowed ({moment.status}, {moment.kind}) for this user"
    return condition_refusal(action, moment, who)


def condition_refusal(action: EventAction, moment: Moment, who: Who) -> str | None:
    """Why the moment does not allow ``action`` (the table's rule already found)."""
    condition = CONDITIONS.get(action)
    return condition(moment, who) if condition is not None else None


def offered(moment: Moment, who: Who) -> list[EventAction]:
    """Every action ``who`` may take now, in the table's order."""
    return [
        action
        for action in lifecycle.available_actions(moment.status, moment.kind, who.capacities)
        if condition_refusal(action, moment, who) is None
    ]
