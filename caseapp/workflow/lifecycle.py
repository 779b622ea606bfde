"""The case lifecycle (DESIGN §3) as data: which action may be taken from which status,
to which status, and in which capacity. ``caseapp.services.casework.lifecycle.apply_action`` is
the one function that applies it; nothing else sets a case's status.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    OPEN_STATUSES,
    WORKED_STATUSES,
    CaseKind,
    CaseStatus,
    EventAction,
    Role,
)

S = CaseStatus
A = EventAction


class Capacity(enum.StrEnum):
    """In what capacity someone acts on a particular case."""

    CITIZEN = "citizen"  # the filer, through the private link (or an API client filing)
    FOLLOWER = "follower"  # a citizen who follows the case (workflow.citizen_access)
    PUBLIC = "public"  # any other citizen: may follow a case offered to them
    SYSTEM = "system"  # the sweep
    INTAKE = "intake"  # 受理员
    SUPERVISOR = "supervisor"  # 督办
    LEAD_HANDLER = "lead_handler"  # a handler of the lead department
    LEAD_LEAD = "lead_lead"  # the lead of the lead department
    ASSIST = "assist"  # a handler or lead of an assisting department
    LEADER = "leader"  # the case's responsible leader


C = Capacity
CITIZEN, SYSTEM, INTAKE, SUPERVISOR = C.CITIZEN, C.SYSTEM, C.INTAKE, C.SUPERVISOR
FOLLOWER, PUBLIC = C.FOLLOWER, C.PUBLIC
LEAD_HANDLER, LEAD_LEAD, ASSIST, LEADER = C.LEAD_HANDLER, C.LEAD_LEAD, C.ASSIST, C.LEADER
DEPARTMENT = frozenset({LEAD_HANDLER, LEAD_LEAD})
ANY_STAFF = frozenset({INTAKE, SUPERVISOR, LEAD_HANDLER, LEAD_LEAD, ASSIST, LEADER})

ALL_STATUSES = frozenset(CaseStatus)
OPEN = frozenset(OPEN_STATUSES)
UNCHANGED = None  # a rule's target: the status stays as it is


@dataclass(frozen=True)
class Rule:
    """One row of the lifecycle table."""

    action: EventAction
    from_statuses: frozenset[CaseStatus]
    targets: tuple[CaseStatus | None, ...]  # the first is the default
    who: frozenset[Capacity]
    requires: tuple[str, ...] = ()  # what the action must record
    kinds: frozenset[CaseKind] | None = None  # only for these kinds of case
    except_kinds: frozenset[CaseKind] = frozenset()


def _rule(
    action: EventAction,
    from_statuses: Iterable[CaseStatus],
    targets: CaseStatus | None | tuple[CaseStatus | None, ...],
    who: Iterable[Capacity],
    requires: tuple[str, ...] = (),
    kinds: Iterable[CaseKind] | None = None,
    except_kinds: Iterable[CaseKind] = (),
) -> Rule:
    return Rule(
        action=action,
        from_statuses=frozenset(from_statuses),
        targets=targets if isinstance(targets, tuple) else (targets,),
        who=frozenset(who),
        requires=requires,
        kinds=frozenset(kinds) if kinds is not None else None,
        except_kinds=frozenset(except_kinds),
    )


PETITION = (CaseKind.PETITION,)
# Where a department holds the case.
HELD = (S.DISPATCHED, S.IN_PROGRESS, S.AWAITING_CITIZEN)

RULES: tuple[Rule, ...] = (
    # --- actions that change the status -------------------------------------------------
    # A petition is answered with a written decision (supported / explained / not
    # supported) by the department that handles it, which names the review body; intake
    # does not answer one directly (issue 16: a petition answered directly had no
    # decision and could still be taken to review).
    _rule(
        A.ANSWER_DIRECTLY,
        (S.NEW, S.RETURNED),
        S.RESOLVED,
        {INTAKE},
        ("public_text",),
        except_kinds=PETITION,
    ),
    _rule(A.REJECT, (S.NEW, S.RETURNED), S.REJECTED, {INTAKE}, ("public_text",)),
    _rule(A.REINSTATE, (S.REJECTED,), S.NEW, {SUPERVISOR}, ("reason",)),
    _rule(
        A.MERGE,
        (S.NEW, S.DISPATCHED, S.RETURNED),
        S.CLOSED,
        {INTAKE, SUPERVISOR},
        ("duplicate_of",),
    ),
    _rule(A.DISPATCH, (S.NEW, S.RETURNED), S.DISPATCHED, {INTAKE, SUPERVISOR}, ("department",)),
    # A review (复查) or re-review (复核) case is placed with the review body as it is
    # filed (DESIGN §4): the system dispatches it (closing.request_review).
    _rule(A.DISPATCH, (S.NEW,), S.DISPATCHED, {SYSTEM}, ("department",), kinds=PETITION),
    _rule(A.FORWARD, (S.DISPATCHED,), S.DISPATCHED, {LEAD_LEAD}, ("department",)),
    # Only while a department holds the case: one asked a question at intake, before any
    # dispatch, is refused by casework.reassign_case (the first dispatch is the acceptance).
    _rule(A.REASSIGN, HELD, S.DISPATCHED, {SUPERVISOR}, ("department", "reason")),
    _rule(A.RETURN, (S.DISPATCHED, S.IN_PROGRESS), S.RETURNED, DEPARTMENT, ("reason",)),
    _rule(A.REQUEST_RETURN, (S.DISPATCHED, S.IN_PROGRESS), UNCHANGED, DEPARTMENT, ("reason",)),
    _rule(A.DECIDE_RETURN, (S.DISPATCHED, S.IN_PROGRESS), (S.RETURNED, UNCHANGED), {SUPERVISOR}),
    _rule(A.SIGN_FOR, (S.DISPATCHED,), S.IN_PROGRESS, DEPARTMENT),
    _rule(A.ASK_CITIZEN, (S.NEW,), S.AWAITING_CITIZEN, {INTAKE}, ("public_text",)),
    _rule(A.ASK_CITIZEN, (S.IN_PROGRESS,), S.AWAITING_CITIZEN, {LEAD_HANDLER}, ("public_text",)),
    _rule(
        A.CITIZEN_REPLIES,
        (S.AWAITING_CITIZEN,),
        (S.IN_PROGRESS, S.NEW),
        {CITIZEN, INTAKE, LEAD_HANDLER},
        ("public_text",),
    ),
    _rule(A.REPLY_WINDOW_PASSES, (S.AWAITING_CITIZEN,), (S.IN_PROGRESS, S.NEW), {SYSTEM}),
    _rule(A.RESOLVE, (S.IN_PROGRESS,), S.RESOLVED, {LEAD_HANDLER}, ("public_text",)),
    # A redo (unsatisfied rating, an approved further redo) or a reopen goes back to the
    # department that resolved the case (in_progress), or — for a case answered directly,
    # which no department holds — back to intake (new), to be dispatched or answered
    # again (closing.redo_status).
    _rule(
        A.RATE,
        (S.RESOLVED,),
        (S.CLOSED, S.IN_PROGRESS, S.NEW, UNCHANGED),
        {CITIZEN, INTAKE, SUPERVISOR},
    ),
    _rule(A.FEEDBACK_WINDOW_PASSES, (S.RESOLVED,), S.CLOSED, {SYSTEM}),
    _rule(A.REOPEN, (S.CLOSED,), (S.IN_PROGRESS, S.NEW), {SUPERVISOR}, ("reason",)),
    _rule(A.WITHDRAW, WORKED_STATUSES, S.WITHDRAWN, {CITIZEN}, ("reason",)),
    _rule(A.DECIDE_REDO, (S.RESOLVED,), (S.IN_PROGRESS, S.CLOSED, S.NEW), {SUPERVISOR}),
    # --- actions that write an event and leave the status ---------------------------------
    _rule(A.REQUEST_REVIEW, (S.RESOLVED, S.CLOSED), UNCHANGED, {CITIZEN}, kinds=PETITION),
    _rule(A.NOTE, ALL_STATUSES, UNCHANGED, ANY_STAFF, ("text",)),
    _rule(A.ADD_INFORMATION, OPEN, UNCHANGED, {CITIZEN}, ("public_text",)),
    _rule(A.RECORD_CONTACT, (S.IN_PROGRESS,), UNCHANGED, {LEAD_HANDLER}, ("internal_text",)),
    _rule(
        A.REQUEST_EXTENSION, (S.IN_PROGRESS, S.AWAITING_CITIZEN), UNCHANGED, DEPARTMENT, ("reason",)
    ),
    _rule(
        A.DECIDE_EXTENSION,
        (S.IN_PROGRESS, S.AWAITING_CITIZEN),
        UNCHANGED,
        {SUPERVISOR},
        except_kinds=PETITION,
    ),
    _rule(
        A.DECIDE_EXTENSION,
        (S.IN_PROGRESS, S.AWAITING_CITIZEN),
        UNCHANGED,
        {LEAD_LEAD},
        kinds=PETITION,
    ),
    _rule(A.URGE, (S.NEW, S.RETURNED, *HELD), UNCHANGED, {SUPERVISOR, LEADER}, ("text",)),
    _rule(A.SET_LEADER, OPEN, UNCHANGED, {SUPERVISOR}),
    _rule(A.SET_CASE_PLAN, OPEN, UNCHANGED, {SUPERVISOR, LEADER}),
    _rule(A.MARK_LEGACY, ALL_STATUSES - {S.WITHDRAWN, S.REJECTED}, UNCHANGED, {INTAKE, SUPERVISOR}),
    _rule(
        A.LINK_LEDGER_ITEM,
        ALL_STATUSES - {S.WITHDRAWN, S.REJECTED},
        UNCHANGED,
        {INTAKE, SUPERVISOR},
    ),
    _rule(
        A.REVEAL_CONTACT,
        ALL_STATUSES,
        UNCHANGED,
        {INTAKE, SUPERVISOR, LEAD_HANDLER, LEAD_LEAD, LEADER},
    ),
    # Petitions and reports are never followed (workflow.citizen_access).
    _rule(A.FOLLOW, WORKED_STATUSES, UNCHANGED, {PUBLIC}, except_kinds=CONFIDENTIAL_KINDS),
    _rule(A.UNFOLLOW, ALL_STATUSES, UNCHANGED, {FOLLOWER}),
    _rule(
        A.EXCLUDE_RATING,
        (S.CLOSED, S.IN_PROGRESS, S.RESOLVED),
        UNCHANGED,
        {SUPERVISOR},
        ("reason",),
    ),
    _rule(A.ESCALATE, OPEN, UNCHANGED, {SYSTEM}),
    _rule(A.RECOMPUTE_DEADLINES, OPEN, UNCHANGED, {SYSTEM}),
)

# Who may file a case: the citizen (web, API) or staff taking it for a citizen.
SUBMIT_WHO = frozenset({CITIZEN, INTAKE, SUPERVISOR})

# Actions whose every target is the case's current status, i.e. that only write an event.
EVENT_ONLY = frozenset(rule.action for rule in RULES if rule.targets == (UNCHANGED,)) | {
    A.SUBMIT,
    A.CANCEL_REQUEST,
}


class NoSuchTransition(LookupError):
    """The action cannot be taken from that status (for that kind of case)."""


def rules_for(action: EventAction, status: CaseStatus, kind: CaseKind) -> list[Rule]:
    """The rows of the table that allow ``action`` from ``status`` for ``kind``."""
    return [
        rule
        for rule in RULES
        if rule.action is action
        and status in rule.from_statuses
        and (rule.kinds is None or kind in rule.kinds)
        and kind not in rule.except_kinds
    ]


def who_may(action: EventAction, status: CaseStatus, kind: CaseKind) -> frozenset[Capacity]:
    """Every capacity in which ``action`` may be taken from ``status``."""
    found: frozenset[Capacity] = frozenset()
    for rule in rules_for(action, status, kind):
        found |= rule.who
    return found


def find_rule(
    action: EventAction, status: CaseStatus, kind: CaseKind, capacities: frozenset[Capacity]
) -> Rule | None:
    """The rule that lets someone with ``capacities`` take ``action`` now, if any."""
    for rule in rules_for(action, status, kind):
        if rule.who & capacities:
            return rule
    return None


def target_status(rule: Rule, current: CaseStatus, wanted: CaseStatus | None = None) -> CaseStatus:
    """The status the action leads to: ``wanted`` if the rule allows it, else its default."""
    allowed = [current if t is UNCHANGED else t for t in rule.targets]
    if wanted is None:
        return allowed[0]
    if wanted not in allowed:
        raise NoSuchTransition(f"{rule.action} cannot lead from {current} to {wanted}")
    return wanted


def available_actions(
    status: CaseStatus, kind: CaseKind, capacities: frozenset[Capacity]
) -> list[EventAction]:
    """Actions the table allows someone with ``capacities`` now (before time windows)."""
    seen: dict[EventAction, None] = {}
    for rule in RULES:
        if rule.action not in seen and find_rule(rule.action, status, kind, capacities):
            seen[rule.action] = None
    return list(seen)


@dataclass(frozen=True)
class CaseFacts:
    """What the capacity rule needs to know of a case."""

    lead_department_id: int | None
    assisting_department_ids: frozenset[int]
    responsible_leader_id: int | None


@dataclass(frozen=True)
class StaffFacts:
    """What the capacity rule needs to know of a staff member."""

    user_id: int
    roles: frozenset[Role]
    department_id: int | None


def staff_capacities(staff: StaffFacts, case: CaseFacts) -> frozenset[Capacity]:
    """The capacities a staff member has on a case (DESIGN §3 'who')."""
    found: set[Capacity] = set()
    if Role.INTAKE in staff.roles:
        found.add(INTAKE)
    if Role.SUPERVISOR in staff.roles:
        found.add(SUPERVISOR)
    in_lead = staff.department_id is not None and staff.department_id == case.lead_department_id
    if in_lead and Role.HANDLER in staff.roles:
        found.add(LEAD_HANDLER)
    if in_lead and Role.LEAD in staff.roles:
        found.add(LEAD_LEAD)
    if staff.department_id in case.assisting_department_ids and staff.roles & {
        Role.HANDLER,
        Role.LEAD,
    }:
        found.add(ASSIST)
    if Role.LEADER in staff.roles and case.responsible_leader_id == staff.user_id:
        found.add(LEADER)
    return frozenset(found)
