"""Escalation (DESIGN §4, issue 16 finding 7): who is told per clock and level, and
which level a clock keeps through pauses and extensions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, CaseEvent, InboxMessage, User
from caseapp.models.enums import CaseStatus, Clock, EventAction, RequestKind
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import decisions, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework.sweep import run_sweep
from caseapp.workflow.deadlines import (
    LEVEL_DUE_SOON,
    LEVEL_NONE,
    LEVEL_OVERDUE,
    LEVEL_SUPERVISED,
)
from tests.factories import case_in, department, new_case, staff, user

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)  # no holiday for weeks either side
pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")


def running(case: Case, clock: Clock) -> CaseClock:
    [row] = deadlines.running(case, clock)
    return row


def told(case: Case, clock: Clock, level: int) -> set[str]:
    """Usernames that got the notice of ``clock`` reaching ``level`` on the case."""
    rows = db.session.scalars(
        sa.select(InboxMessage).where(
            InboxMessage.case_id == case.id, InboxMessage.kind == f"escalation_{level}"
        )
    ).all()
    return {
        db.session.get(User, row.user_id).username for row in rows if row.params["clock"] == clock
    }


def escalate_events(case: Case) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == EventAction.ESCALATE)
    )


def when_level(row: CaseClock, level: int) -> datetime:
    """The moment the clock reaches ``level``."""
    math = deadlines.deadline_math()
    return {
        LEVEL_DUE_SOON: math.due_soon_from(row.started_at, row.due_at),
        LEVEL_OVERDUE: row.due_at,
        LEVEL_SUPERVISED: math.supervised_from(row.due_at),
    }[level]


def _dispatched_to_a_named_handler() -> Case:
    case = new_case(now=MONDAY)
    intake.dispatch_case(
        case,
        staff("intake"),
        department("zjj").id,
        handler_id=user("handler").id,
        version=None,
        now=MONDAY + timedelta(minutes=1),
    )
    return case


SCENARIOS: dict[str, tuple[Callable[[], Case], Clock, set[str]]] = {
    # name: (the case, the clock, who is told at levels 1 and 2)
    "accept": (lambda: case_in(CaseStatus.NEW, now=MONDAY), Clock.ACCEPT, {"intake"}),
    "sign, no handler named": (
        lambda: case_in(CaseStatus.DISPATCHED, now=MONDAY),
        Clock.SIGN,
        {"lead"},
    ),
    "sign, handler named": (_dispatched_to_a_named_handler, Clock.SIGN, {"lead", "handler"}),
    "first response": (
        lambda: case_in(CaseStatus.IN_PROGRESS, now=MONDAY),
        Clock.FIRST_RESPONSE,
        {"handler", "lead"},
    ),
    "resolve": (
        lambda: case_in(CaseStatus.IN_PROGRESS, now=MONDAY),
        Clock.RESOLVE,
        {"handler", "lead"},
    ),
    "resolve, returned to intake": (
        lambda: case_in(CaseStatus.RETURNED, now=MONDAY),
        Clock.RESOLVE,
        {"intake"},
    ),
}


@pytest.mark.parametrize("level", [LEVEL_DUE_SOON, LEVEL_OVERDUE, LEVEL_SUPERVISED])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_clock_and_level_reaches_its_people(scenario: str, level: int) -> None:
    make, clock, people = SCENARIOS[scenario]
    case = make()
    supervision.set_responsible_leader(
        case, staff("supervisor"), user("leader").id, version=None, now=MONDAY + timedelta(hours=1)
    )
    row = running(case, clock)
    run_sweep(now=when_level(row, level))
    assert running(case, clock).escalation_level == level
    expected = people | {"supervisor", "leader"} if level == LEVEL_SUPERVISED else people
    assert told(case, clock, level) == expected


def test_a_clock_that_skips_levels_tells_each_person_once_of_the_level_it_reached() -> None:
    case = case_in(CaseStatus.NEW, now=MONDAY)
    run_sweep(now=when_level(running(case, Clock.ACCEPT), LEVEL_OVERDUE))
    assert told(case, Clock.ACCEPT, LEVEL_DUE_SOON) == set()
    assert told(case, Clock.ACCEPT, LEVEL_OVERDUE) == {"intake"}


def test_inactive_intake_clerks_are_not_told() -> None:
    case = case_in(CaseStatus.NEW, now=MONDAY)
    user("intake").active = False
    db.session.commit()
    report = run_sweep(now=when_level(running(case, Clock.ACCEPT), LEVEL_OVERDUE))
    assert report.escalated[LEVEL_OVERDUE] == 1 and report.notices == 0


# --- a level stands while its deadline stands ----------------------------------------------


def test_a_pause_that_does_not_move_the_deadline_keeps_the_level() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    due = running(case, Clock.RESOLVE).due_at
    overdue = due + timedelta(hours=10)  # 10:00 on the first day late
    run_sweep(now=overdue)
    assert running(case, Clock.RESOLVE).escalation_level == LEVEL_OVERDUE
    events = escalate_events(case)
    casework.ask_citizen(case, staff("handler"), "请补充照片。", version=None, now=overdue)
    casework.citizen_replies(
        case, staff("handler"), "电话答复：已补充。", version=None, now=overdue + timedelta(hours=2)
    )
    resolve = running(case, Clock.RESOLVE)
    assert resolve.due_at == due  # no day began during the pause
    assert resolve.escalation_level == LEVEL_OVERDUE
    assert case.escalation_level == LEVEL_OVERDUE
    report = run_sweep(now=overdue + timedelta(hours=3))
    assert report.escalated == {1: 0, 2: 0, 3: 0} and report.notices == 0
    assert escalate_events(case) == events


def test_a_pause_that_moves_the_deadline_starts_a_new_episode() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    due = running(case, Clock.RESOLVE).due_at
    run_sweep(now=due + timedelta(hours=10))
    casework.ask_citizen(
        case, staff("handler"), "请补充照片。", version=None, now=due + timedelta(hours=10)
    )
    casework.citizen_replies(
        case, staff("handler"), "已补充。", version=None, now=due + timedelta(days=3, hours=10)
    )
    resolve = running(case, Clock.RESOLVE)
    assert resolve.due_at > due and resolve.escalation_level == LEVEL_NONE
    run_sweep(now=resolve.due_at)
    assert told(case, Clock.RESOLVE, LEVEL_OVERDUE) == {"handler", "lead"}
    assert (
        db.session.scalar(  # one notice per deadline: the old one and the new one
            sa.select(sa.func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.kind == "escalation_2", InboxMessage.user_id == user("lead").id)
            .where(InboxMessage.dedupe_key.like(f"esc:{case.id}:resolve:%"))
        )
        == 2
    )


def _urged(case: Case, at: datetime) -> None:
    supervision.urge_case(case, staff("supervisor"), "请尽快办结", version=None, now=at)


def _supervised_automatically(case: Case, at: datetime) -> None:
    run_sweep(now=at)


@pytest.mark.parametrize("supervise", [_urged, _supervised_automatically], ids=["urged", "auto"])
def test_supervision_survives_a_pause_that_moves_the_deadline(
    supervise: Callable[[Case, datetime], None],
) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    at = when_level(running(case, Clock.RESOLVE), LEVEL_SUPERVISED) + timedelta(hours=10)
    supervise(case, at)
    assert running(case, Clock.RESOLVE).escalation_level == LEVEL_SUPERVISED
    casework.ask_citizen(case, staff("handler"), "请补充照片。", version=None, now=at)
    assert case.escalation_level == LEVEL_SUPERVISED  # shown as supervised while it waits
    due = running(case, Clock.RESOLVE).due_at
    casework.citizen_replies(
        case, staff("handler"), "已补充。", version=None, now=at + timedelta(days=3)
    )
    resolve = running(case, Clock.RESOLVE)
    assert resolve.due_at > due
    assert resolve.escalation_level == LEVEL_SUPERVISED
    assert case.escalation_level == LEVEL_SUPERVISED
    notices = db.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
    run_sweep(now=at + timedelta(days=30))
    assert running(case, Clock.RESOLVE).escalation_level == LEVEL_SUPERVISED
    assert told(case, Clock.RESOLVE, LEVEL_SUPERVISED) <= {"handler", "lead", "supervisor"}
    resolve_notices = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(InboxMessage)
        .where(InboxMessage.dedupe_key.like(f"esc:{case.id}:resolve:%"))
    )
    assert resolve_notices == (0 if supervise is _urged else 3)  # 督办 told once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == notices


def test_an_urge_while_the_case_waits_survives_the_resume() -> None:
    case = case_in(CaseStatus.AWAITING_CITIZEN, now=MONDAY)
    _urged(case, MONDAY + timedelta(hours=2))
    assert case.escalation_level == LEVEL_SUPERVISED
    casework.citizen_replies(
        case, staff("handler"), "已补充。", version=None, now=MONDAY + timedelta(days=2)
    )
    assert running(case, Clock.RESOLVE).escalation_level == LEVEL_SUPERVISED
    assert case.escalation_level == LEVEL_SUPERVISED


def test_supervision_survives_an_extension() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    _urged(case, MONDAY + timedelta(hours=2))
    due = running(case, Clock.RESOLVE).due_at
    casework.request_extension(
        case, staff("handler"), 3, "需要联合勘查", version=None, now=MONDAY + timedelta(hours=3)
    )
    decisions.decide_request(
        RequestKind.EXTENSION,
        case,
        staff("supervisor"),
        True,
        version=None,
        now=MONDAY + timedelta(hours=4),
    )
    resolve = running(case, Clock.RESOLVE)
    assert resolve.due_at > due
    assert resolve.escalation_level == LEVEL_SUPERVISED
    assert case.escalation_level == LEVEL_SUPERVISED


def test_an_extension_of_a_clock_due_soon_starts_a_new_episode() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=MONDAY)
    soon = when_level(running(case, Clock.RESOLVE), LEVEL_DUE_SOON)
    run_sweep(now=soon)
    assert running(case, Clock.RESOLVE).escalation_level == LEVEL_DUE_SOON
    casework.request_extension(case, staff("handler"), 3, "需要联合勘查", version=None, now=soon)
    decisions.decide_request(
        RequestKind.EXTENSION, case, staff("supervisor"), True, version=None, now=soon
    )
    resolve = running(case, Clock.RESOLVE)
    assert resolve.escalation_level == LEVEL_NONE
    run_sweep(now=when_level(resolve, LEVEL_DUE_SOON))
    assert running(case, Clock.RESOLVE).escalation_level == LEVEL_DUE_SOON
    keys = db.session.scalars(
        sa.select(InboxMessage.dedupe_key).where(
            InboxMessage.user_id == user("lead").id,
            InboxMessage.dedupe_key.like(f"esc:{case.id}:resolve:%"),
        )
    ).all()
    assert len(keys) == 2  # a due-soon notice for each deadline


def test_an_urge_tells_intake_of_a_case_not_yet_accepted() -> None:
    case = case_in(CaseStatus.NEW, now=MONDAY, leader=True)
    _urged(case, MONDAY + timedelta(hours=1))
    assert running(case, Clock.ACCEPT).escalation_level == LEVEL_SUPERVISED
    rows = db.session.scalars(sa.select(InboxMessage).where(InboxMessage.kind == "urged")).all()
    assert {db.session.get(User, row.user_id).username for row in rows} == {"intake", "leader"}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh_CN", "已超期：受理时限"),
        ("en", "is overdue: the accept deadline"),
    ],
)
def test_the_email_names_the_clock_and_the_level_in_words(language: str, words: str) -> None:
    from caseapp.notify.texts import render

    params = {"number": "YC2026-000123", "title": "t", "clock": "accept", "level": 2,
              "due": "2026-11-03T16:00:00+00:00"}  # fmt: skip
    _subject, text = render("staff_escalation", language, params)
    assert words in text and "level 2" not in text
