"""The case lifecycle as a Hypothesis state machine, driven through the services
(issues 16 and 20).

Each sequence files one or two cases on a day drawn around the year boundaries, Spring
Festival and National Day (late December 2025 and 2026, January and February 2026 and
2027, late September 2026), then takes up to ``MAX_STEPS`` steps: the clock moves forward
by minutes to weeks (across weekends, holidays and into 2027, which the calendar package
does not know), and one lifecycle action of DESIGN §3 is tried by one actor — the
citizen, intake, supervisors, the handlers and leads of the holding department and of
others, the responsible leader, the sweep — often the one the table names and as often
anybody. A review asked for joins the sequence as a case of its own.

After every step:

- no action raised anything but a domain error (``services.errors``);
- the action was done exactly when the page offered it: done ⇒ offered on the staff page
  (``lifecycle.offered_actions``); refused as not allowed ⇒ not offered there, nor on the
  citizen's page (``services.access.citizen.offered_actions``);
- every change of status is a row of the lifecycle table, and replaying a case's events
  gives its status, its next deadline and its department; a case without a new event did
  not change;
- a running clock's deadline moved only by the end of a pause, an approved extension or a
  recomputation, and a clock started only by the events DESIGN §4 names (``STARTS``);
- a worked case (new … awaiting the citizen) that was accepted has exactly one resolve
  clock, running or paused; a finished one (closed, withdrawn, rejected) has no running
  clock at all; a dispatched case has a department and an acceptance, one in progress a
  handler too; one awaiting the citizen is paused; no clock runs twice, and the next
  deadline is the earliest running one;
- every ledger item linked to the sequence's cases has the status its cases and its
  events imply (``ledgers.expected_item_state``, write-offs and reopenings by hand too);
- whoever acted on a case may see it.

At the end of each sequence: every staff account sees exactly the cases the visibility
rule (DESIGN §8, written out again here case by case) lets it see, and no Open311 GET —
by id, by dates, JSON or XML — shows a petition, a report or anybody's name or phone.

Sequences per database: ``CASEAPP_LIFECYCLE_EXAMPLES`` (default 200, in four parts with
seeds of their own, so CI repeats itself and a failure replays); ``CASEAPP_LIFECYCLE_RANDOM=1`` for fresh ones,
``CASEAPP_LIFECYCLE_SHRINK=0`` to see a failure as it ran, ``CASEAPP_LIFECYCLE_LOG=F``
to write every sequence down.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import current_app
from hypothesis import HealthCheck, Phase, event, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from caseapp.extensions import db
from caseapp.models import (
    Case,
    CaseClock,
    CaseEvent,
    CaseParticipant,
    Department,
    Ledger,
    LedgerItem,
    LedgerItemCase,
    User,
)
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    WORKED_STATUSES,
    CaseKind,
    CaseStatus,
    Clock,
    EventAction,
    PetitionDecision,
    RequestKind,
    RequestStatus,
    Role,
    Satisfaction,
)
from caseapp.services.access import citizen as citizen_side
from caseapp.services.access.accounts import create_user
from caseapp.services.access.staff import case_for_staff
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, decisions, intake, supervision, sweep
from caseapp.services.casework import handling as casework
from caseapp.services.casework import lifecycle as lifecycle_service
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError, NotAllowed, NotFound
from caseapp.services.ledgers import items as ledgers
from caseapp.web.open311 import PREFIX as OPEN311_PREFIX
from caseapp.workflow import lifecycle
from caseapp.workflow.citizen_access import CitizenAction
from caseapp.workflow.visibility import visible_cases
from tests.factories import legacy_ledger, new_case

pytestmark = [
    pytest.mark.usefixtures("app_ctx", "demo_base"),
    pytest.mark.long,
]

TZ = ZoneInfo("Asia/Shanghai")
EXAMPLES = int(os.environ.get("CASEAPP_LIFECYCLE_EXAMPLES", "200"))
RANDOM = os.environ.get("CASEAPP_LIFECYCLE_RANDOM") == "1"
# A file to append every walk to (what was tried, done and refused), to see how deep they go.
WALK_LOG = os.environ.get("CASEAPP_LIFECYCLE_LOG")
MAX_STEPS = 30
# The sequences run in parts (each from a seed of its own: CI repeats itself, and a
# failure replays) so that the suite's two workers share them.
SHARDS = 4
SEED = 20_261_205
PHASES = (
    [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("CASEAPP_LIFECYCLE_SHRINK") == "0"
    else list(Phase)
)
UNSATISFIED = Satisfaction.UNSATISFIED

S = CaseStatus
FINISHED = frozenset({S.CLOSED, S.WITHDRAWN, S.REJECTED})

# Days around which the walks start: the year boundaries and Spring Festival (2026-02-17;
# 2027-02-06, a year the calendar package does not know: Monday–Friday fallback).
ANCHORS = [
    datetime(2025, 12, 22, tzinfo=TZ),
    datetime(2026, 1, 26, tzinfo=TZ),
    datetime(2026, 2, 9, tzinfo=TZ),
    datetime(2026, 9, 24, tzinfo=TZ),  # Mid-Autumn and National Day
    datetime(2026, 12, 21, tzinfo=TZ),
    datetime(2027, 1, 25, tzinfo=TZ),
]
# (kind, category): a quick repair, a consultation, a complaint, praise and a petition.
MATTERS = [
    (CaseKind.HELP, "road-damage"),
    (CaseKind.CONSULTATION, "veterans"),
    (CaseKind.COMPLAINT, "sanitation"),
    (CaseKind.PRAISE, "water"),
    (CaseKind.PETITION, "petition"),
]
# Mostly short waits (work goes on within hours), now and then days or weeks: past
# weekends, holidays, deadlines, the feedback and reply windows, the 30 days to reopen.
SHORT = [timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=3), timedelta(hours=16)]
LONG = [timedelta(days=n) for n in (1, 2, 3, 6, 11, 17, 33)]
STEPS = SHORT * 4 + LONG
DEPARTMENTS = ["zjj", "cgj", "yhq", "yhq-bc", "xfj"]

# Staff made once for the walks, so that every department a case can reach has a handler
# and a lead, and a second lead and supervisor can decide what the first asked for.
EXTRA_STAFF = [
    ("lead-zjj-2", "住建局副局长", (Role.LEAD,), "zjj"),
    ("lead-cgj", "城管局负责人", (Role.LEAD,), "cgj"),
    ("handler-yhq", "盐湖区承办人", (Role.HANDLER,), "yhq"),
    ("lead-yhq", "盐湖区负责人", (Role.LEAD,), "yhq"),
    ("handler-yhq-bc", "北城街道承办人", (Role.HANDLER,), "yhq-bc"),
    ("lead-yhq-bc", "北城街道负责人", (Role.LEAD,), "yhq-bc"),
    ("handler-xfj", "信访局承办人", (Role.HANDLER,), "xfj"),
    ("lead-xfj", "信访局负责人", (Role.LEAD,), "xfj"),
    ("supervisor-2", "督办二", (Role.SUPERVISOR,), "zfbgs"),
]
ROLES = [
    "citizen",
    "intake",
    "supervisor",
    "supervisor-2",
    "dept-handler",
    "dept-lead",
    "dept-lead-2",
    "other-handler",
    "leader",
    "system",
]

# The tables a walk writes; emptied before each walk (the base stays).
WALK_TABLES = [
    "attachments",
    "tracking_codes",
    "outbox",
    "ledger_milestones",
    "ledger_item_events",
    "ledger_item_cases",
    "inbox_messages",
    "case_requests",
    "case_participants",
    "case_milestones",
    "case_followers",
    "case_events",
    "case_clocks",
    "case_assists",
    "api_filings",
    "ledger_items",
    "cases",
    "audit_log",
    "case_number_sequences",
]


@dataclass
class Walk:
    """One sequence: its cases (ids), its clock and what it did (for a failure's report)."""

    now: datetime
    case_ids: list[int] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def tick(self, step: timedelta) -> datetime:
        self.now += step
        return self.now


def _setup_once() -> None:
    for username, name, roles, code in EXTRA_STAFF:
        if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
            create_user(username, "long-enough-pw", name, roles, code)
    if db.session.scalar(sa.select(Ledger.id).where(Ledger.code == "legacy")) is None:
        legacy_ledger()
    db.session.commit()


def _empty_walk_tables() -> None:
    db.session.rollback()
    for name in WALK_TABLES:
        db.session.execute(sa.text(f'DELETE FROM "{name}"'))
    db.session.commit()
    db.session.expunge_all()


@dataclass
class Directory:
    """The staff and departments, read once per test: they do not change during it."""

    user_ids: dict[str, int]
    department_ids: dict[str, int]
    parents: dict[int, int | None]
    # (department id, role) → the usernames with that role there, sorted.
    people: dict[tuple[int, Role], list[str]]

    @classmethod
    def read(cls) -> Directory:
        users = db.session.scalars(sa.select(User)).all()
        people: dict[tuple[int, Role], list[str]] = {}
        for u in sorted(users, key=lambda u: u.username):
            for role in u.roles:
                if u.department_id is not None:
                    people.setdefault((u.department_id, role), []).append(u.username)
        rows = db.session.execute(sa.select(Department.id, Department.code, Department.parent_id))
        departments = list(rows)
        return cls(
            user_ids={u.username: u.id for u in users},
            department_ids={row.code: row.id for row in departments},
            parents={row.id: row.parent_id for row in departments},
            people=people,
        )


DIRECTORY: list[Directory] = []  # the one of the running test


def _directory() -> Directory:
    return DIRECTORY[-1]


def department_id(code: str) -> int:
    return _directory().department_ids[code]


def staff(username: str) -> Actor:
    user = db.session.get(User, _directory().user_ids[username])
    assert user is not None
    return Actor.staff(user)


def _users_of(department: int | None, role: Role) -> list[str]:
    if department is None:
        return []
    return _directory().people.get((department, role), [])


def actor_for(role: str, case: Case) -> Actor:
    """The actor a role names on ``case``: the department roles resolve to the people of
    the department holding it now (or of zjj when none does)."""
    if role == "citizen":
        return Actor.citizen()
    if role == "system":
        return Actor.system()
    if role in ("intake", "supervisor", "supervisor-2", "leader"):
        return staff(role)
    holder = case.lead_department_id or department_id("zjj")
    if role == "dept-handler":
        names = _users_of(holder, Role.HANDLER) or ["handler"]
        return staff(names[0])
    if role in ("dept-lead", "dept-lead-2"):
        names = _users_of(holder, Role.LEAD) or ["lead"]
        return staff(names[min(len(names) - 1, role == "dept-lead-2")])
    assert role == "other-handler"
    return staff("handler2" if holder != department_id("cgj") else "handler")


# --- the actions ---------------------------------------------------------------------------

Draw = Callable[..., object]
Run = Callable[[st.DataObject, Walk, Case, Actor, datetime], object]


def _version(data: st.DataObject, case: Case) -> int | None:
    """Mostly no version; now and then the one shown, or a stale one."""
    choice = data.draw(st.sampled_from(["none"] * 6 + ["current"] * 3 + ["stale"]))
    return {"none": None, "current": case.version, "stale": case.version - 1}[choice]


def _other_case(walk: Walk, case: Case) -> Case | None:
    others = [i for i in walk.case_ids if i != case.id]
    return db.session.get(Case, others[0]) if others else None


def _decision(data: st.DataObject) -> PetitionDecision | None:
    return data.draw(st.sampled_from([*PetitionDecision, PetitionDecision.SUPPORTED, None]))


def _request_review(data: st.DataObject, walk: Walk, case: Case, actor: Actor, now: datetime):  # type: ignore[no-untyped-def]
    review, _key = closing.request_review(case, actor, "对处理意见不服。", now=now)
    walk.case_ids.append(review.id)
    return review


def _merge(data: st.DataObject, walk: Walk, case: Case, actor: Actor, now: datetime):  # type: ignore[no-untyped-def]
    into = _other_case(walk, case)
    if into is None:
        return SKIPPED
    return intake.merge_case(case, actor, into, version=_version(data, case), now=now)


def _link(data: st.DataObject, walk: Walk, case: Case, actor: Actor, now: datetime):  # type: ignore[no-untyped-def]
    item_id = db.session.scalar(
        sa.select(LedgerItemCase.item_id).where(LedgerItemCase.case_id.in_(walk.case_ids))
    )
    if item_id is None:
        return SKIPPED
    return supervision.link_ledger_item(case, actor, item_id, version=None, now=now)


def _hand(data: st.DataObject, walk: Walk, case: Case, actor: Actor, now: datetime):  # type: ignore[no-untyped-def]
    """A supervisor writes an item off, or reopens it, by hand."""
    item = db.session.scalar(
        sa.select(LedgerItem)
        .join(LedgerItemCase, LedgerItemCase.item_id == LedgerItem.id)
        .where(LedgerItemCase.case_id == case.id)
    )
    if item is None or actor.user is None:
        return SKIPPED
    if data.draw(st.booleans()):
        return ledgers.write_off_item(item, actor.user, "督办核实已办结。", now=now)
    return ledgers.reopen_item(item, actor.user, "群众反映仍未解决。", now=now)


def _sign(data: st.DataObject, walk: Walk, case: Case, actor: Actor, now: datetime):  # type: ignore[no-untyped-def]
    """A handler signs for themself; a lead names a handler of the department (mostly)."""
    handlers = _users_of(case.lead_department_id, Role.HANDLER)
    named = None
    lead = actor.user is not None and not actor.user.has_role(Role.HANDLER)
    if lead and handlers and data.draw(st.integers(0, 4)):
        named = db.session.scalar(sa.select(User.id).where(User.username == handlers[0]))
    return casework.sign_for_case(
        case, actor, version=_version(data, case), handler_id=named, now=now
    )


def _forward(data: st.DataObject, walk: Walk, case: Case, actor: Actor, now: datetime):  # type: ignore[no-untyped-def]
    """Mostly to a child of the holding department (a district's street office)."""
    children = [
        code
        for code in DEPARTMENTS
        if case.lead_department_id is not None
        and _directory().parents[department_id(code)] == case.lead_department_id
    ]
    code = data.draw(st.sampled_from(children * 4 + ["cgj"]))
    return casework.forward_case(case, actor, department_id(code), version=None, now=now)


# action name → (the roles the table names, what runs it)
ACTIONS: dict[str, tuple[list[str], Run]] = {
    "dispatch": (
        ["intake", "supervisor"],
        lambda d, w, c, a, now: intake.dispatch_case(
            c, a, department_id(d.draw(st.sampled_from(DEPARTMENTS))),
            version=_version(d, c), now=now,
        ),
    ),
    "answer": (
        ["intake"],
        lambda d, w, c, a, now: intake.answer_directly(
            c, a, "政策答复如下。", version=_version(d, c), now=now
        ),
    ),
    "reject": (
        ["intake"],
        lambda d, w, c, a, now: intake.reject_case(
            c, a, "不属于受理范围。", version=_version(d, c),
            belongs_to="court" if c.kind is CaseKind.PETITION else None, now=now,
        ),
    ),
    "reinstate": (
        ["supervisor"],
        lambda d, w, c, a, now: intake.reinstate_case(c, a, "误驳回。", version=None, now=now),
    ),
    "merge": (["intake", "supervisor"], _merge),
    "forward": (["dept-lead"], _forward),
    "reassign": (
        ["supervisor"],
        lambda d, w, c, a, now: casework.reassign_case(
            c, a, department_id(d.draw(st.sampled_from(DEPARTMENTS))), "职责调整。",
            version=_version(d, c), now=now,
        ),
    ),
    "return": (
        ["dept-handler", "dept-lead"],
        lambda d, w, c, a, now: casework.return_case(c, a, "非本单位职责。", version=None, now=now),
    ),
    "request-return": (
        ["dept-handler", "dept-lead"],
        lambda d, w, c, a, now: casework.request_return(
            c, a, "非本单位职责。", version=None, now=now
        ),
    ),
    "decide-return": (
        ["supervisor", "supervisor-2"],
        lambda d, w, c, a, now: decisions.decide_request(RequestKind.RETURN,
            c, a, d.draw(st.booleans()), "已核实。", version=None, now=now
        ),
    ),
    "sign": (["dept-handler", "dept-handler", "dept-lead"], _sign),
    "ask": (
        ["intake", "dept-handler"],
        lambda d, w, c, a, now: casework.ask_citizen(c, a, "请补充照片。", version=None, now=now),
    ),
    "reply": (
        ["citizen", "intake", "dept-handler"],
        lambda d, w, c, a, now: casework.citizen_replies(
            c, a, "照片已上传。", version=None, now=now
        ),
    ),
    "resolve": (
        ["dept-handler"],
        lambda d, w, c, a, now: casework.resolve_case(
            c, a, "已处理。", version=_version(d, c), decision=_decision(d), now=now
        ),
    ),
    "rate": (
        ["citizen", "citizen", "intake", "supervisor"],
        lambda d, w, c, a, now: closing.rate_case(
            c, a, d.draw(st.booleans()), d.draw(st.sampled_from([*Satisfaction, UNSATISFIED])),
            version=None, now=now,
        ),
    ),
    "decide-redo": (
        ["supervisor", "supervisor-2"],
        lambda d, w, c, a, now: decisions.decide_request(RequestKind.REDO,
            c, a, d.draw(st.booleans()), "已研判。", version=None, now=now
        ),
    ),
    "reopen": (
        ["supervisor"],
        lambda d, w, c, a, now: closing.reopen_case(c, a, "问题复发。", version=None, now=now),
    ),
    "withdraw": (
        ["citizen"],
        lambda d, w, c, a, now: closing.withdraw_case(c, a, "已自行解决。", now=now),
    ),
    "request-review": (["citizen"], _request_review),
    "request-extension": (
        ["dept-handler", "dept-lead"],
        lambda d, w, c, a, now: casework.request_extension(
            c, a, d.draw(st.sampled_from([0, 1, 2, 3, 5, 12])), "需协调。", version=None, now=now
        ),
    ),
    "decide-extension": (
        ["supervisor", "dept-lead", "dept-lead-2"],
        lambda d, w, c, a, now: decisions.decide_request(RequestKind.EXTENSION,
            c, a, d.draw(st.booleans()), "", version=None, now=now
        ),
    ),
    "contact": (
        ["dept-handler"],
        lambda d, w, c, a, now: casework.record_contact(c, a, "call", version=None, now=now),
    ),
    "note": (
        ["dept-handler", "intake", "leader"],
        lambda d, w, c, a, now: casework.add_note(
            c, a, "已联系。", public=d.draw(st.booleans()), version=None, now=now
        ),
    ),
    "information": (
        ["citizen"],
        lambda d, w, c, a, now: casework.add_information(c, a, "补充：在站牌旁。", now=now),
    ),
    "urge": (
        ["supervisor", "leader"],
        lambda d, w, c, a, now: supervision.urge_case(c, a, "请加快办理。", version=None, now=now),
    ),
    "mark-legacy": (
        ["intake", "supervisor"],
        lambda d, w, c, a, now: supervision.mark_legacy(c, a, version=None, now=now),
    ),
    "link-item": (["supervisor", "intake"], _link),
    "item-by-hand": (["supervisor"], _hand),
    "exclude-rating": (
        ["supervisor"],
        lambda d, w, c, a, now: closing.exclude_rating(c, a, "诉求不合理。", version=None, now=now),
    ),
    "sweep": (["system"], lambda d, w, c, a, now: sweep.run_sweep(now)),
}  # fmt: skip


# What is worth trying in each status most of the time (the rest of the time: anything), so
# that walks get deep: signed for, resolved, rated, redone, reviewed.
LIKELY: dict[CaseStatus, list[str]] = {
    S.NEW: ["dispatch", "dispatch", "dispatch", "answer", "reject", "merge", "ask", "mark-legacy"],
    S.DISPATCHED: ["sign", "sign", "sign", "forward", "reassign", "return", "request-return"],
    S.RETURNED: ["dispatch", "dispatch", "answer", "reject", "merge"],
    S.IN_PROGRESS: [
        "resolve",
        "resolve",
        "ask",
        "request-extension",
        "request-extension",
        "contact",
        "reassign",
        "request-return",
    ],
    S.AWAITING_CITIZEN: ["reply", "reply", "sweep", "reassign", "request-extension"],
    S.RESOLVED: ["rate", "rate", "rate", "sweep", "decide-redo", "request-review"],
    S.CLOSED: ["reopen", "request-review", "exclude-rating", "link-item", "item-by-hand"],
    S.REJECTED: ["reinstate", "reinstate", "link-item"],
    S.WITHDRAWN: ["link-item", "note"],
}
SKIPPED = "nothing to do"
# A waiting request makes its decision likely.
DECIDES = {
    RequestKind.EXTENSION: "decide-extension",
    RequestKind.RETURN: "decide-return",
    RequestKind.REDO: "decide-redo",
}


def likely_actions(case: Case) -> list[str]:
    waiting = [DECIDES[r.kind] for r in case.requests if r.status is RequestStatus.PENDING]
    reviewable = case.kind is CaseKind.PETITION and case.status in (S.RESOLVED, S.CLOSED)
    return LIKELY[case.status] + waiting * 4 + ["request-review"] * (3 if reviewable else 0)


# --- what must hold ----------------------------------------------------------------------

A = EventAction
# The walk's actions as the case pages name them (the sweep and a ledger item written off
# by hand are not buttons of a case page).
EVENT_OF: dict[str, EventAction] = {
    "dispatch": A.DISPATCH,
    "answer": A.ANSWER_DIRECTLY,
    "reject": A.REJECT,
    "reinstate": A.REINSTATE,
    "merge": A.MERGE,
    "forward": A.FORWARD,
    "reassign": A.REASSIGN,
    "return": A.RETURN,
    "request-return": A.REQUEST_RETURN,
    "decide-return": A.DECIDE_RETURN,
    "sign": A.SIGN_FOR,
    "ask": A.ASK_CITIZEN,
    "reply": A.CITIZEN_REPLIES,
    "resolve": A.RESOLVE,
    "rate": A.RATE,
    "decide-redo": A.DECIDE_REDO,
    "reopen": A.REOPEN,
    "withdraw": A.WITHDRAW,
    "request-review": A.REQUEST_REVIEW,
    "request-extension": A.REQUEST_EXTENSION,
    "decide-extension": A.DECIDE_EXTENSION,
    "contact": A.RECORD_CONTACT,
    "note": A.NOTE,
    "information": A.ADD_INFORMATION,
    "urge": A.URGE,
    "mark-legacy": A.MARK_LEGACY,
    "link-item": A.LINK_LEDGER_ITEM,
    "exclude-rating": A.EXCLUDE_RATING,
}
# The citizen page's buttons for the same actions (``services.access.citizen``).
CITIZEN_OF: dict[str, CitizenAction] = {
    "reply": CitizenAction.REPLY,
    "rate": CitizenAction.RATE,
    "withdraw": CitizenAction.WITHDRAW,
    "request-review": CitizenAction.REQUEST_REVIEW,
    "information": CitizenAction.ADD_INFORMATION,
}
# What may move the deadline of a clock that runs (DESIGN §4): the end of a pause, an
# approved extension, a recomputation after the calendar changed.
PAUSE_ENDS = "the pause ends"
MOVES_A_DEADLINE = frozenset({PAUSE_ENDS, A.DECIDE_EXTENSION, A.RECOMPUTE_DEADLINES})
# What starts a clock (DESIGN §4's table; a case filed or placed starts its first ones).
STARTS: dict[Clock, frozenset[EventAction]] = {
    # A case that comes back to intake (new) is accepted again: reinstated after a wrong
    # rejection, or answered directly and then redone or reopened.
    Clock.ACCEPT: frozenset({A.SUBMIT, A.REINSTATE, A.RATE, A.DECIDE_REDO, A.REOPEN}),
    Clock.SIGN: frozenset({A.DISPATCH, A.FORWARD, A.REASSIGN}),
    Clock.FIRST_RESPONSE: frozenset({A.SIGN_FOR}),
    Clock.RESOLVE: frozenset({A.DISPATCH, A.RATE, A.DECIDE_REDO, A.REOPEN}),
    Clock.REPLY_WINDOW: frozenset({A.ASK_CITIZEN}),
    Clock.FEEDBACK: frozenset({A.RESOLVE, A.ANSWER_DIRECTLY}),
}
ADDRESSES = itertools.count()
SEES_EVERY_CASE = frozenset({Role.INTAKE, Role.SUPERVISOR})


def check_case(case: Case) -> None:
    """The invariants of one case's clocks and holders (see the module's docstring)."""
    running = deadlines.running(case)
    where = f"{case.number} ({case.status}, {case.kind})"
    kinds = [row.clock for row in running]
    assert len(kinds) == len(set(kinds)), f"{where}: a clock runs twice: {kinds}"
    resolve = [row for row in running if row.clock is Clock.RESOLVE]
    if case.status in WORKED_STATUSES and case.accepted_at is not None:
        assert len(resolve) == 1, f"{where}: accepted, {len(resolve)} resolve clocks"
    if case.status in FINISHED:
        assert running == [], f"{where}: finished with running clocks {kinds}"
    if case.status is S.RESOLVED:
        assert resolve == [], f"{where}: resolved with a running resolve clock"
    if case.status is S.DISPATCHED:
        assert case.lead_department_id is not None, f"{where}: dispatched to no department"
        assert case.accepted_at is not None, f"{where}: dispatched, never accepted"
    if case.status is S.IN_PROGRESS:
        assert case.lead_department_id is not None, f"{where}: in progress, no department"
        assert case.handler_id is not None, f"{where}: in progress, no handler"
        assert case.accepted_at is not None, f"{where}: in progress, never accepted"
    if case.status is S.AWAITING_CITIZEN:
        assert case.paused_at is not None and case.status_before_pause is not None, where
        if case.status_before_pause is S.IN_PROGRESS:
            assert case.lead_department_id is not None, f"{where}: asked, no department"
        paused = [row.clock for row in running if row.paused_at is None]
        assert paused == [Clock.REPLY_WINDOW], f"{where}: running in a pause: {paused}"
    else:
        assert case.paused_at is None, f"{where}: paused outside awaiting the citizen"
        assert all(row.paused_at is None for row in running), f"{where}: a paused clock"
    active = [row.due_at for row in running if row.paused_at is None]
    assert case.next_deadline_at == min(active, default=None), f"{where}: next deadline"


def events_of(case_id: int, after: int = 0) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.id > after)
            .order_by(CaseEvent.id)
        )
    )


