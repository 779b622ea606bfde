"""Applying the lifecycle table: the one place a case's status is set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseRequest, User
from caseapp.models.enums import CaseStatus, EventAction, RequestKind, RequestStatus
from caseapp.models.types import utcnow
from caseapp.services.casework.clocks import refresh_summary
from caseapp.services.casework.moments import moment_of
from caseapp.services.errors import NotAllowed, StaleVersion, ValidationFailed
from caseapp.services.messages import N_
from caseapp.workflow import lifecycle, offers
from caseapp.workflow.lifecycle import Capacity, CaseFacts, StaffFacts


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member, the citizen who filed the case or one who follows it
    (through their private link), any other citizen, the system, or an API client
    filing for a citizen."""

    kind: str  # "staff", "citizen", "public", "system", "api"
    user: User | None = None
    # For a citizen: which follower acts (None: the original filer).
    follower_id: int | None = None

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls("staff", user)

    @classmethod
    def citizen(cls, follower_id: int | None = None) -> Actor:
        return cls("citizen", None, follower_id)

    @classmethod
    def public(cls) -> Actor:
        """A citizen with no standing on the case (may follow one offered to them)."""
        return cls("public")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def api(cls) -> Actor:
        return cls("api")


def capacities_of(actor: Actor, case: Case) -> frozenset[Capacity]:
    """The capacities in which ``actor`` may act on ``case``."""
    if actor.kind in ("citizen", "api", "public"):
        return capacities_without_case(actor)
    if actor.kind == "system":
        return frozenset({Capacity.SYSTEM})
    assert actor.user is not None
    user = actor.user
    staff = StaffFacts(user.id, user.roles, user.department_id)
    facts = CaseFacts(
        lead_department_id=case.lead_department_id,
        assisting_department_ids=frozenset(a.department_id for a in case.assists),
        responsible_leader_id=case.responsible_leader_id,
    )
    return lifecycle.staff_capacities(staff, facts)


def capacities_without_case(actor: Actor) -> frozenset[Capacity]:
    """Capacities that do not depend on a case (for filing a new one): a citizen's are
    their role on the citizen side (``workflow.citizen_access``)."""
    if actor.kind == "citizen":
        return frozenset({Capacity.FOLLOWER if actor.follower_id else Capacity.CITIZEN})
    if actor.kind == "public":
        return frozenset({Capacity.PUBLIC})
    if actor.kind == "api":
        return frozenset({Capacity.CITIZEN})
    if actor.kind == "system" or actor.user is None:
        return frozenset({Capacity.SYSTEM})
    user = actor.user
    return lifecycle.staff_capacities(
        StaffFacts(user.id, user.roles, user.department_id), CaseFacts(None, frozenset(), None)
    )


@dataclass
class Outcome:
    """What ``apply_action`` did."""

    event: CaseEvent
    from_status: CaseStatus
    to_status: CaseStatus
    capacities: frozenset[Capacity] = field(default_factory=frozenset)


def who_acts(actor: Actor, case: Case) -> offers.Who:
    """``actor`` as ``workflow.offers`` sees them on ``case``."""
    user = actor.user
    return offers.Who(
        capacities=capacities_of(actor, case),
        user_id=user.id if user is not None else None,
        department_id=user.department_id if user is not None else None,
    )


def offered_actions(case: Case, actor: Actor, now: datetime | None = None) -> list[EventAction]:
    """What a page offers ``actor`` on ``case`` now: exactly what ``check_action`` passes."""
    return offers.offered(moment_of(case, now or utcnow()), who_acts(actor, case))


def check_action(
    case: Case,
    action: EventAction,
    actor: Actor,
    expected_version: int | None,
    now: datetime | None = None,
) -> tuple[lifecycle.Rule, frozenset[Capacity]]:
    """Refuse an action the table does not allow this actor, or the moment does not
    (``workflow.offers``: a request to decide, a window), with its reason; or a stale
    version."""
    # The version first: someone acting on what they saw gets "it changed, reload"
    # rather than a refusal that only the change explains.
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion(f"{case.number} is at version {case.version}, not {expected_version}")
    who = who_acts(actor, case)
    rule = lifecycle.find_rule(action, case.status, case.kind, who.capacities)
    if rule is None:
        raise NotAllowed(
            f"{action} is not allowed on {case.number} ({case.status}) for {actor.kind}"
        )
    if action in offers.CONDITIONS:
        moment = moment_of(case, now or utcnow(), (action,))
        reason = offers.condition_refusal(action, moment, who)
        if reason is not None:
            raise NotAllowed(reason, reason=reason)
    return rule, who.capacities


def apply_action(
    case: Case,
    action: EventAction,
    actor: Actor,
    now: datetime,
    *,
    expected_version: int | None,
    to_status: CaseStatus | None = None,
    public_text: str = "",
    internal_text: str = "",
    data: dict[str, Any] | None = None,
    effects: Callable[[], None] | None = None,
) -> Outcome:
    """Check the actor's right and the version, set the status, run the action's
    ``effects`` (clocks, assignments), cancel requests that no longer apply, and write
    the one event. The caller commits (see ``commit``)."""
    rule, capacities = check_action(case, action, actor, expected_version, now)
    for required in rule.requires:
        if required in ("public_text", "text") and not (public_text or internal_text).strip():
            raise ValidationFailed(
                f"{action} needs a text", {"text": N_("This field is required.")}
            )
    try:
        target = lifecycle.target_status(rule, case.status, to_status)
    except lifecycle.NoSuchTransition as exc:
        raise NotAllowed(str(exc)) from exc
    from_status = case.status
    with db.session.no_autoflush:
        case.status = target
        if effects is not None:
            effects()
        if target is not from_status:
            _cancel_requests_left_behind(case, from_status, actor, now)
        refresh_summary(case)
        case.updated_at = now
        # Always write the case row, even when nothing in it changed (the same instant,
        # an event-only action): the UPDATE is what checks and bumps the version.
        flag_modified(case, "updated_at")
        event = record_event(
            case,
            action,
            actor,
            now,
            from_status=from_status,
            to_status=target,
            public_text=public_text,
            internal_text=internal_text,
            data=data,
        )
    # Write now: the UPDATE checks the version, so a concurrent change shows here.
    _flush_or_stale()
    return Outcome(event, from_status, target, capacities)


