"""Casework in the departments: forward, reassign, return, sign for, ask the citizen,
resolve, record contact, extensions and notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from flask import current_app

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseRequest, User
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    EventAction,
    PetitionDecision,
    PolicyTerm,
    RequestKind,
    TimeUnit,
)
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import lifecycle
from caseapp.services.casework.effects import hand_to_department, leave_department
from caseapp.services.casework.intake import handler_in, optional_text, required_text
from caseapp.services.casework.lifecycle import Actor, Decision
from caseapp.services.errors import NotAllowed, ValidationFailed
from caseapp.services.filing.attachments import (
    CheckedFile,
    attach_files,
    remove_files,
    store_files,
)
from caseapp.services.filing.cases import add_participant, department_by_id, now_or
from caseapp.services.messages import N_, Message
from caseapp.services.notices import citizen as notices
from caseapp.services.notices import staff as staff_notices
from caseapp.services.transactions import one_transaction
from caseapp.workflow.deadlines import Period
from caseapp.workflow.lifecycle import Capacity

CONTACT_METHODS = ("call", "sms", "visit")


def _stop_first_response(case: Case, now: datetime) -> None:
    deadlines.stop_clock(case, Clock.FIRST_RESPONSE, now)


@one_transaction
def forward_case(
    case: Case,
    actor: Actor,
    department_id: int,
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """The holding department's lead sends the case on to one of its child departments
    (second-level dispatch, e.g. district → street office)."""
    now = now_or(now)
    child = department_by_id(department_id)
    if child.parent_id != case.lead_department_id:
        raise ValidationFailed(
            "not a child department", {"department": N_("Choose one of your departments.")}
        )
    math = deadlines.deadline_math()

    lifecycle.apply_action(
        case,
        EventAction.FORWARD,
        actor,
        now,
        expected_version=version,
        data={"department": child.code},
        effects=lambda: hand_to_department(case, child, now, math),
    )
    lifecycle.commit()
    return case


@one_transaction
def reassign_case(
    case: Case,
    actor: Actor,
    department_id: int,
    reason: str,
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """A supervisor moves the case to another department."""
    now = now_or(now)
    lifecycle.check_action(case, EventAction.REASSIGN, actor, version, now)
    reason = required_text(reason, "reason")
    department = department_by_id(department_id)
    if department.id == case.lead_department_id:
        raise ValidationFailed(
            "it is there already", {"department": N_("Choose another department.")}
        )
    math = deadlines.deadline_math()

    def effects() -> None:
        if case.paused_at is not None:
            _end_pause(case, now, math)
        hand_to_department(case, department, now, math)
        # The new lead no longer assists.
        case.assists = [a for a in case.assists if a.department_id != department.id]

    lifecycle.apply_action(
        case,
        EventAction.REASSIGN,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        data={"department": department.code},
        effects=effects,
    )
    lifecycle.commit()
    return case


def _returned_effects(case: Case, now: datetime) -> None:
    leave_department(case, now)
    case.lead_department_id = None
    case.assists = []


@one_transaction
def return_case(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """Send a misrouted case back to intake, within the return window of its dispatch."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    lifecycle.check_action(case, EventAction.RETURN, actor, version, now)
    lifecycle.apply_action(
        case,
        EventAction.RETURN,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        effects=lambda: _returned_effects(case, now),
    )
    lifecycle.commit()
    return case