def check_replay(case: Case) -> None:
    """Replaying the case's events gives its status, its next deadline and its holder; each
    change of status is a row of the lifecycle table."""
    where = f"{case.number} ({case.kind})"
    events = events_of(case.id)
    assert events and events[0].action is A.SUBMIT, f"{where}: no submit event first"
    status: CaseStatus | None = None
    for step in events:
        if step.to_status is None:
            continue
        if status is not None:
            assert step.from_status is status, (
                f"{where}: event {step.action} from {step.from_status}, the case was {status}"
            )
        if step.action is not A.SUBMIT:
            assert step.from_status is not None
            targets = {
                step.from_status if target is lifecycle.UNCHANGED else target
                for rule in lifecycle.rules_for(step.action, step.from_status, case.kind)
                for target in rule.targets
            }
            assert step.to_status in targets, (
                f"{where}: {step.action} led {step.from_status} → {step.to_status}, "
                f"the table allows {sorted(targets)}"
            )
        status = step.to_status
    assert status is case.status, f"{where}: the events say {status}, the case is {case.status}"
    last = events[-1]
    assert last.deadline_at == case.next_deadline_at, (
        f"{where}: the last event ({last.action}) says the next deadline is "
        f"{last.deadline_at}, the case {case.next_deadline_at}"
    )
    assert last.department_id == case.lead_department_id, f"{where}: the holder"


