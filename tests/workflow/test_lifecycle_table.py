"""The lifecycle of DESIGN §3, written out by hand: for each action and status, the roles
that may take it. Every allowed combination is run through the real service on a fresh
case; every other (status, action, role) must be refused by the service layer. Below
that, what a row says beyond status and role: its time windows, what it must record,
and "never the handling department".

The table below is read from DESIGN §3 (and §1, §4, §7, §8 where §3 names an action but
not who takes it), never generated from ``caseapp.workflow.lifecycle.RULES``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseFollower
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    CloseReason,
    EventAction,
    PetitionDecision,
    RequestKind,
    Role,
    Satisfaction,
)
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import closing, decisions, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor, check_action
from caseapp.services.errors import DomainError, NotAllowed
from caseapp.services.filing.cases import NewFollower, follow_case, unfollow_case
from tests.factories import case_in, department, legacy_ledger, new_case, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday; case_in's steps follow a minute apart
NOW = T0 + timedelta(hours=1)  # inside every window a row of the table names
LATE = T0 + timedelta(days=7)  # past the 2-working-day return window (it ends 4 March)
LATER = LATE + timedelta(minutes=1)

S = CaseStatus
A = EventAction
HELP, PETITION = CaseKind.HELP, CaseKind.PETITION
N, RJ, D, RT = S.NEW, S.REJECTED, S.DISPATCHED, S.RETURNED
IP, AC, RS, CL, W = S.IN_PROGRESS, S.AWAITING_CITIZEN, S.RESOLVED, S.CLOSED, S.WITHDRAWN

# citizen: the filer, through the private link; follower: a citizen who follows the
# case; public: any other citizen (DESIGN §7's table); handler and lead: of the lead department
# (zjj); handler2: a handler of cgj, which has nothing to do with the case; leader: the
# case's responsible leader (case_in(..., leader=True)).
ROLES = (
    "citizen",
    "follower",
    "public",
    "system",
    "intake",
    "supervisor",
    "handler",
    "lead",
    "handler2",
    "leader",
    "admin",
)

ALL = tuple(CaseStatus)
OPEN = (N, D, RT, IP, AC, RS)  # not closed, withdrawn or rejected
DEPARTMENT = ("handler", "lead")
# Where the case has a lead department for handler and lead to belong to: case_in reaches
# new, rejected and withdrawn without a dispatch, and a returned case has given its
# department up (DESIGN §3 "return").
WITH_DEPARTMENT = (D, IP, AC, RS, CL)

Table = dict[EventAction, dict[CaseStatus, frozenset[str]]]


def rows(*entries: tuple[Iterable[CaseStatus], Iterable[str]]) -> dict[CaseStatus, frozenset[str]]:
    """{status: roles} from (statuses, roles) pairs; a status named twice gets both."""
    found: dict[CaseStatus, frozenset[str]] = {}
    for statuses, roles in entries:
        for status in statuses:
            found[status] = found.get(status, frozenset()) | frozenset(roles)
    return found


# A help (求助) case built by case_in(status, leader=True).
EXPECTED: Table = {
    # --- DESIGN §3: actions that change the status ------------------------------------
    A.ANSWER_DIRECTLY: rows(((N, RT), ("intake",))),
    A.REJECT: rows(((N, RT), ("intake",))),
    A.REINSTATE: rows(((RJ,), ("supervisor",))),
    A.MERGE: rows(((N, D, RT), ("intake", "supervisor"))),
    A.DISPATCH: rows(((N, RT), ("intake", "supervisor"))),
    A.FORWARD: rows(((D,), ("lead",))),  # the lead of the holding department
    A.REASSIGN: rows(((D, IP, AC), ("supervisor",))),
    A.RETURN: rows(((D, IP), DEPARTMENT)),
    A.REQUEST_RETURN: rows(((D, IP), DEPARTMENT)),
    A.DECIDE_RETURN: rows(((D, IP), ("supervisor",))),
    A.SIGN_FOR: rows(((D,), DEPARTMENT)),  # the handler for self, the lead naming one
    A.ASK_CITIZEN: rows(((N,), ("intake",)), ((IP,), ("handler",))),
    # "citizen, or staff recording a reply by phone": the staff who ask (intake, handler).
    A.CITIZEN_REPLIES: rows(((AC,), ("citizen", "intake", "handler"))),
    A.REPLY_WINDOW_PASSES: rows(((AC,), ("system",))),
    A.RESOLVE: rows(((IP,), ("handler",))),
    A.RATE: rows(((RS,), ("citizen", "intake", "supervisor"))),
    A.FEEDBACK_WINDOW_PASSES: rows(((RS,), ("system",))),
    A.REOPEN: rows(((CL,), ("supervisor",))),
    A.WITHDRAW: rows(((N, D, RT, IP, AC), ("citizen",))),
    A.REQUEST_REVIEW: {},  # petitions only: see PETITION_EXPECTED
    # §3 rules: "after 2 redos the case goes to a supervisor, who decides".
    A.DECIDE_REDO: rows(((RS,), ("supervisor",))),
    # --- DESIGN §3: actions that only write an event ----------------------------------
    # Notes: any staff member with a part in the case, on a case in any status.
    A.NOTE: rows((ALL, ("intake", "supervisor", "leader")), (WITH_DEPARTMENT, DEPARTMENT)),
    # §7: the citizen "can add information at any time while the case is open".
    A.ADD_INFORMATION: rows((OPEN, ("citizen",))),
    # "the handler's first contact with the citizen": once signed for.
    A.RECORD_CONTACT: rows(((IP,), ("handler",))),
    # §1: departments "ask for more time"; §4: while the resolve period runs (or is paused).
    A.REQUEST_EXTENSION: rows(((IP, AC), DEPARTMENT)),
    A.DECIDE_EXTENSION: rows(((IP, AC), ("supervisor",))),  # petitions: see below
    # §1: supervisors and leaders urge; on cases whose intake or department clocks run.
    A.URGE: rows(((N, D, RT, IP, AC), ("supervisor", "leader"))),
    # §8: the supervisor view sets a responsible leader and a case plan; §1: leaders share
    # that view, and the case plan (一案一策) is the responsible leader's work too.
    A.SET_LEADER: rows((OPEN, ("supervisor",))),
    A.SET_CASE_PLAN: rows((OPEN, ("supervisor", "leader"))),
    # Not for a case that never became a matter (rejected) or was withdrawn.
    A.MARK_LEGACY: rows(((N, D, RT, IP, AC, RS, CL), ("intake", "supervisor"))),
    # §8: the case page masks name and phone "until revealed"; for a help case everyone
    # who works on the case may reveal them (petitions and reports: see below).
    A.REVEAL_CONTACT: rows(
        (ALL, ("intake", "supervisor", "leader")), (WITH_DEPARTMENT, DEPARTMENT)
    ),
    # "a citizen joins an open case": one still being worked. A resolved case waits for
    # its filer's rating, and the duplicates the form offers are of cases being worked.
    A.FOLLOW: rows(((N, D, RT, IP, AC), ("public",))),
    # §7: a follower may "stop following", whatever the case's status.
    A.UNFOLLOW: rows((ALL, ("follower",))),
    # "甄别 of an unjustified unsatisfied rating": wherever a case carries one.
    A.EXCLUDE_RATING: rows(((IP, RS, CL), ("supervisor",))),
}

# A petition (信访) built the same way, for the actions whose answer depends on the kind.
PETITION_EXPECTED: Table = {
    # "petitions: written decision" (resolve): intake does not answer a petition directly,
    # which would leave it without a decision to review (issue 16, finding 2).
    A.ANSWER_DIRECTLY: {},
    # A review (复查) or re-review (复核) case "is placed with the review body" (§4): the
    # system dispatches it as it is filed.
    A.DISPATCH: rows(((N, RT), ("intake", "supervisor")), ((N,), ("system",))),
    # "resolved or closed petition, within 30 days of its decision".
    A.REQUEST_REVIEW: rows(((RS, CL), ("citizen",))),
    A.DECIDE_EXTENSION: rows(((IP, AC), ("lead",))),  # "for petitions the department's lead"
    # §8: "only intake and supervisors can reveal" a petitioner's identity.
    A.REVEAL_CONTACT: rows((ALL, ("intake", "supervisor"))),
    # §7: "Petitions, reports (举报) and cases whose identity is confidential are never
    # offered to follow."
    A.FOLLOW: {},
}

# Where a status's row sends the case (None: it stays where it was).
TO: dict[EventAction, CaseStatus | None] = {
    A.ANSWER_DIRECTLY: RS,
    A.REJECT: RJ,
    A.REINSTATE: N,
    A.MERGE: CL,
    A.DISPATCH: D,
    A.FORWARD: D,
    A.REASSIGN: D,
    A.RETURN: RT,
    A.DECIDE_RETURN: RT,  # approved
    A.SIGN_FOR: IP,
    A.ASK_CITIZEN: AC,
    A.CITIZEN_REPLIES: IP,  # case_in asks from in_progress
    A.REPLY_WINDOW_PASSES: IP,
    A.RESOLVE: RS,
    A.RATE: CL,  # satisfied
    A.FEEDBACK_WINDOW_PASSES: CL,
    A.REOPEN: IP,
    A.WITHDRAW: W,
    A.DECIDE_REDO: IP,  # approved
}

# Combinations where the code and this reading of DESIGN part ways on a point DESIGN does
# not settle in so many words; see each reason.
DISPUTED: dict[tuple[EventAction, CaseStatus, str, CaseKind], str] = {}


FOLLOWER_ID = 1  # a follower row made by ``prepare`` where an action needs one


def actor_for(role: str) -> Actor:
    if role == "citizen":
        return Actor.citizen()
    if role == "follower":
        return Actor.citizen(follower_id=FOLLOWER_ID)
    if role == "public":
        return Actor.public()
    if role == "system":
        return Actor.system()
    return staff(role)


# --- building cases ----------------------------------------------------------------------


class Steps:
    """Times a minute apart after case_in's own steps, for preparing a case."""

    def __init__(self) -> None:
        self._minutes = itertools.count(20)

    def __call__(self) -> datetime:
        return T0 + timedelta(minutes=next(self._minutes))