@one_transaction
def request_return(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> CaseRequest:
    """After the return window, ask a supervisor to approve a return."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    lifecycle.check_action(case, EventAction.REQUEST_RETURN, actor, version, now)
    request = CaseRequest(
        kind=RequestKind.RETURN,
        case_status=case.status,
        reason=reason,
        requested_by_id=actor.user.id if actor.user else None,
        requested_at=now,
    )
    lifecycle.apply_action(
        case,
        EventAction.REQUEST_RETURN,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        effects=lambda: case.requests.append(request),
    )
    staff_notices.approval_waiting(case, request, actor, now)
    lifecycle.commit()
    return request


def decide_return(decision: Decision) -> None:
    """A late return: approved, the case goes back (returned) and its handler loses it;
    denied, it stays where it is."""
    case, now = decision.case, decision.now
    handler = case.handler
    lifecycle.apply_decision(
        decision,
        to_status=CaseStatus.RETURNED if decision.approve else case.status,
        data={"request_id": decision.request.id},
        on_approve=lambda: _returned_effects(case, now),
    )
    staff_notices.approval_decided(case, decision.request, decision.actor, now, handler=handler)


def handler_unnamed(case: Case, user: User, capacities: frozenset[Capacity]) -> User | None:
    """Who takes the case on when the one signing names nobody: a handler themself, else
    the handler named at dispatch (a lead signs for them); None: a handler must be named.
    The sign form offers this as its first choice, or no such choice when it is None."""
    if Capacity.LEAD_HANDLER in capacities:
        return user
    return case.handler if case.handler_id is not None else None


@one_transaction
def sign_for_case(
    case: Case,
    actor: Actor,
    *,
    version: int | None,
    handler_id: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Take the case on (签收): a handler for themself, or the lead naming a handler."""
    now = now_or(now)
    _rule, capacities = lifecycle.check_action(case, EventAction.SIGN_FOR, actor, version)
    assert actor.user is not None and case.lead_department_id is not None
    if handler_id is not None and handler_id != actor.user.id:
        if Capacity.LEAD_LEAD not in capacities:
            raise NotAllowed("only the department's lead names another handler")
        handler: User | None = handler_in(case.lead_department_id, handler_id)
    else:
        handler = handler_unnamed(case, actor.user, capacities)
        if handler is None:
            raise ValidationFailed("name a handler", {"handler": N_("Choose a handler.")})
    math = deadlines.deadline_math()

    def effects() -> None:
        case.handler_id = handler.id if handler else None
        add_participant(case, handler)
        deadlines.stop_clock(case, Clock.SIGN, now)
        deadlines.start_clock(case, Clock.FIRST_RESPONSE, now, math)

    outcome = lifecycle.apply_action(
        case,
        EventAction.SIGN_FOR,
        actor,
        now,
        expected_version=version,
        data={"handler": handler.username if handler else None},
        effects=effects,
    )
    staff_notices.case_assigned(case, outcome.event, actor)
    lifecycle.commit()
    return case


@one_transaction
def ask_citizen(
    case: Case, actor: Actor, question: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """Ask the citizen for more (待补充): the clocks pause until the reply or the window."""
    now = now_or(now)
    question = required_text(question, "question")
    math = deadlines.deadline_math()
    asked_from = case.status

    def effects() -> None:
        _stop_first_response(case, now)
        case.status_before_pause = asked_from
        deadlines.pause_all(case, now)
        case.paused_at = now
        deadlines.start_clock(case, Clock.REPLY_WINDOW, now, math)

    outcome = lifecycle.apply_action(
        case,
        EventAction.ASK_CITIZEN,
        actor,
        now,
        expected_version=version,
        public_text=question,
        effects=effects,
    )
    notices.notify_citizens(case, outcome.event, "question", {"question": question})
    lifecycle.commit()
    return case


def _end_pause(case: Case, now: datetime, math: deadlines.DeadlineMath) -> None:
    """End the pause now. The reply window bounds every pause (DESIGN §4): a pause ended
    after the window closed (a reassignment, a reply or a sweep that came late) moves the
    deadlines only by the window's time, not by the days nobody was waiting for."""
    windows = deadlines.running(case, Clock.REPLY_WINDOW)
    ended = min([now, *(row.due_at for row in windows)])
    deadlines.stop_clock(case, Clock.REPLY_WINDOW, now)
    deadlines.resume_all(case, ended, math)
    case.paused_at = None


@one_transaction
def citizen_replies(
    case: Case,
    actor: Actor,
    reply: str,
    *,
    version: int | None,
    now: datetime | None = None,
    files: Sequence[CheckedFile] = (),
) -> Case:
    """The citizen's answer (or staff recording one taken by phone), with the files asked
    for (kept with the answer, never public): the clocks resume."""
    return _resume(
        case, actor, EventAction.CITIZEN_REPLIES, required_text(reply, "reply"), version, now,
        files,
    )  # fmt: skip


@one_transaction
def reply_window_passes(case: Case, now: datetime | None = None) -> Case:
    """The sweep: no reply within the window; the clocks resume."""
    return _resume(case, Actor.system(), EventAction.REPLY_WINDOW_PASSES, "", None, now)


def _resume(
    case: Case,
    actor: Actor,
    action: EventAction,
    reply: str,
    version: int | None,
    now: datetime | None,
    files: Sequence[CheckedFile] = (),
) -> Case:
    now = now_or(now)
    back_to = case.status_before_pause or CaseStatus.IN_PROGRESS
    math = deadlines.deadline_math()

    def effects() -> None:
        _end_pause(case, now, math)
        case.status_before_pause = None

    outcome = lifecycle.apply_action(
        case,
        action,
        actor,
        now,
        expected_version=version,
        to_status=back_to,
        public_text=reply,
        effects=effects,
    )
    if action is EventAction.CITIZEN_REPLIES:
        staff_notices.citizen_answered(case, outcome.event, actor)
    _commit_with_files(case, files, outcome.event, actor, now, public=False)
    return case


@one_transaction
def resolve_case(
    case: Case,
    actor: Actor,
    answer: str,
    *,
    version: int | None,
    decision: PetitionDecision | None = None,
    files: Sequence[CheckedFile] = (),
    now: datetime | None = None,
) -> Case:
    """Give the answer (办结), with photos the citizen sees if any; a petition's answer
    is a written decision."""
    now = now_or(now)
    answer = required_text(answer, "answer")
    if case.kind is CaseKind.PETITION and decision is None:
        raise ValidationFailed(
            "a petition needs a decision", {"decision": N_("Choose a decision.")}
        )
    math = deadlines.deadline_math()

    def effects() -> None:
        deadlines.stop_clock(case, Clock.RESOLVE, now)
        _stop_first_response(case, now)
        case.resolved_at = now
        case.public_answer = answer
        case.decision = decision if case.kind is CaseKind.PETITION else None
        deadlines.start_clock(case, Clock.FEEDBACK, now, math)

    outcome = lifecycle.apply_action(
        case,
        EventAction.RESOLVE,
        actor,
        now,
        expected_version=version,
        public_text=answer,
        data={"decision": str(decision)} if decision else {},
        effects=effects,
    )
    notices.notify_citizens(case, outcome.event, "answer", {"answer": answer})
    _commit_with_files(case, files, outcome.event, actor, now, public=True)
    return case


def _commit_with_files(
    case: Case,
    files: Sequence[CheckedFile],
    event: CaseEvent,
    actor: Actor,
    now: datetime,
    *,
    public: bool,
) -> None:
    """Store ``files``, attach them to ``event`` and commit; if anything fails, the
    transaction rolls back and the files written go too."""
    written: list[Path] = []
    try:
        if files:
            written = store_files(files, current_app.config["UPLOAD_DIR"])
            attach_files(
                case,
                files,
                public=public,
                uploaded_by_id=actor.user.id if actor.user else None,
                event_id=event.id,
                now=now,
            )
        lifecycle.commit()
    except Exception:
        db.session.rollback()
        remove_files(written)
        raise
    if files:  # put back a file a failing filing of the same photo removed meanwhile
        store_files(files, current_app.config["UPLOAD_DIR"])


@one_transaction
def record_contact(
    case: Case,
    actor: Actor,
    method: str,
    note: str = "",
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """The handler's first contact with the citizen (call, SMS, visit)."""
    now = now_or(now)
    if method not in CONTACT_METHODS:
        raise ValidationFailed(
            "how was the citizen contacted?",
            {"method": N_("Choose a call, a text message or a visit.")},
        )
    lifecycle.apply_action(
        case,
        EventAction.RECORD_CONTACT,
        actor,
        now,
        expected_version=version,
        internal_text=optional_text(note, "text") or method,
        data={"method": method},
        effects=lambda: _stop_first_response(case, now),
    )
    lifecycle.commit()
    return case


def extension_room(case: Case) -> tuple[Period, int]:
    """The cap's period and how much of it this resolve period has used."""
    cap = deadlines.case_period(case, PolicyTerm.EXTENSION_CAP)
    runs = deadlines.running(case, Clock.RESOLVE)
    used = runs[0].extended_by if runs else 0
    return cap, used


@one_transaction
def request_extension(
    case: Case,
    actor: Actor,
    days: int,
    reason: str,
    *,
    version: int | None,
    now: datetime | None = None,
) -> CaseRequest:
    """Ask for more time before the resolve deadline, within the policy's cap."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    lifecycle.check_action(case, EventAction.REQUEST_EXTENSION, actor, version, now)
    cap, used = extension_room(case)
    if days < 1 or used + days > cap.value:
        raise ValidationFailed(
            "over the cap",
            {"days": Message(N_("Between 1 and %(count)s days."), count=cap.value - used)},
        )
    request = CaseRequest(
        kind=RequestKind.EXTENSION,
        case_status=case.status,
        reason=reason,
        days=days,
        requested_by_id=actor.user.id if actor.user else None,
        requested_at=now,
    )
    lifecycle.apply_action(
        case,
        EventAction.REQUEST_EXTENSION,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        data={"days": days, "unit": str(cap.unit)},
        effects=lambda: case.requests.append(request),
    )
    staff_notices.approval_waiting(case, request, actor, now)
    lifecycle.commit()
    return request


def decide_extension(decision: Decision) -> None:
    """An extension: approved, the running resolve deadline moves by the days asked."""
    case, request = decision.case, decision.request
    cap, _used = extension_room(case)
    math = deadlines.deadline_math()

    def extend() -> None:
        for row in deadlines.running(case, Clock.RESOLVE):
            deadlines.extend_clock(row, Period(TimeUnit(cap.unit), request.days or 0), math)

    outcome = lifecycle.apply_decision(decision, data={"days": request.days}, on_approve=extend)
    staff_notices.approval_decided(case, request, decision.actor, decision.now)
    runs = deadlines.running(case, Clock.RESOLVE)
    if decision.approve and runs:
        notices.notify_citizens(
            case, outcome.event, "extension", {"resolve_by": runs[0].due_at.isoformat()}
        )


@one_transaction
def add_note(
    case: Case,
    actor: Actor,
    text: str,
    *,
    public: bool = False,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """An internal note, or a public reply the citizen sees (never edited later)."""
    now = now_or(now)
    text = required_text(text, "text")

    def effects() -> None:
        if public:
            _stop_first_response(case, now)

    lifecycle.apply_action(
        case,
        EventAction.NOTE,
        actor,
        now,
        expected_version=version,
        public_text=text if public else "",
        internal_text="" if public else text,
        effects=effects,
    )
    lifecycle.commit()
    return case


@one_transaction
def add_information(case: Case, actor: Actor, text: str, now: datetime | None = None) -> Case:
    """The citizen adds information to an open case."""
    now = now_or(now)
    outcome = lifecycle.apply_action(
        case,
        EventAction.ADD_INFORMATION,
        actor,
        now,
        expected_version=None,
        public_text=required_text(text, "text"),
    )
    staff_notices.citizen_answered(case, outcome.event, actor)
    lifecycle.commit()
    return case
