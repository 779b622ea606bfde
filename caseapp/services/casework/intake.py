"""Intake (受理): answer directly, reject, reinstate, merge, dispatch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from caseapp.extensions import db
from caseapp.models import Case, CaseFollower, Department, User
from caseapp.models.enums import (
    WORKED_STATUSES,
    CaseKind,
    Clock,
    CloseReason,
    EventAction,
    Role,
)
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import lifecycle
from caseapp.services.casework.effects import close_case, hand_to_department, keep_resolve_promise
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, ValidationFailed
from caseapp.services.filing.cases import add_participant, department_by_id, now_or
from caseapp.services.filing.validation import clean_text, has_control_characters
from caseapp.services.ledgers import items as ledgers
from caseapp.services.messages import N_, Message
from caseapp.services.notices import citizen as notices
from caseapp.services.notices import staff as staff_notices
from caseapp.services.transactions import one_transaction

# Where a petition that is not a matter for petitions belongs (信访工作条例 Art. 14-15).
PETITION_CHANNELS = ("court", "arbitration", "administrative_review", "discipline_inspection")


def required_text(value: str, field: str, limit: int = 4000) -> str:
    """The text of an action (a reason, an answer, a note), cleaned; refused if it is
    empty, too long or holds control characters (PostgreSQL cannot store NUL)."""
    text = clean_text(value)
    if not text:
        raise ValidationFailed(f"{field} is required", {field: N_("This field is required.")})
    if len(text) > limit:
        raise ValidationFailed(
            f"{field} is too long",
            {field: Message(N_("At most %(count)s characters."), count=limit)},
        )
    if has_control_characters(text):
        raise ValidationFailed(
            f"{field} holds control characters",
            {field: N_("Contains characters that are not allowed.")},
        )
    return text


def optional_text(value: str | None, field: str, limit: int = 4000) -> str:
    """An optional text of an action (a decision's note, a contact's note, a rating's
    comment): "" if empty, else checked as ``required_text`` checks."""
    return required_text(value or "", field, limit) if clean_text(value) else ""


def _first_responsible(case: Case, actor: Actor) -> None:
    """The intake clerk who first acts on a web filing becomes first-responsible."""
    if (
        case.first_responsible_id is None
        and actor.user is not None
        and actor.user.has_role(Role.INTAKE)
    ):
        case.first_responsible_id = actor.user.id
        add_participant(case, actor.user)


@one_transaction
def answer_directly(
    case: Case, actor: Actor, answer: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """Answer a consultation, praise or simple matter at intake (→ resolved)."""
    now = now_or(now)
    answer = required_text(answer, "answer")
    math = deadlines.deadline_math()

    def effects() -> None:
        deadlines.stop_all(case, now)
        case.resolved_at = now
        case.public_answer = answer
        deadlines.start_clock(case, Clock.FEEDBACK, now, math)
        _first_responsible(case, actor)

    outcome = lifecycle.apply_action(
        case,
        EventAction.ANSWER_DIRECTLY,
        actor,
        now,
        expected_version=version,
        public_text=answer,
        effects=effects,
    )
    notices.notify_citizens(case, outcome.event, "answer", {"answer": answer})
    lifecycle.commit()
    return case


@one_transaction
def reject_case(
    case: Case,
    actor: Actor,
    reason: str,
    *,
    version: int | None,
    belongs_to: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Refuse to accept (不予受理) with a public reason; for a petition, name the channel
    it belongs to (court, arbitration, administrative review, discipline inspection)."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    if case.kind is CaseKind.PETITION and belongs_to not in PETITION_CHANNELS:
        raise ValidationFailed("name the channel", {"belongs_to": N_("Choose where it belongs.")})

    def effects() -> None:
        close_case(case, now)
        _first_responsible(case, actor)

    outcome = lifecycle.apply_action(
        case,
        EventAction.REJECT,
        actor,
        now,
        expected_version=version,
        public_text=reason,
        data={"belongs_to": belongs_to} if belongs_to else {},
        effects=effects,
    )
    ledgers.reevaluate_items_of(case, now, actor.user.id if actor.user else None)
    notices.notify_citizens(case, outcome.event, "rejection", {"reason": reason})
    lifecycle.commit()
    return case


@one_transaction
def reinstate_case(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """A supervisor takes back a wrong rejection: the case is new again, with its accept
    clock; a case accepted before the rejection keeps its resolve promise."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    math = deadlines.deadline_math()

    def effects() -> None:
        deadlines.start_clock(case, Clock.ACCEPT, now, math)
        if case.accepted_at is not None:
            keep_resolve_promise(case, now, math)

    lifecycle.apply_action(
        case,
        EventAction.REINSTATE,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        effects=effects,
    )
    ledgers.reevaluate_items_of(case, now, actor.user.id if actor.user else None)
    lifecycle.commit()
    return case