def record_event(
    case: Case,
    action: EventAction,
    actor: Actor,
    now: datetime,
    *,
    from_status: CaseStatus | None = None,
    to_status: CaseStatus | None = None,
    public_text: str = "",
    internal_text: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append an event with the snapshot of what is in force now."""
    event = CaseEvent(
        case=case,
        at=now,
        action=action,
        actor_id=actor.user.id if actor.user else None,
        actor_kind=actor.kind,
        from_status=from_status,
        to_status=to_status,
        public=bool(public_text),
        public_text=public_text,
        internal_text=internal_text,
        data=data or {},
        department_id=case.lead_department_id,
        handler_id=case.handler_id,
        category_id=case.category_id,
        deadline_at=case.next_deadline_at,
        case_version=case.version,
    )
    db.session.add(event)
    return event


def _cancel_requests_left_behind(
    case: Case, from_status: CaseStatus, actor: Actor, now: datetime
) -> None:
    """Pending requests made in a status the case has left are cancelled, with an event."""
    for request in case.requests:
        if request.status is RequestStatus.PENDING and request.case_status is from_status:
            request.status = RequestStatus.CANCELLED
            request.decided_at = now
            request.decision_note = "cancelled: the case left the status it was made in"
            record_event(
                case,
                EventAction.CANCEL_REQUEST,
                actor,
                now,
                data={"request_id": request.id, "kind": str(request.kind)},
            )


def settle_request(
    request: CaseRequest, actor: Actor, approve: bool, note: str, now: datetime
) -> None:
    """Record a decision on a waiting request (extension, late return, further redo)."""
    request.status = RequestStatus.APPROVED if approve else RequestStatus.DENIED
    request.decided_by_id = actor.user.id if actor.user else None
    request.decided_at = now
    request.decision_note = note


def decides_own_request(request: CaseRequest, actor: Actor) -> bool:
    """Whether ``actor`` made ``request``: nobody decides their own request (DESIGN §4) —
    a lead who asked for a petition's extension, a supervisor who is also a department's
    lead asking for a return, a supervisor who recorded the rating that asks for a
    further redo."""
    return actor.user is not None and request.requested_by_id == actor.user.id


def check_not_own_request(request: CaseRequest, actor: Actor) -> None:
    """Refuse a decision on a request the actor made."""
    if decides_own_request(request, actor):
        raise NotAllowed("nobody decides their own request; someone else decides it")


# The action that decides each kind of waiting request.
DECIDED_BY = {
    RequestKind.EXTENSION: EventAction.DECIDE_EXTENSION,
    RequestKind.RETURN: EventAction.DECIDE_RETURN,
    RequestKind.REDO: EventAction.DECIDE_REDO,
}


def pending_request(case: Case, kind: Any) -> CaseRequest | None:
    return next(
        (r for r in case.requests if r.kind is kind and r.status is RequestStatus.PENDING), None
    )


def request_to_decide(
    case: Case, kind: RequestKind, actor: Actor, version: int | None
) -> CaseRequest:
    """The waiting request of ``kind`` that ``actor`` is about to decide, after the
    checks every decision passes: the table allows the deciding action, a request is
    waiting, and it is not the actor's own."""
    check_action(case, DECIDED_BY[kind], actor, version)
    request = pending_request(case, kind)
    assert request is not None  # the deciding action's condition: one is waiting
    return request


@dataclass(frozen=True)
class Decision:
    """A decision being taken on a waiting request (see ``decisions.decide_request``)."""

    case: Case
    request: CaseRequest
    actor: Actor
    approve: bool
    note: str
    now: datetime
    version: int | None


def apply_decision(
    decision: Decision,
    *,
    to_status: CaseStatus | None = None,
    data: dict[str, Any] | None = None,
    on_approve: Callable[[], None] | None = None,
    on_deny: Callable[[], None] | None = None,
) -> Outcome:
    """Settle the request, run what approving or denying it does, and write the
    deciding event (``approved`` and ``data``, the note as its internal text). The
    caller commits."""
    d = decision

    def effects() -> None:
        settle_request(d.request, d.actor, d.approve, d.note, d.now)
        then = on_approve if d.approve else on_deny
        if then is not None:
            then()

    return apply_action(
        d.case,
        DECIDED_BY[d.request.kind],
        d.actor,
        d.now,
        expected_version=d.version,
        to_status=to_status,
        internal_text=d.note,
        data={"approved": d.approve, **(data or {})},
        effects=effects,
    )


def _flush_or_stale() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        db.session.rollback()
        raise StaleVersion("the case was changed by someone else") from exc


def commit() -> None:
    """Commit the action's transaction; a concurrent change of the case is a StaleVersion."""
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise StaleVersion("the case was changed by someone else") from exc