def check_ledger_items(case_ids: list[int]) -> None:
    items = db.session.scalars(
        sa.select(LedgerItem)
        .join(LedgerItemCase, LedgerItemCase.item_id == LedgerItem.id)
        .where(LedgerItemCase.case_id.in_(case_ids))
        .distinct()
    ).all()
    for item in items:
        assert item.status is ledgers.expected_item_state(item), (
            f"ledger item {item.id}: {item.status}, its cases say "
            f"{ledgers.expected_item_state(item)}"
        )


@dataclass(frozen=True)
class ClockRow:
    case_id: int
    clock: Clock
    due_at: datetime


def clock_rows(case_ids: list[int]) -> dict[int, ClockRow]:
    rows = db.session.execute(
        sa.select(CaseClock.id, CaseClock.case_id, CaseClock.clock, CaseClock.due_at).where(
            CaseClock.case_id.in_(case_ids)
        )
    )
    return {row.id: ClockRow(row.case_id, row.clock, row.due_at) for row in rows}


def check_deadline_moves(
    before: dict[int, ClockRow], after: dict[int, ClockRow], step_events: list[CaseEvent]
) -> None:
    """A deadline moves only by the events DESIGN §4 names; a clock starts only by them."""
    by_case: dict[int, set[EventAction | str]] = {}
    for happened in step_events:
        if happened.action is A.DECIDE_EXTENSION and not happened.data.get("approved"):
            continue  # a refused extension moves nothing
        done = by_case.setdefault(happened.case_id, set())
        done.add(happened.action)
        if happened.from_status is S.AWAITING_CITIZEN and happened.to_status not in (
            None,
            S.AWAITING_CITIZEN,
        ):
            done.add(PAUSE_ENDS)  # whatever ended it: a reply, the window, a reassignment
    for clock_id, row in after.items():
        done = by_case.get(row.case_id, set())
        old = before.get(clock_id)
        if old is None:
            assert done & STARTS[row.clock], (
                f"case {row.case_id}: a {row.clock} clock started by {sorted(done)}"
            )
        elif old.due_at != row.due_at:
            assert done & MOVES_A_DEADLINE, (
                f"case {row.case_id}: the {row.clock} deadline moved {old.due_at} → "
                f"{row.due_at} by {sorted(done)}"
            )


