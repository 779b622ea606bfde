"""The ledger item pages (services.pages.ledger_item): one item for a supervisor — its
milestones with the late ones marked by the city's day, its cases in the order they were
linked, its events oldest first — and a department's items for its lead, by ledger, the
late ones first and the written-off ones last, with the counts the city reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseapp.extensions import db
from caseapp.models import Ledger, LedgerItem
from caseapp.models.enums import CaseStatus, LedgerItemStatus, Role
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import supervision
from caseapp.services.casework.plans import Milestone
from caseapp.services.errors import NotAllowed, NotFound
from caseapp.services.ledgers import items as ledgers
from caseapp.services.pages import ledger_item as page
from tests import factories
from tests.factories import case_in, department, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
# 01:00 on 10 March in the city, still 9 March in UTC.
NOW = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
NOT_SUPERVISORS = ["intake", "handler", "lead", "leader", "admin"]


def item(
    ledger: Ledger,
    title: str = "修缮人行道",
    *,
    owner: str | None = None,
    target: date | None = None,
    milestones: tuple[Milestone, ...] = (),
    status: LedgerItemStatus = LedgerItemStatus.OPEN,
    created: datetime = NOW - timedelta(days=30),
) -> LedgerItem:
    made = ledgers.create_item(
        ledger,
        user("supervisor"),
        ledgers.ItemFields(
            title=title,
            owner_department_id=department(owner).id if owner else None,
            target_date=target,
            milestones=milestones,
        ),
        now=created,
    )
    made.status = status  # the page reads the status; how it got there: test_items.py
    db.session.commit()
    return made


def test_the_city_s_day_is_today_in_its_zone() -> None:
    assert page.local_today(NOW) == TODAY
    assert page.local_today(NOW - timedelta(hours=1, seconds=1)) == TODAY - timedelta(days=1)


# --- one item, for a supervisor --------------------------------------------------------------


@pytest.mark.parametrize("username", NOT_SUPERVISORS)
def test_only_a_supervisor_opens_an_item_or_a_ledger_and_learns_nothing_else(
    username: str,
) -> None:
    ledger = factories.ledger()
    made = item(ledger)
    for item_id in (made.id, 99999):  # the same refusal whether or not it exists
        with pytest.raises(NotAllowed):
            page.item_for(user(username), item_id)
    for code in (ledger.code, "no-such-ledger"):
        with pytest.raises(NotAllowed):
            page.ledger_for(user(username), code)


def test_a_supervisor_opens_an_item_or_ledger_that_exists() -> None:
    ledger = factories.ledger()
    made = item(ledger)
    supervisor = user("supervisor")
    assert page.item_for(supervisor, made.id) == made
    assert page.ledger_for(supervisor, ledger.code) == ledger
    with pytest.raises(NotFound):
        page.item_for(supervisor, made.id + 1)
    with pytest.raises(NotFound):
        page.ledger_for(supervisor, ledger.code.upper())


def test_milestones_are_late_from_the_day_after_their_day_unless_done() -> None:
    done_at = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 2 March in the city
    made = item(
        factories.ledger(),
        milestones=(
            Milestone(TODAY - timedelta(days=3), "勘查", done=True),
            Milestone(TODAY - timedelta(days=1), "设计"),
            Milestone(TODAY, "施工"),
            Milestone(TODAY + timedelta(days=5), "验收"),
        ),
        created=done_at,
    )
    rows = page.item_milestones(made, TODAY)
    assert [(m.text, m.done_on, m.late) for m in rows] == [
        ("勘查", date(2026, 3, 2), False),
        ("设计", None, True),
        ("施工", None, False),
        ("验收", None, False),
    ]
    made.status = LedgerItemStatus.WRITTEN_OFF
    assert not any(m.late for m in page.item_milestones(made, TODAY))


def test_the_item_page_has_its_cases_as_linked_and_its_events_oldest_first() -> None:
    made = item(factories.ledger(), target=TODAY - timedelta(days=1))
    first = case_in(CaseStatus.IN_PROGRESS, now=NOW - timedelta(days=2))
    second = case_in(CaseStatus.DISPATCHED, now=NOW - timedelta(days=3))
    for case, at in ((first, NOW - timedelta(hours=2)), (second, NOW - timedelta(hours=1))):
        supervision.link_ledger_item(case, staff("supervisor"), made.id, version=None, now=at)
    shown = page.item_page(made, NOW)
    assert shown.item == made and shown.cases == [first, second]
    assert [e.event.id for e in shown.events] == sorted(e.event.id for e in shown.events)
    assert [(str(e.event.action), e.case) for e in shown.events] == [
        ("created", None),
        ("link_case", first),
        ("in_progress", first),
        ("link_case", second),
    ]
    assert {e.actor.username for e in shown.events} == {"supervisor"}
    assert shown.target_passed and shown.late


@pytest.mark.parametrize(
    ("target", "status", "late"),
    [
        (None, LedgerItemStatus.OPEN, False),
        (TODAY, LedgerItemStatus.OPEN, False),  # due today: late from tomorrow
        (TODAY - timedelta(days=1), LedgerItemStatus.OPEN, True),
        (TODAY - timedelta(days=1), LedgerItemStatus.IN_PROGRESS, True),
        (TODAY - timedelta(days=1), LedgerItemStatus.WRITTEN_OFF, False),
    ],
)
def test_an_item_is_late_when_its_target_passed_and_it_is_not_written_off(
    target: date | None, status: LedgerItemStatus, late: bool
) -> None:
    shown = page.item_page(item(factories.ledger(), target=target, status=status), NOW)
    assert shown.target_passed is late and shown.late is late


def test_a_late_milestone_alone_makes_the_item_late() -> None:
    made = item(factories.ledger(), milestones=(Milestone(TODAY - timedelta(days=1), "设计"),))
    shown = page.item_page(made, NOW)
    assert not shown.target_passed and shown.late


# --- the choices of the item form ------------------------------------------------------------


def test_the_categories_are_the_ledger_s_own_in_their_order() -> None:
    ledger = factories.ledger(
        categories=(
            ("roads", "道路", "Roads"),
            ("water", "供水", "Water"),
            ("parks", "公园", "Parks"),
        )
    )
    factories.ledger("other", categories=(("schools", "学校", "Schools"),))
    assert [c.code for c in page.categories(ledger)] == ["roads", "water", "parks"]


def test_the_leaders_offered_are_the_active_leaders() -> None:
    former = create_user("former-leader", "long-enough-pw", "原领导", [Role.LEADER])
    second = create_user("leader-2", "long-enough-pw", "副市长", [Role.LEADER, Role.SUPERVISOR])
    former.active = False
    db.session.commit()
    assert [u.username for u in page.leaders()] == ["leader", "leader-2"]
    assert second in page.leaders() and former not in page.leaders()


# --- a department's items, for its lead ------------------------------------------------------


def district_lead() -> object:
    return create_user("lead-yhq", "long-enough-pw", "盐湖区负责人", [Role.LEAD], "yhq")


@pytest.mark.parametrize("username", ["intake", "handler", "supervisor", "leader", "admin"])
def test_only_a_lead_sees_the_department_s_items(username: str) -> None:
    with pytest.raises(NotAllowed):
        page.department_items(user(username), NOW)


def test_a_lead_sees_the_items_of_the_department_and_those_below_it_by_ledger() -> None:
    campaign = factories.ledger()
    other = factories.ledger("ss2022", name_zh="民生实事", name_en="People's projects")
    own = item(campaign, "区政府项目", owner="yhq")
    below = item(other, "街道项目", owner="yhq-bc")
    item(campaign, "住建局项目", owner="zjj")
    item(campaign, "无主项目")
    groups = page.department_items(district_lead(), NOW)
    assert [(g.ledger.code, [row.item.id for row in g.items]) for g in groups] == [
        ("ss2021", [own.id]),
        ("ss2022", [below.id]),
    ]
    zjj = [row.item.title for g in page.department_items(user("lead"), NOW) for row in g.items]
    assert zjj == ["住建局项目"]


def test_a_lead_without_a_department_sees_no_items() -> None:
    item(factories.ledger(), owner="yhq")
    lead = create_user("lead-nowhere", "long-enough-pw", "无部门负责人", [Role.LEAD])
    assert page.department_items(lead, NOW) == []


def test_late_items_come_first_then_by_target_and_written_off_ones_last_with_counts() -> None:
    ledger = factories.ledger()
    past = TODAY - timedelta(days=1)
    done = item(ledger, "已销号", owner="yhq", target=past, status=LedgerItemStatus.WRITTEN_OFF)
    later = item(ledger, "下月", owner="yhq", target=TODAY + timedelta(days=30))
    no_target = item(ledger, "无期限", owner="yhq", status=LedgerItemStatus.IN_PROGRESS)
    sooner = item(ledger, "下周", owner="yhq-bc", target=TODAY + timedelta(days=7))
    overdue = item(ledger, "逾期", owner="yhq", target=past, status=LedgerItemStatus.IN_PROGRESS)
    late_step = item(
        ledger,
        "节点逾期",
        owner="yhq-nc",
        target=TODAY + timedelta(days=60),
        milestones=(Milestone(past, "设计"), Milestone(past, "采购")),
    )
    [group] = page.department_items(district_lead(), NOW)
    assert [row.item.id for row in group.items] == [
        overdue.id,  # late, by target date
        late_step.id,
        sooner.id,  # then the rest by target date, none last
        later.id,
        no_target.id,
        done.id,  # written off, last although its target passed
    ]
    rows = {row.item.id: row for row in group.items}
    assert (rows[overdue.id].target_passed, rows[overdue.id].late_milestones) == (True, 0)
    assert (rows[late_step.id].target_passed, rows[late_step.id].late_milestones) == (False, 2)
    assert not rows[done.id].late and not rows[done.id].target_passed
    assert (group.total, group.open, group.in_progress, group.written_off, group.late) == (
        6,
        3,
        2,
        1,
        2,
    )
    assert [row.item.id for row in group.settled] == [done.id]
    assert [row.item.id for row in group.current] == [
        overdue.id,
        late_step.id,
        sooner.id,
        later.id,
        no_target.id,
    ]
