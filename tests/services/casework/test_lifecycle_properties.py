"""Random walks of the case lifecycle through the services (issue 16).

Hypothesis builds sequences of lifecycle actions — every action of DESIGN §3, taken by
every kind of actor (the citizen, intake, supervisors, the handlers and leads of the
holding department and of others, the responsible leader, the system's sweep), often the
one the table names and as often anybody — on one or two cases filed on a day drawn
around the year boundaries and Spring Festival (late December 2025 and 2026, January and
February 2026 and 2027), with the clock moved forward between steps by minutes to weeks,
across weekends, holidays and into 2027 (which the calendar package does not know).
After every step, for every case of the walk:

- no action raised anything but a domain error (``services.errors``);
- a worked case (new … awaiting the citizen) that was accepted has exactly one resolve
  clock, running or paused; a finished one (closed, withdrawn, rejected) has no running
  clock at all;
- a dispatched case has a department and an acceptance; a case in progress a department,
  a handler and an acceptance; a case awaiting the citizen is paused, and one asked from
  in progress is still held by its department;
- no clock runs twice, and the case's next deadline is its earliest running one;
- every ledger item linked to the walk's cases has the status its linked cases and its
  events imply (``ledgers.expected_item_state``).

Sequences per database: ``CASEAPP_LIFECYCLE_EXAMPLES`` (default 200); derandomized, so
CI repeats itself and a failure replays; ``CASEAPP_LIFECYCLE_RANDOM=1`` for fresh walks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from caseapp.extensions import db
from caseapp.models import Case, Ledger, LedgerItem, LedgerItemCase, User
from caseapp.models.enums import (
    WORKED_STATUSES,
    CaseKind,
    CaseStatus,
    Clock,
    PetitionDecision,
    RequestKind,
    RequestStatus,
    Role,
    Satisfaction,
)
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, decisions, intake, supervision, sweep
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError
from caseapp.services.ledgers import items as ledgers
from tests.factories import department, legacy_ledger, new_case, staff

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
EXAMPLES = int(os.environ.get("CASEAPP_LIFECYCLE_EXAMPLES", "200"))
RANDOM = os.environ.get("CASEAPP_LIFECYCLE_RANDOM") == "1"
# A file to append every walk to (what was tried, done and refused), to see how deep they go.
WALK_LOG = os.environ.get("CASEAPP_LIFECYCLE_LOG")
MAX_STEPS = 24
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


def _users_of(department_id: int | None, role: Role) -> list[str]:
    if department_id is None:
        return []
    return sorted(
        u.username
        for u in db.session.scalars(sa.select(User).where(User.department_id == department_id))
        if u.has_role(role)
    )


def actor_for(role: str, case: Case) -> Actor:
    """The actor a role names on ``case``: the department roles resolve to the people of
    the department holding it now (or of zjj when none does)."""
    if role == "citizen":
        return Actor.citizen()
    if role == "system":
        return Actor.system()
    if role in ("intake", "supervisor", "supervisor-2", "leader"):
        return staff(role)
    holder = case.lead_department_id or department("zjj").id
    if role == "dept-handler":
        names = _users_of(holder, Role.HANDLER) or ["handler"]
        return staff(names[0])
    if role in ("dept-lead", "dept-lead-2"):
        names = _users_of(holder, Role.LEAD) or ["lead"]
        return staff(names[min(len(names) - 1, role == "dept-lead-2")])
    assert role == "other-handler"
    return staff("handler2" if holder != department("cgj").id else "handler")


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
        and department(code).parent_id == case.lead_department_id
    ]
    code = data.draw(st.sampled_from(children * 4 + ["cgj"]))
    return casework.forward_case(case, actor, department(code).id, version=None, now=now)


# action name → (the roles the table names, what runs it)
ACTIONS: dict[str, tuple[list[str], Run]] = {
    "dispatch": (
        ["intake", "supervisor"],
        lambda d, w, c, a, now: intake.dispatch_case(
            c, a, department(d.draw(st.sampled_from(DEPARTMENTS))).id,
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
            c, a, department(d.draw(st.sampled_from(DEPARTMENTS))).id, "职责调整。",
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


def check_case(case: Case) -> None:
    """The invariants of one case (see the module's docstring)."""
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


def check_walk(walk: Walk) -> None:
    db.session.expire_all()
    for case_id in walk.case_ids:
        case = db.session.get(Case, case_id)
        assert case is not None
        check_case(case)
    items = db.session.scalars(
        sa.select(LedgerItem)
        .join(LedgerItemCase, LedgerItemCase.item_id == LedgerItem.id)
        .where(LedgerItemCase.case_id.in_(walk.case_ids))
        .distinct()
    ).all()
    for item in items:
        assert item.status is ledgers.expected_item_state(item), (
            f"ledger item {item.id}: {item.status}, its cases say "
            f"{ledgers.expected_item_state(item)}"
        )


# --- the walk -----------------------------------------------------------------------------


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    anchor = draw(st.sampled_from(ANCHORS))
    return anchor + timedelta(days=draw(st.integers(0, 20)), minutes=draw(st.integers(0, 1439)))


@pytest.fixture
def walk_world() -> None:
    _setup_once()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), start=starts())
def test_random_walks_keep_every_case_and_clock_right(
    walk_world: None, data: st.DataObject, start: datetime
) -> None:
    _empty_walk_tables()
    walk = Walk(now=start)
    for _ in range(data.draw(st.integers(1, 2), label="cases")):
        kind, category = data.draw(st.sampled_from(MATTERS), label="matter")
        case = new_case(kind=kind, category=category, now=walk.now)
        walk.case_ids.append(case.id)
        walk.log.append(f"{walk.now:%Y-%m-%d %H:%M} file {kind} {case.number}")
    check_walk(walk)
    for _ in range(data.draw(st.integers(4, MAX_STEPS), label="steps")):
        now = walk.tick(data.draw(st.sampled_from(STEPS), label="wait"))
        case_id = data.draw(st.sampled_from(walk.case_ids), label="case")
        case = db.session.get(Case, case_id)
        assert case is not None
        likely = likely_actions(case)
        name = data.draw(st.sampled_from(likely * 6 + sorted(ACTIONS)), label="action")
        named, run = ACTIONS[name]
        role = data.draw(st.sampled_from(named * 8 + ROLES), label="role")
        actor = actor_for(role, case)
        try:
            result = run(data, walk, case, actor, now)
            outcome = SKIPPED if result == SKIPPED else "done"
        except DomainError as refused:
            db.session.rollback()
            outcome = f"refused: {type(refused).__name__} {refused.message}"
        except Exception as crash:  # anything but a domain error is a 500 in the app
            walk.log.append(f"{now:%Y-%m-%d %H:%M} {name} by {role} on {case.number}: CRASH")
            raise AssertionError(
                f"{type(crash).__name__}: {crash}\nthe walk:\n" + "\n".join(walk.log)
            ) from crash
        walk.log.append(f"{now:%Y-%m-%d %H:%M} {name} by {role} on {case.number}: {outcome}")
        event(
            f"{name}: {'done' if outcome == 'done' else 'refused'}"
        )  # --hypothesis-show-statistics
        try:
            check_walk(walk)
        except AssertionError as broken:
            raise AssertionError(f"{broken}\nthe walk:\n" + "\n".join(walk.log)) from None
    if WALK_LOG:
        with open(WALK_LOG, "a", encoding="utf-8") as out:
            out.write("\n".join(walk.log) + "\n\n")