def fresh(status: CaseStatus, kind: CaseKind = HELP, **fields: object) -> Case:
    return case_in(status, kind=kind, leader=True, now=T0, **fields)


def rate_unsatisfied(case: Case, at: datetime) -> None:
    closing.rate_case(case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None, now=at)


def resolve(case: Case, at: datetime) -> None:
    decision = PetitionDecision.SUPPORTED if case.kind is PETITION else None
    casework.resolve_case(
        case, staff("handler"), "已再次处理。", version=None, decision=decision, now=at
    )


def awaiting_redo_decision(kind: CaseKind, step: Steps) -> Case:
    """Resolved, rated unsatisfied a third time: past 2 redos a supervisor decides."""
    case = fresh(RS, kind)
    for _ in range(2):
        rate_unsatisfied(case, step())
        resolve(case, step())
    rate_unsatisfied(case, step())
    assert case.status is RS and case.reopen_count == 2
    return case


def with_unsatisfied_rating(status: CaseStatus, kind: CaseKind, step: Steps) -> Case:
    """A case in ``status`` carrying an unsatisfied rating (a redo, or a refused one)."""
    if status is CL:
        case = awaiting_redo_decision(kind, step)
        decisions.decide_request(
            RequestKind.REDO,
            case,
            staff("supervisor"),
            False,
            "不再重办。",
            version=None,
            now=step(),
        )
        return case
    case = fresh(RS, kind)
    rate_unsatisfied(case, step())  # redo: in progress again
    if status is RS:
        resolve(case, step())
    return case