class Visibility:
    """DESIGN §8 written out case by case, to hold the one SQL predicate to."""

    def __init__(self) -> None:
        parents = dict(db.session.execute(sa.select(Department.id, Department.parent_id)).all())
        self.below: dict[int, set[int]] = {}
        for start in parents:
            found, todo = {start}, [start]
            while todo:
                current = todo.pop()
                children = [d for d, parent in parents.items() if parent == current]
                todo += [d for d in children if d not in found]
                found.update(children)
            self.below[start] = found
        self.staff_ids = list(db.session.scalars(sa.select(User.id).order_by(User.id)))

    def may_see(self, user: User, case: Case, participants: set[int]) -> bool:
        roles = user.roles
        if roles & SEES_EVERY_CASE or user.id in participants:
            return True
        if roles & {Role.HANDLER, Role.LEAD} and user.department_id is not None:
            mine = self.below[user.department_id]
            if case.lead_department_id in mine:
                return True
            if any(assist.department_id in mine for assist in case.assists):
                return True
        return Role.LEADER in roles and case.responsible_leader_id == user.id

    def check(self, cases: list[Case], users: list[User]) -> None:
        ids = [case.id for case in cases]
        taking_part: dict[int, set[int]] = {}
        for case_id, user_id in db.session.execute(
            sa.select(CaseParticipant.case_id, CaseParticipant.user_id).where(
                CaseParticipant.case_id.in_(ids)
            )
        ):
            taking_part.setdefault(case_id, set()).add(user_id)
        for user in users:
            seen = set(db.session.scalars(visible_cases(user).with_only_columns(Case.id).where(
                Case.id.in_(ids)
            )))  # fmt: skip
            expected = {c.id for c in cases if self.may_see(user, c, taking_part.get(c.id, set()))}
            assert seen == expected, (
                f"{user.username} sees cases {sorted(seen)}, the rule says {sorted(expected)}"
            )


