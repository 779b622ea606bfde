"""Staff notices (DESIGN §8): an in-app inbox row per person, and an email where the
person has one, written in the transaction of the change that causes them. The sweep
tells of deadlines due soon, overdue and supervised; the actions here tell of urging
(督办) and of approvals waiting and decided."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from caseapp.extensions import db
from caseapp.models import (
    Case,
    CaseEvent,
    CaseRequest,
    InboxMessage,
    OutboxMessage,
    User,
)
from caseapp.models.enums import Clock, OutboxChannel, RequestKind, RequestStatus, Role
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework.lifecycle import DECIDED_BY, Actor
from caseapp.services.directory import users_with_role
from caseapp.workflow import lifecycle
from caseapp.workflow.deadlines import (
    ESCALATING_CLOCKS,
    LEVEL_SUPERVISED,
    Audience,
    escalation_audience,
)
from caseapp.workflow.lifecycle import Capacity

# The email each kind of inbox notice goes out as (texts in caseapp.notify.texts).
EMAIL_TEMPLATES = {
    "escalation_1": "staff_escalation",
    "escalation_2": "staff_escalation",
    "escalation_3": "staff_escalation",
    "urged": "staff_urged",
    "approval_waiting": "staff_approval_waiting",
    "approval_decided": "staff_approval_decided",
    "assigned": "staff_assigned",
    "citizen_answered": "staff_citizen_answered",
    "rated_unsatisfied": "staff_rated_unsatisfied",
}


def notify_staff(
    users: Iterable[User | None],
    case: Case,
    kind: str,
    key: str,
    params: dict[str, Any],
    now: datetime,
    *,
    email_template: str | None = None,
) -> list[InboxMessage]:
    """Add one notice of ``kind`` per active user (each once), keyed ``<key>:<user id>``
    so that a cause tells each person once; the caller commits. The email is the kind's
    own unless ``email_template`` names a more particular one."""
    if kind not in EMAIL_TEMPLATES:
        raise ValueError(f"unknown staff notice {kind!r}")
    template = email_template or EMAIL_TEMPLATES[kind]
    unique = {user.id: user for user in users if user is not None and user.active}
    added = []
    for user in unique.values():
        user_key = f"{key}:{user.id}"
        message = InboxMessage(
            user_id=user.id,
            dedupe_key=user_key,
            case_id=case.id,
            kind=kind,
            params=params,
            created_at=now,
        )
        db.session.add(message)
        added.append(message)
        if user.email:
            db.session.add(
                OutboxMessage(
                    idempotency_key=user_key,
                    channel=OutboxChannel.EMAIL,
                    recipient=user.email,
                    template=template,
                    language=user.language,
                    params=params,
                    case_id=case.id,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return added


def _leads_of(case: Case) -> list[User]:
    if case.lead_department_id is None:
        return []
    return users_with_role(Role.LEAD, case.lead_department_id)


def _others(users: Iterable[User | None], actor: Actor) -> list[User | None]:
    """No one is told of what they did themself."""
    me = actor.user.id if actor.user else None
    return [user for user in users if user is None or user.id != me]


def escalation_recipients(case: Case, clock: Clock, level: int) -> list[User]:
    """The active people told that the case's ``clock`` reached ``level``, by the table
    of DESIGN §4 (``workflow.deadlines.escalation_audience``)."""
    audience = escalation_audience(clock, level, held=case.lead_department_id is not None)
    people: list[User | None] = []
    if Audience.HANDLER in audience:
        people.append(case.handler)
    if Audience.LEADS in audience:
        people += _leads_of(case)
    if Audience.INTAKE in audience:
        people += users_with_role(Role.INTAKE)
    if Audience.SUPERVISORS in audience:
        people += users_with_role(Role.SUPERVISOR)
    if Audience.RESPONSIBLE_LEADER in audience:
        people.append(case.responsible_leader)
    unique = {user.id: user for user in people if user is not None and user.active}
    return list(unique.values())


def case_urged(case: Case, event: CaseEvent, text: str, actor: Actor) -> None:
    """督办: tell the people of each running clock at level 3 (the supervisors and the
    responsible leader among them), but not the one who urged."""
    clocks = {row.clock for row in deadlines.running(case) if row.clock in ESCALATING_CLOCKS}
    people: list[User | None] = [case.handler, *_leads_of(case)] if not clocks else []
    for clock in sorted(clocks):
        people += escalation_recipients(case, clock, LEVEL_SUPERVISED)
    notify_staff(
        _others(people, actor),
        case,
        "urged",
        f"urge:{event.id}",
        {"number": case.number, "title": case.title, "text": text},
        event.at,
    )


def _about(case: Case) -> dict[str, Any]:
    return {"number": case.number, "title": case.title}


def case_assigned(case: Case, event: CaseEvent, actor: Actor) -> None:
    """Tell the handler a case was given to them (named at dispatch or by their lead);
    not when they took it on themself."""
    notify_staff(
        _others([case.handler], actor), case, "assigned", f"assigned:{event.id}", _about(case),
        event.at,
    )  # fmt: skip


def citizen_answered(case: Case, event: CaseEvent, actor: Actor) -> None:
    """Tell who works the case (its handler; without one, the department's leads, or
    intake before any department holds it) that the citizen answered or added
    information."""
    people: list[User | None] = [case.handler] if case.handler else _leads_of(case)
    if case.lead_department_id is None:
        people = list(users_with_role(Role.INTAKE))
    params = {**_about(case), "text": (event.public_text or "")[:200]}
    notify_staff(
        _others(people, actor), case, "citizen_answered", f"answered:{event.id}", params,
        event.at,
    )  # fmt: skip


def rated_unsatisfied(case: Case, event: CaseEvent, actor: Actor) -> None:
    """Tell the handler and the department's leads that an unsatisfied rating sends the
    case back to them (or, past two redos, to a supervisor's decision)."""
    notify_staff(
        _others([case.handler, *_leads_of(case)], actor), case, "rated_unsatisfied",
        f"unsatisfied:{event.id}", _about(case), event.at,
    )  # fmt: skip


def deciders(case: Case, kind: RequestKind) -> list[User]:
    """Who may decide a request of ``kind`` on the case now, by the lifecycle table: the
    supervisors, or for a petition's extension the leads of its lead department."""
    who = lifecycle.who_may(DECIDED_BY[kind], case.status, case.kind)
    people: list[User] = []
    if Capacity.SUPERVISOR in who:
        people += users_with_role(Role.SUPERVISOR)
    if Capacity.LEAD_LEAD in who:
        people += _leads_of(case)
    return people


def approval_waiting(case: Case, request: CaseRequest, actor: Actor, now: datetime) -> None:
    """Tell who decides that a request (extension, late return, further redo) waits."""
    if request.id is None:
        db.session.flush([request])
    params: dict[str, Any] = {
        "kind": str(request.kind),
        "number": case.number,
        "title": case.title,
    }
    extension = request.kind is RequestKind.EXTENSION
    if extension:
        params["days"] = request.days
    notify_staff(
        _others(deciders(case, request.kind), actor),
        case,
        "approval_waiting",
        f"wait:{request.id}",
        params,
        now,
        email_template="staff_extension_waiting" if extension else None,
    )


def approval_decided(
    case: Case,
    request: CaseRequest,
    actor: Actor,
    now: datetime,
    *,
    handler: User | None = None,
) -> None:
    """Tell who asked, and the case's handler (``handler``: the one before the decision,
    where the decision took the case from them), how a request was decided; an approved
    extension names the new resolve deadline."""
    approved = request.status is RequestStatus.APPROVED
    params: dict[str, Any] = {
        "kind": str(request.kind),
        "approved": approved,
        "number": case.number,
        "title": case.title,
    }
    runs = deadlines.running(case, Clock.RESOLVE)
    if approved and request.kind is RequestKind.EXTENSION and runs:
        params["due"] = runs[0].due_at.isoformat()
    notify_staff(
        _others([request.requested_by, handler or case.handler], actor),
        case,
        "approval_decided",
        f"decided:{request.id}",
        params,
        now,
        email_template="staff_extension_approved" if "due" in params else None,
    )