def prepare(action: EventAction, status: CaseStatus, kind: CaseKind) -> Case:
    """A fresh case in ``status`` with what the action needs beyond the table."""
    step = Steps()
    if action is A.FORWARD:
        return fresh(status, kind, lead="yhq")  # a district, with street offices below it
    if action is A.DECIDE_REDO:
        return awaiting_redo_decision(kind, step)
    if action is A.EXCLUDE_RATING:
        return with_unsatisfied_rating(status, kind, step)
    case = fresh(status, kind)
    if action is A.UNFOLLOW:
        case.followers.append(CaseFollower(name="李明", phone="13900001111", created_at=T0))
        db.session.commit()
    if action is A.DECIDE_RETURN:
        casework.request_return(case, staff("handler"), "非本单位职责。", version=None, now=LATE)
    elif action is A.DECIDE_EXTENSION:
        casework.request_extension(case, staff("handler"), 2, "需协调。", version=None, now=NOW)
    elif action is A.MARK_LEGACY:
        legacy_ledger()
    return case


def follower_id(case: Case) -> int:
    return case.followers[0].id


# --- running each action through its service ---------------------------------------------

Run = Callable[[Case, Actor], object]

RUN: dict[EventAction, Run] = {
    A.ANSWER_DIRECTLY: lambda c, a: intake.answer_directly(
        c, a, "政策答复如下。", version=None, now=NOW
    ),
    A.REJECT: lambda c, a: intake.reject_case(c, a, "不属于受理范围。", version=None, now=NOW),
    A.REINSTATE: lambda c, a: intake.reinstate_case(c, a, "误驳回。", version=None, now=NOW),
    A.MERGE: lambda c, a: intake.merge_case(c, a, new_case(now=T0), version=None, now=NOW),
    A.DISPATCH: lambda c, a: intake.dispatch_case(
        c, a, department("cgj").id, version=None, now=NOW
    ),
    A.FORWARD: lambda c, a: casework.forward_case(
        c, a, department("yhq-bc").id, version=None, now=NOW
    ),
    A.REASSIGN: lambda c, a: casework.reassign_case(
        c, a, department("cgj").id, "职责调整。", version=None, now=NOW
    ),
    A.RETURN: lambda c, a: casework.return_case(c, a, "非本单位职责。", version=None, now=NOW),
    A.REQUEST_RETURN: lambda c, a: casework.request_return(
        c, a, "非本单位职责。", version=None, now=LATE
    ),
    A.DECIDE_RETURN: lambda c, a: decisions.decide_request(
        RequestKind.RETURN, c, a, True, "同意退回。", version=None, now=LATER
    ),
    A.SIGN_FOR: lambda c, a: casework.sign_for_case(
        c, a, version=None, handler_id=user("handler").id, now=NOW
    ),
    A.ASK_CITIZEN: lambda c, a: casework.ask_citizen(c, a, "请补充照片。", version=None, now=NOW),
    A.CITIZEN_REPLIES: lambda c, a: casework.citizen_replies(
        c, a, "照片已上传。", version=None, now=NOW
    ),
    A.REPLY_WINDOW_PASSES: lambda c, a: casework.reply_window_passes(c, now=NOW),
    A.RESOLVE: lambda c, a: casework.resolve_case(c, a, "已修复。", version=None, now=NOW),
    A.RATE: lambda c, a: closing.rate_case(
        c, a, True, Satisfaction.SATISFIED, version=None, now=NOW
    ),
    A.FEEDBACK_WINDOW_PASSES: lambda c, a: closing.feedback_window_passes(c, now=NOW),
    A.REOPEN: lambda c, a: closing.reopen_case(c, a, "问题仍未解决。", version=None, now=NOW),
    A.WITHDRAW: lambda c, a: closing.withdraw_case(c, a, "已自行解决。", now=NOW),
    A.REQUEST_REVIEW: lambda c, a: closing.request_review(c, a, "对处理意见不服。", now=NOW),
    A.DECIDE_REDO: lambda c, a: decisions.decide_request(
        RequestKind.REDO, c, a, True, "确有必要。", version=None, now=NOW
    ),
    A.NOTE: lambda c, a: casework.add_note(c, a, "已与街道联系。", version=None, now=NOW),
    A.ADD_INFORMATION: lambda c, a: casework.add_information(c, a, "破损处在站牌旁。", now=NOW),
    A.RECORD_CONTACT: lambda c, a: casework.record_contact(c, a, "call", version=None, now=NOW),
    A.REQUEST_EXTENSION: lambda c, a: casework.request_extension(
        c, a, 2, "需协调施工单位。", version=None, now=NOW
    ),
    A.DECIDE_EXTENSION: lambda c, a: decisions.decide_request(
        RequestKind.EXTENSION, c, a, True, "同意。", version=None, now=NOW + timedelta(minutes=1)
    ),
    A.URGE: lambda c, a: supervision.urge_case(c, a, "请加快办理。", version=None, now=NOW),
    A.SET_LEADER: lambda c, a: supervision.set_responsible_leader(
        c, a, user("leader").id, version=None, now=NOW
    ),
    A.SET_CASE_PLAN: lambda c, a: supervision.set_case_plan(
        c,
        a,
        "一案一策：先勘查，再修复。",
        [supervision.Milestone(NOW.date() + timedelta(days=7), "完成勘查", False)],
        version=None,
        now=NOW,
    ),
    A.MARK_LEGACY: lambda c, a: supervision.mark_legacy(c, a, version=None, now=NOW),
    A.REVEAL_CONTACT: lambda c, a: supervision.reveal_contact(c, a, now=NOW),
    A.FOLLOW: lambda c, a: follow_case(
        c, a, NewFollower("李明", "13900001111"), offered={c.number}, now=NOW
    ),
    A.UNFOLLOW: lambda c, a: unfollow_case(c, Actor.citizen(follower_id(c)), now=NOW),
    A.EXCLUDE_RATING: lambda c, a: closing.exclude_rating(
        c, a, "诉求超出政策范围。", version=None, now=NOW
    ),
}


