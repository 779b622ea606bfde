"""The case plan (一案一策) with dated milestones: what is refused, what is kept, which
milestones are late, and what the event records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseMilestone
from caseapp.models.enums import CaseStatus, EventAction
from caseapp.services.casework import closing, supervision
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.casework.supervision import Milestone
from caseapp.services.errors import NotAllowed, ValidationFailed
from caseapp.services.pages import case_page
from tests.factories import case_in, staff

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

PLAN = "一案一策：先勘查，再修复。"
# 01:00 on 2 March in the city, still 1 March in UTC.
NOW = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def plan_events(case: Case) -> list[CaseEvent]:
    return db.session.scalars(
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == EventAction.SET_CASE_PLAN)
        .order_by(CaseEvent.id)
    ).all()


def set_plan(case: Case, milestones: list[Milestone], now: datetime = NOW) -> Case:
    return supervision.set_case_plan(
        case, staff("supervisor"), PLAN, milestones, version=None, now=now
    )


D = date(2026, 3, 20)
TOO_MANY = [Milestone(D + timedelta(days=i), f"第{i + 1}步") for i in range(11)]


@pytest.mark.parametrize(
    ("rows", "reasons"),
    [
        ([Milestone(None, "完成勘查")], {0: {"due_on": "This field is required."}}),
        ([Milestone(D, "")], {0: {"text": "This field is required."}}),
        ([Milestone(D, " \r\n ", done=True)], {0: {"text": "This field is required."}}),
        (
            [Milestone(None, ""), Milestone(D, "修" * 201)],
            {1: {"text": "At most 200 characters."}},
        ),
        (
            [Milestone(D, "先勘查\n再修复")],
            {0: {"text": "Contains characters that are not allowed."}},
        ),
        ([Milestone(D, "勘查\x07")], {0: {"text": "Contains characters that are not allowed."}}),
        (
            [Milestone(D, "完成勘查"), Milestone(None, "修复"), Milestone(D, "")],
            {1: {"due_on": "This field is required."}, 2: {"text": "This field is required."}},
        ),
        (TOO_MANY, "At most 10 milestones."),
    ],
    ids=["no date", "no text", "blank text", "too long", "two lines", "control", "rows", "11"],
)
def test_milestones_that_are_refused(rows: list[Milestone], reasons: object) -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    version = case.version
    with pytest.raises(ValidationFailed) as refused:
        set_plan(case, rows)
    assert refused.value.field_errors == {"milestones": reasons}
    db.session.rollback()
    assert case.version == version
    assert case.case_plan == "" and case.milestones == []
    assert plan_events(case) == []


def test_the_plan_text_is_still_required() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as refused:
        supervision.set_case_plan(
            case, staff("supervisor"), "  ", [Milestone(D, "完成勘查")], version=None, now=NOW
        )
    assert refused.value.field_errors == {"plan": "This field is required."}


def test_blank_rows_are_left_out_and_the_rest_kept_in_date_order() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    rows = [
        Milestone(D + timedelta(days=9), "  完成修复  "),
        Milestone(None, "   "),
        Milestone(D, "完成勘查"),
        Milestone(D, "通知施工单位", done=True),
        *[Milestone(D + timedelta(days=10 + i), f"回访{i}") for i in range(7)],
    ]
    set_plan(case, rows)
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert [(m.due_on, m.text, m.done_on) for m in stored.milestones][:3] == [
        (D, "完成勘查", None),
        (D, "通知施工单位", TODAY),
        (D + timedelta(days=9), "完成修复", None),
    ]
    assert len(stored.milestones) == 10
    assert stored.case_plan == PLAN


def test_done_on_is_the_city_day_it_was_done_and_is_kept() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    set_plan(case, [Milestone(D, "完成勘查", done=True), Milestone(D, "完成修复")])
    assert [m.done_on for m in case.milestones] == [TODAY, None]

    later = NOW + timedelta(days=5)
    set_plan(
        case,
        [Milestone(D, "完成勘查", done=True), Milestone(D, "完成修复", done=True)],
        now=later,
    )
    db.session.expire_all()
    assert [(m.text, m.done_on) for m in db.session.get(Case, case.id).milestones] == [
        ("完成勘查", TODAY),  # still done: the day it was done stays
        ("完成修复", TODAY + timedelta(days=5)),  # newly done
    ]

    # Undone, then done again: a new day.
    set_plan(case, [Milestone(D, "完成勘查"), Milestone(D, "完成修复", done=True)], now=later)
    set_plan(case, [Milestone(D, "完成勘查", done=True)], now=later + timedelta(days=1))
    assert [(m.text, m.done_on) for m in case.milestones] == [
        ("完成勘查", TODAY + timedelta(days=6))
    ]
    # The replaced rows are gone, not orphaned.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseMilestone)) == 1


def test_the_event_records_the_milestones() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    version = case.version
    set_plan(case, [Milestone(date(2026, 4, 1), "完成修复"), Milestone(D, "完成勘查", True)])
    [event] = plan_events(case)
    assert event.internal_text == PLAN
    assert event.data == {
        "milestones": [
            {"due": "2026-03-20", "text": "完成勘查", "done": True},
            {"due": "2026-04-01", "text": "完成修复", "done": False},
        ]
    }
    assert case.version == version + 1


def test_an_empty_list_removes_the_milestones() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    set_plan(case, [Milestone(D, "完成勘查")])
    set_plan(case, [])
    assert case.milestones == []
    assert plan_events(case)[-1].data == {"milestones": []}


def test_a_handler_may_not_set_the_plan() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        supervision.set_case_plan(
            case, staff("handler"), PLAN, [Milestone(D, "完成勘查")], version=None, now=NOW
        )


def test_the_page_marks_milestones_late_by_the_city_day() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    yesterday, today = TODAY - timedelta(days=1), TODAY
    set_plan(
        case,
        [
            Milestone(yesterday, "已过期未完成"),
            Milestone(yesterday, "已过期已完成", done=True),
            Milestone(today, "今日到期"),
        ],
    )
    views = case_page.plan_milestones(case, NOW)
    assert [(v.text, v.late) for v in views] == [
        ("已过期未完成", True),
        ("已过期已完成", False),
        ("今日到期", False),  # late from tomorrow on
    ]
    # At 23:59 UTC on 2 March it is already 3 March in the city.
    views = case_page.plan_milestones(case, datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
    assert [v.late for v in views] == [True, False, True]


def test_nothing_is_late_in_the_plan_of_a_finished_case() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    set_plan(case, [Milestone(TODAY - timedelta(days=1), "已过期未完成")])
    closing.withdraw_case(case, Actor.citizen(), "已自行解决", now=NOW)
    assert [v.late for v in case_page.plan_milestones(case, NOW)] == [False]
