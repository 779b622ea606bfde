"""Which cases this browser's session holds as their citizen (after a private link or a
one-time code), and as whom: the filer (0) or a follower (their id); which cases the
duplicate finder offered it to follow; and ``citizen_route``, which puts every citizen
route under the citizen table (``workflow.citizen_access``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import session

from caseapp.models import Case
from caseapp.services.access import citizen as citizen_access
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed
from caseapp.services.filing import cases as case_service
from caseapp.workflow.citizen_access import CitizenAction, CitizenRole, may

SESSION_KEY = "citizen_cases"
OFFERED_KEY = "offered_cases"
MAX_CASES = 20  # the cookie stays small
MAX_OFFERED = 10

# endpoint -> the citizen action it is (filled by ``citizen_route``; a test checks that
# every citizen route of the URL map is here).
ROUTE_ACTIONS: dict[str, CitizenAction] = {}


def grant(number: str, follower_id: int | None) -> None:
    cases = dict(session.get(SESSION_KEY, {}))
    cases.pop(number, None)
    cases[number] = follower_id or 0
    while len(cases) > MAX_CASES:
        cases.pop(next(iter(cases)))
    session[SESSION_KEY] = cases


def revoke(number: str) -> None:
    cases = dict(session.get(SESSION_KEY, {}))
    if cases.pop(number, None) is not None:
        session[SESSION_KEY] = cases


def has_access(number: str) -> bool:
    return number in session.get(SESSION_KEY, {})


def follower_of(number: str) -> int | None:
    """None for the filer, else the follower's id. Call only after ``has_access``."""
    return session.get(SESSION_KEY, {}).get(number) or None


def remember_offered(numbers: list[str]) -> None:
    """The duplicate finder showed these cases to this browser: it may follow them."""
    offered = [n for n in session.get(OFFERED_KEY, []) if n not in numbers] + numbers
    session[OFFERED_KEY] = offered[-MAX_OFFERED:]


def offered() -> frozenset[str]:
    return frozenset(session.get(OFFERED_KEY, []))


def citizen_actor(number: str, action: CitizenAction) -> tuple[Case, Actor]:
    """The case and who this browser is to it. A browser that holds no access to the
    case may do only what anyone may (follow a case offered to it); otherwise
    NotAllowed, the same answer whether or not the case exists."""
    if not has_access(number):
        if not may(CitizenRole.PUBLIC, action) or number not in offered():
            raise NotAllowed("no access to this case in this browser")
        return case_service.case_by_number(number), Actor.public()
    case = case_service.case_by_number(number)
    try:
        return case, citizen_access.actor_for(case, follower_of(number))
    except NotAllowed:
        revoke(number)
        raise


def citizen_route(
    action: CitizenAction, refused: Callable[[], Any] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view as the route of ``action`` and refuse, before it runs, anyone the
    citizen table does not give that action (a 403, or what ``refused`` answers): the
    view gets ``(case, actor, ...)``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        ROUTE_ACTIONS[f"public.{view.__name__}"] = action

        @wraps(view)
        def wrapped(number: str, **kwargs: Any) -> Any:
            try:
                case, actor = citizen_actor(number, action)
                citizen_access.check_role(actor, action)
            except NotAllowed:
                if refused is None:
                    raise
                return refused()
            return view(case, actor, **kwargs)

        return wrapped

    return decorate