def allowed_combinations() -> list[object]:
    params = []
    for kind, table in ((HELP, EXPECTED), (PETITION, PETITION_EXPECTED)):
        for action, by_status in table.items():
            for status, roles in by_status.items():
                for role in sorted(roles, key=ROLES.index):
                    name = f"{action}-{status}-{role}" + ("-petition" if kind is PETITION else "")
                    reason = DISPUTED.get((action, status, role, kind))
                    marks = (
                        [pytest.mark.xfail(raises=NotAllowed, strict=True, reason=reason)]
                        if reason
                        else []
                    )
                    params.append(pytest.param(action, status, role, kind, id=name, marks=marks))
    return params


def last_event(case: Case, action: EventAction) -> CaseEvent | None:
    return db.session.scalar(
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == action)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )


def test_the_table_covers_every_status_action_and_role() -> None:
    assert set(RUN) == set(EXPECTED) >= set(PETITION_EXPECTED)
    for table in (EXPECTED, PETITION_EXPECTED):
        for by_status in table.values():
            assert all(set(roles) <= set(ROLES) for roles in by_status.values())


@pytest.mark.parametrize(("action", "status", "role", "kind"), allowed_combinations())
def test_an_allowed_action_runs(
    action: EventAction, status: CaseStatus, role: str, kind: CaseKind
) -> None:
    case = prepare(action, status, kind)
    actor = actor_for(role)
    if action is A.FORWARD:
        # The case is held by the district yhq; "lead" is the lead of the holding department.
        actor = Actor.staff(
            create_user("lead-yhq", "long-enough-pw", "盐湖区负责人", [Role.LEAD], "yhq")
        )
    RUN[action](case, actor)
    db.session.refresh(case)
    assert case.status is (TO.get(action) or status)
    event = last_event(case, action)
    assert event is not None
    assert event.actor_kind == actor.kind
    assert event.actor_id == (actor.user.id if actor.user else None)
    if action is A.REQUEST_REVIEW:
        assert db.session.scalar(sa.select(Case.id).where(Case.review_of_id == case.id))