def check_open311(cases: list[Case], start: datetime) -> None:
    """No Open311 GET shows a petition or a report, nor anybody's name or phone."""
    db.session.commit()  # the client reads through a session of its own
    client = current_app.test_client()
    # Each sequence reads from an address of its own, under the per-address read limit.
    client.environ_base["REMOTE_ADDR"] = f"10.31.{next(ADDRESSES) % 250}.{start.minute}"
    numbers = ",".join(case.number for case in cases)
    window = {
        "start_date": (start - timedelta(days=1)).isoformat(),
        "end_date": (start + timedelta(days=80)).isoformat(),
    }
    answers = [
        client.get(f"{OPEN311_PREFIX}/requests.json", query_string={"service_request_id": numbers}),
        client.get(f"{OPEN311_PREFIX}/requests.json", query_string=window),
        client.get(f"{OPEN311_PREFIX}/requests.xml", query_string={"service_request_id": numbers}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    public = {case.number for case in cases if case.kind not in CONFIDENTIAL_KINDS}
    listed = {row["service_request_id"] for row in answers[0].get_json()}
    assert listed == public, f"Open311 lists {sorted(listed)}, the public rule {sorted(public)}"
    listed_in_window = {row["service_request_id"] for row in answers[1].get_json()}
    assert listed_in_window <= public, f"Open311 lists {sorted(listed_in_window - public)}"
    for case in cases:
        one = client.get(f"{OPEN311_PREFIX}/requests/{case.number}.json")
        assert one.status_code == (200 if case.number in public else 404), case.number
        answers.append(one)
    personal = {
        value
        for case in cases
        for value in (case.citizen_name, case.citizen_phone, case.citizen_email)
        if value
    }
    for answer in answers:
        text = answer.get_data(as_text=True)
        shown = [value for value in personal if value in text]
        assert not shown, f"Open311 shows personal data {shown}: {answer.request.url}"


def _sees(user: User, number: str) -> bool:
    """Whether ``user`` may open the case page of ``number`` (the one predicate)."""
    try:
        case_for_staff(number, user)
    except NotFound:
        return False
    return True


# --- the machine --------------------------------------------------------------------------


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    anchor = draw(st.sampled_from(ANCHORS))
    return anchor + timedelta(days=draw(st.integers(0, 20)), minutes=draw(st.integers(0, 1439)))


class Workflow(RuleBasedStateMachine):
    """Random sequences of lifecycle actions on one to three cases (a review case joins
    when one is asked for), everything of the module's docstring checked after each."""

    visibility: Visibility  # set by the test, once the staff are in place

    def __init__(self) -> None:
        super().__init__()
        _empty_walk_tables()
        self.walk = Walk(now=ANCHORS[0])
        self.start = self.walk.now
        self.last_event_id = 0
        # The clocks after the last step, each case's status then, and the cases the last
        # step wrote an event on (only those can have changed: checked whole).
        self.clocks: dict[int, ClockRow] = {}
        self.statuses: dict[int, CaseStatus] = {}
        self.touched: set[int] = set()

    @initialize(start=starts(), matters=st.lists(st.sampled_from(MATTERS), min_size=1, max_size=2))
    def file(self, start: datetime, matters: list[tuple[CaseKind, str]]) -> None:
        self.walk.now = self.start = start
        for number, (kind, category) in enumerate(matters):
            case = new_case(
                kind=kind,
                category=category,
                now=self.walk.now,
                citizen_name=["张秀英", "李建国"][number],
                citizen_phone=["13812345678", "13987654321"][number],
            )
            self.walk.case_ids.append(case.id)
            self.walk.log.append(f"{self.walk.now:%Y-%m-%d %H:%M} file {kind} {case.number}")
        self.last_event_id = self._newest_event_id()
        self.clocks = clock_rows(self.walk.case_ids)
        self.touched = set(self.walk.case_ids)

    def _newest_event_id(self) -> int:
        return db.session.scalar(sa.select(sa.func.max(CaseEvent.id))) or 0

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        walk = self.walk
        now = walk.tick(data.draw(st.sampled_from(STEPS), label="wait"))
        case = db.session.get(Case, data.draw(st.sampled_from(walk.case_ids), label="case"))
        assert case is not None
        name = data.draw(
            st.sampled_from(likely_actions(case) * 6 + sorted(ACTIONS)), label="action"
        )
        named, run = ACTIONS[name]
        role = data.draw(st.sampled_from(named * 8 + ROLES), label="role")
        actor = actor_for(role, case)
        offered = set(lifecycle_service.offered_actions(case, actor, now))
        on_citizen_page = (
            CITIZEN_OF.get(name) in citizen_side.offered_actions(case, actor, now)
            if actor.kind == "citizen"
            else None
        )
        number = case.number
        seen_before = actor.user is None or _sees(actor.user, number)
        refused: DomainError | None = None
        try:
            result = run(data, walk, case, actor, now)
            outcome = SKIPPED if result == SKIPPED else "done"
        except DomainError as error:
            db.session.rollback()
            refused = error
            outcome = f"refused: {type(error).__name__} {error.message}"
        except Exception as crash:  # anything but a domain error is a 500 in the app
            walk.log.append(f"{now:%Y-%m-%d %H:%M} {name} by {role} on {number}: CRASH")
            raise AssertionError(
                f"{type(crash).__name__}: {crash}\nthe walk:\n" + "\n".join(walk.log)
            ) from crash
        walk.log.append(f"{now:%Y-%m-%d %H:%M} {name} by {role} on {number}: {outcome}")
        event(f"{name}: {'done' if outcome == 'done' else 'refused'}")
        try:
            self._check_offer(name, offered, on_citizen_page, outcome, refused)
            db.session.expire_all()
            step_events = list(
                db.session.scalars(sa.select(CaseEvent).where(CaseEvent.id > self.last_event_id))
            )
            self.last_event_id = max([self.last_event_id, *(e.id for e in step_events)])
            self.touched = {e.case_id for e in step_events} | (
                set(walk.case_ids) - set(self.statuses)
            )
            if name == "item-by-hand":  # writes the ledger item's events, not the case's
                self.touched.add(case.id)
            after = clock_rows(walk.case_ids)
            check_deadline_moves(self.clocks, after, step_events)
            self.clocks = after
            if outcome == "done" and actor.user is not None and name in EVENT_OF:
                # Whoever may act on a case could open its page when they acted (a
                # return may take it out of their sight afterwards).
                assert seen_before, f"{actor.user.username} acted on {number} unseen"
        except AssertionError as broken:
            raise AssertionError(f"{broken}\nthe walk:\n" + "\n".join(walk.log)) from None

    def _check_offer(
        self,
        name: str,
        offered: set[EventAction],
        on_citizen_page: bool | None,
        outcome: str,
        refused: DomainError | None,
    ) -> None:
        """What the page offered is what the service accepted (or refused for its input:
        a stale version, a text or a department that does not do)."""
        action = EVENT_OF.get(name)
        if action is None or outcome == SKIPPED:
            return
        if outcome == "done":
            assert action in offered, f"{name} was done, the page did not offer it"
        elif isinstance(refused, NotAllowed):
            assert action not in offered, f"{name} was offered, the service refused it"
        if on_citizen_page and isinstance(refused, NotAllowed):
            raise AssertionError(f"the citizen's page offered {name}, the service refused it")

    @invariant()
    def every_case_right(self) -> None:
        if not self.walk.case_ids:
            return
        try:
            for case_id in self.walk.case_ids:
                case = db.session.get(Case, case_id)
                assert case is not None
                if case_id in self.touched:
                    check_case(case)
                    check_replay(case)
                else:  # no event: nothing of it may have changed
                    assert case.status is self.statuses[case_id], f"{case.number}: no event"
                self.statuses[case_id] = case.status
            if self.touched:
                check_ledger_items(self.walk.case_ids)
        except AssertionError as broken:
            raise AssertionError(f"{broken}\nthe walk:\n" + "\n".join(self.walk.log)) from None

    def teardown(self) -> None:
        """At the end of each sequence: every staff member sees exactly what the rule
        lets them, and the Open311 API shows nothing it must not."""
        if self.walk.case_ids:
            try:
                db.session.expire_all()
                cases = [db.session.get(Case, i) for i in self.walk.case_ids]
                assert all(cases)
                staff = db.session.scalars(
                    sa.select(User).where(User.id.in_(self.visibility.staff_ids))
                ).all()
                self.visibility.check(cases, list(staff))  # type: ignore[arg-type]
                check_open311(cases, self.start)  # type: ignore[arg-type]
            except AssertionError as broken:
                raise AssertionError(f"{broken}\nthe walk:\n" + "\n".join(self.walk.log)) from None
        if WALK_LOG:
            with open(WALK_LOG, "a", encoding="utf-8") as out:
                out.write("\n".join(self.walk.log) + "\n\n")


@pytest.mark.parametrize("shard", range(SHARDS))
def test_random_workflows_keep_every_rule(shard: int) -> None:
    """``EXAMPLES`` sequences in ``SHARDS`` parts of their own seeds, which the suite's
    workers share out."""
    _setup_once()
    DIRECTORY[:] = [Directory.read()]
    Workflow.visibility = Visibility()
    machine = Workflow if RANDOM else seed(SEED + shard)(type(f"Workflow{shard}", (Workflow,), {}))
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=-(-EXAMPLES // SHARDS),
            stateful_step_count=MAX_STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            # CASEAPP_LIFECYCLE_SHRINK=0: report the first failing sequence as it ran.
            phases=PHASES,
        ),
    )