@one_transaction
def merge_case(
    case: Case, actor: Actor, into: Case, *, version: int | None, now: datetime | None = None
) -> Case:
    """Close ``case`` as a duplicate of ``into``: its citizen follows ``into`` and its
    ledger links move there."""
    now = now_or(now)
    if into.id == case.id or into.status not in WORKED_STATUSES:
        raise ValidationFailed(
            "merge into an open case", {"duplicate_of": N_("Choose an open case.")}
        )

    def effects() -> None:
        close_case(case, now, CloseReason.MERGED)
        case.duplicate_of_id = into.id
        if case.citizen_phone or case.citizen_email:
            into.followers.append(
                CaseFollower(
                    source_case_id=case.id,
                    name=case.citizen_name,
                    phone=case.citizen_phone,
                    email=case.citizen_email,
                    notify_by=case.notify_by,
                    language=case.language,
                    access_key_hash=case.access_key_hash,
                    created_at=now,
                )
            )
        _first_responsible(case, actor)

    outcome = lifecycle.apply_action(
        case,
        EventAction.MERGE,
        actor,
        now,
        expected_version=version,
        data={"duplicate_of": into.number},
        effects=effects,
    )
    lifecycle.record_event(
        into,
        EventAction.FOLLOW,
        actor,
        now,
        data={"merged_from": case.number},
    )
    ledgers.move_links(case, into, now, actor.user.id if actor.user else None)
    notices.notify_citizens(case, outcome.event, "closing", {"merged_into": into.number})
    lifecycle.commit()
    return case


def handler_in(department_id: int, handler_id: int | None) -> User | None:
    """The handler named by ``handler_id`` (None if none is named); refused unless an
    active handler of the department."""
    if handler_id is None:
        return None
    handler = db.session.get(User, handler_id)
    if (
        handler is None
        or not handler.active
        or handler.department_id != department_id
        or not handler.has_role(Role.HANDLER)
    ):
        raise ValidationFailed(
            "not a handler of that department",
            {"handler": N_("Choose a handler of the department.")},
        )
    return handler


@one_transaction
def dispatch_case(
    case: Case,
    actor: Actor,
    department_id: int,
    *,
    version: int | None,
    assisting_ids: Iterable[int] = (),
    handler_id: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Send the case to a lead department, with assisting departments (协办) and
    optionally a handler. The first dispatch is the acceptance (受理)."""
    now = now_or(now)
    department = department_by_id(department_id)
    assisting = [department_by_id(i) for i in dict.fromkeys(assisting_ids) if i != department.id]
    handler = handler_in(department.id, handler_id)
    dispatch(case, actor, department, now, version=version, assisting=assisting, handler=handler)
    lifecycle.commit()
    return case


def dispatch(
    case: Case,
    actor: Actor,
    department: Department,
    now: datetime,
    *,
    version: int | None,
    assisting: Sequence[Department] = (),
    handler: User | None = None,
) -> None:
    """``dispatch_case`` without the commit, for actions that dispatch as part of theirs
    (a review case placed with its review body as it is filed)."""
    if case.repeat_of_final:
        raise NotAllowed("this matter finished re-review and is not accepted again")
    first = case.accepted_at is None
    math = deadlines.deadline_math()

    def effects() -> None:
        hand_to_department(
            case,
            department,
            now,
            math,
            from_intake=True,
            handler=handler,
            assisting=assisting,
        )
        _first_responsible(case, actor)

    outcome = lifecycle.apply_action(
        case,
        EventAction.DISPATCH,
        actor,
        now,
        expected_version=version,
        data={
            "department": department.code,
            "assisting": [d.code for d in assisting],
            "handler": handler.username if handler else None,
            "acceptance": first,
        },
        effects=effects,
    )
    if handler is not None:
        staff_notices.case_assigned(case, outcome.event, actor)
    if first:
        ledgers.on_case_accepted(case, now, actor.user.id if actor.user else None)
        notices.notify_citizens(
            case,
            outcome.event,
            "acceptance",
            {
                "department": department.name_zh,
                "department_en": department.name_en,
                "resolve_by": _resolve_due(case),
            },
        )


def _resolve_due(case: Case) -> str:
    rows = deadlines.running(case, Clock.RESOLVE)
    return rows[0].due_at.isoformat() if rows else ""