# --- refusals ----------------------------------------------------------------------------


def refused(case: Case, action: EventAction, role: str) -> bool:
    """Whether the service layer refuses ``role`` taking ``action`` on ``case`` now."""
    actor = actor_for(role)
    try:
        check_action(case, action, actor, None)
    except NotAllowed:
        return True
    if action is A.REVEAL_CONTACT:
        # Confidentiality (DESIGN §8) is checked by the service beyond the table.
        try:
            supervision.reveal_contact(case, actor, now=NOW)
        except NotAllowed:
            return True
    return False


REFUSAL_CASES = [(HELP, status) for status in ALL] + [(PETITION, status) for status in ALL]


@pytest.mark.parametrize(
    ("kind", "status"),
    REFUSAL_CASES,
    ids=[f"{status}" + ("-petition" if kind is PETITION else "") for kind, status in REFUSAL_CASES],
)
def test_everything_else_is_refused(kind: CaseKind, status: CaseStatus) -> None:
    case = fresh(status, kind)
    table = EXPECTED if kind is HELP else PETITION_EXPECTED
    wrongly_allowed = [
        f"{action} by {role}"
        for action, by_status in table.items()
        for role in ROLES
        if role not in by_status.get(status, frozenset()) and not refused(case, action, role)
    ]
    assert case.status is status
    assert not wrongly_allowed, f"allowed on a {kind} case in {status}: " + ", ".join(
        wrongly_allowed
    )


# --- what a row says beyond its status and roles -------------------------------------------


@pytest.mark.parametrize(
    ("role", "action"),
    [
        ("citizen", A.CITIZEN_REPLIES),
        ("intake", A.CITIZEN_REPLIES),
        ("system", A.REPLY_WINDOW_PASSES),
    ],
)
def test_a_reply_returns_the_case_to_the_status_it_was_asked_from(
    role: str, action: EventAction
) -> None:
    case = fresh(N)
    casework.ask_citizen(case, staff("intake"), "请说明具体位置。", version=None, now=NOW)
    assert case.status is AC
    RUN[action](case, actor_for(role))
    assert case.status is N


def _merged() -> Case:
    case = fresh(N)
    intake.merge_case(case, staff("intake"), new_case(now=T0), version=None, now=NOW)
    assert case.close_reason is CloseReason.MERGED
    return case


ROW_CONDITIONS: dict[str, Callable[[], object]] = {
    # "directly within 2 working days of its dispatch"
    "return-after-the-window": lambda: casework.return_case(
        fresh(D), staff("handler"), "非本单位职责。", version=None, now=LATE
    ),
    # "after the 2-working-day window"
    "request_return-within-the-window": lambda: casework.request_return(
        fresh(D), staff("handler"), "非本单位职责。", version=None, now=NOW
    ),
    "decide_return-with-no-request": lambda: decisions.decide_request(
        RequestKind.RETURN, fresh(D), staff("supervisor"), True, version=None, now=NOW
    ),
    "decide_extension-with-no-request": lambda: decisions.decide_request(
        RequestKind.EXTENSION, fresh(IP), staff("supervisor"), True, version=None, now=NOW
    ),
    # "closed (not merged) ... within 30 days of the close"
    "reopen-a-merged-case": lambda: closing.reopen_case(
        _merged(), staff("supervisor"), "重新办理。", version=None, now=NOW
    ),
    "reopen-after-30-days": lambda: closing.reopen_case(
        fresh(CL), staff("supervisor"), "重新办理。", version=None, now=T0 + timedelta(days=31)
    ),
    # "within 30 days of its decision"
    "request_review-after-30-days": lambda: closing.request_review(
        fresh(RS, PETITION), Actor.citizen(), "不服。", now=T0 + timedelta(days=31)
    ),
    # "exclude a rating ... 甄别 of an unjustified unsatisfied rating"; case_in closes
    # with a satisfied one.
    "exclude_rating-of-a-satisfied-rating": lambda: closing.exclude_rating(
        fresh(CL), staff("supervisor"), "不合理。", version=None, now=NOW
    ),
}


@pytest.mark.parametrize("attempt", list(ROW_CONDITIONS.values()), ids=list(ROW_CONDITIONS))
def test_a_row_is_refused_outside_its_conditions(attempt: Callable[[], object]) -> None:
    with pytest.raises(NotAllowed):
        attempt()


MUST_RECORD: dict[str, Callable[[], object]] = {
    # forward: "a child department"
    "forward-to-a-department-that-is-not-a-child": lambda: casework.forward_case(
        fresh(D), staff("lead"), department("cgj").id, version=None, now=NOW
    ),
    # reassign: "another department; reason"
    "reassign-to-the-same-department": lambda: casework.reassign_case(
        fresh(IP), staff("supervisor"), department("zjj").id, "调整。", version=None, now=NOW
    ),
    "reassign-with-no-reason": lambda: casework.reassign_case(
        fresh(IP), staff("supervisor"), department("cgj").id, " ", version=None, now=NOW
    ),
    # decide return: "approve or deny, with note"
    "decide_return-with-no-note": lambda: decisions.decide_request(
        RequestKind.RETURN,
        prepare(A.DECIDE_RETURN, D, HELP),
        staff("supervisor"),
        False,
        "",
        version=None,
        now=LATER,
    ),
}


@pytest.mark.parametrize("attempt", list(MUST_RECORD.values()), ids=list(MUST_RECORD))
def test_a_row_is_refused_without_what_it_must_record(attempt: Callable[[], object]) -> None:
    with pytest.raises(DomainError):
        attempt()


@pytest.mark.parametrize(
    "roles",
    [(Role.INTAKE, Role.HANDLER), (Role.SUPERVISOR, Role.LEAD)],
    ids=["intake-and-handler", "supervisor-and-lead"],
)
def test_the_handling_department_never_rates(roles: tuple[Role, ...]) -> None:
    """rate: "intake/supervisor staff recording a follow-up call (never the handling
    department)" — also when one account holds both roles (DESIGN §8: "a user may hold
    several")."""
    both = create_user("both", "long-enough-pw", "兼职人员", roles, "zjj")
    case = fresh(RS)
    with pytest.raises(NotAllowed):
        RUN[A.RATE](case, Actor.staff(both))
