"""Ledger items (DESIGN §5): the automatic write-off (销号) from their cases, counted once
however often a case closes; and the items a supervisor keeps by hand — created, edited
with their plan, written off, reopened and unlinked, each change an event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Department, Ledger, LedgerItem, LedgerItemCase, LedgerItemEvent
from caseapp.models.enums import CaseStatus, LedgerItemStatus, LedgerKind, Satisfaction
from caseapp.services.casework import closing, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.casework.plans import Milestone
from caseapp.services.errors import NotAllowed, StaleVersion, ValidationFailed
from caseapp.services.ledgers import items as ledgers
from tests import factories
from tests.factories import case_in, department, new_case, staff, user


@pytest.fixture
def legacy_ledger(app_ctx: Flask, demo_base: None) -> Ledger:
    return factories.legacy_ledger()


def _actions(item: LedgerItem) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(LedgerItemEvent.action)
            .where(LedgerItemEvent.item_id == item.id)
            .order_by(LedgerItemEvent.id)
        )
    )


def _rate(case, satisfaction=Satisfaction.SATISFIED, now=None):  # type: ignore[no-untyped-def]
    return closing.rate_case(case, Actor.citizen(), True, satisfaction, version=None, now=now)


@pytest.mark.usefixtures("legacy_ledger")
def test_marking_legacy_creates_an_item_that_goes_in_progress_on_acceptance() -> None:
    case = new_case()
    item = supervision.mark_legacy(case, staff("intake"), version=None)
    assert item.status is LedgerItemStatus.OPEN and case.is_legacy
    assert supervision.mark_legacy(case, staff("supervisor"), version=None).id == item.id
    intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
    assert item.status is LedgerItemStatus.IN_PROGRESS


@pytest.mark.usefixtures("legacy_ledger")
def test_the_last_linked_case_s_close_writes_the_item_off() -> None:
    case = case_in(CaseStatus.RESOLVED)
    item = supervision.mark_legacy(case, staff("supervisor"), version=None)
    _rate(case)
    assert item.status is LedgerItemStatus.WRITTEN_OFF
    assert item.written_off_at is not None
    assert _actions(item)[-1] == "write_off"


@pytest.mark.usefixtures("legacy_ledger")
def test_no_write_off_while_another_linked_case_is_open() -> None:
    first = case_in(CaseStatus.RESOLVED)
    second = case_in(CaseStatus.IN_PROGRESS)
    item = supervision.mark_legacy(first, staff("supervisor"), version=None)
    supervision.link_ledger_item(second, staff("supervisor"), item.id, version=None)
    _rate(first)
    assert item.status is not LedgerItemStatus.WRITTEN_OFF
    casework.resolve_case(second, staff("handler"), "已解决", version=None)
    closing.feedback_window_passes(second, now=datetime.now(UTC) + timedelta(days=8))
    assert item.status is LedgerItemStatus.WRITTEN_OFF


@pytest.mark.usefixtures("legacy_ledger")
@pytest.mark.parametrize("ending", ["withdrawn", "rejected", "merged"])
def test_withdrawn_rejected_and_merged_cases_never_write_off(ending: str) -> None:
    case = case_in(CaseStatus.NEW)
    item = supervision.mark_legacy(case, staff("intake"), version=None)
    if ending == "withdrawn":
        closing.withdraw_case(case, Actor.citizen(), "不需要了")
    elif ending == "rejected":
        intake.reject_case(case, staff("intake"), "不属于受理范围", version=None)
    else:
        survivor = case_in(CaseStatus.DISPATCHED)
        intake.merge_case(case, staff("intake"), survivor, version=None)
        # The link moved to the surviving case, which is still open.
        assert [link.case_id for link in item.case_links] == [survivor.id]
    assert item.status is not LedgerItemStatus.WRITTEN_OFF
    assert "write_off" not in _actions(item)


@pytest.mark.usefixtures("legacy_ledger")
def test_a_withdrawn_linked_case_does_not_hold_the_item_back() -> None:
    answered = case_in(CaseStatus.RESOLVED)
    dropped = case_in(CaseStatus.IN_PROGRESS)
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None)
    supervision.link_ledger_item(dropped, staff("supervisor"), item.id, version=None)
    closing.withdraw_case(dropped, Actor.citizen(), "撤回")
    _rate(answered)
    assert item.status is LedgerItemStatus.WRITTEN_OFF


@pytest.mark.usefixtures("legacy_ledger")
def test_reopen_takes_the_write_off_back_and_a_second_close_writes_off_again() -> None:
    case = case_in(CaseStatus.RESOLVED)
    item = supervision.mark_legacy(case, staff("supervisor"), version=None)
    _rate(case)
    closing.reopen_case(case, staff("supervisor"), "群众反映问题复发", version=None)
    assert case.status is CaseStatus.IN_PROGRESS and case.reopen_count == 1
    assert item.status is LedgerItemStatus.IN_PROGRESS and item.written_off_at is None
    casework.resolve_case(case, staff("handler"), "再次处理完毕", version=None)
    _rate(case)
    assert item.status is LedgerItemStatus.WRITTEN_OFF
    assert _actions(item).count("write_off") == 2
    assert _actions(item).count("undo_write_off") == 1


@pytest.mark.usefixtures("legacy_ledger")
def test_an_unsatisfied_rating_is_a_redo_not_a_write_off() -> None:
    case = case_in(CaseStatus.RESOLVED)
    item = supervision.mark_legacy(case, staff("supervisor"), version=None)
    _rate(case, Satisfaction.UNSATISFIED)
    assert case.status is CaseStatus.IN_PROGRESS and case.reopen_count == 1
    assert item.status is LedgerItemStatus.IN_PROGRESS


@pytest.mark.usefixtures("legacy_ledger")
def test_marking_an_already_closed_case_legacy_writes_its_item_off() -> None:
    case = case_in(CaseStatus.CLOSED)
    item = supervision.mark_legacy(case, staff("supervisor"), version=None)
    assert item.status is LedgerItemStatus.WRITTEN_OFF


# --- the write-off counted once, merged cases, and items kept by hand ----------------------

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def campaign(app_ctx: Flask, demo_base: None) -> Ledger:
    return factories.ledger(
        name_zh="我为群众办实事 2021",
        name_en="Practical things 2021",
        categories=(("projects", "项目建设服务", "Projects"), ("policy", "政策惠民", "Policy")),
    )


def _item(ledger: Ledger, title: str = "建设3座人行天桥", **fields: object) -> LedgerItem:
    return ledgers.create_item(
        ledger, user("supervisor"), ledgers.ItemFields(title=title, **fields), now=NOW
    )  # type: ignore[arg-type]


def _event_rows(item: LedgerItem) -> list[LedgerItemEvent]:
    return list(
        db.session.scalars(
            sa.select(LedgerItemEvent)
            .where(LedgerItemEvent.item_id == item.id)
            .order_by(LedgerItemEvent.id)
        )
    )


def _written_off_count(ledger_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LedgerItem)
        .where(LedgerItem.ledger_id == ledger_id, LedgerItem.status == LedgerItemStatus.WRITTEN_OFF)
    )


@pytest.mark.usefixtures("legacy_ledger")
def test_closed_reopened_and_closed_again_counts_once_as_of_the_last_close() -> None:
    case = case_in(CaseStatus.RESOLVED)
    item = supervision.mark_legacy(case, staff("supervisor"), version=None)
    _rate(case)
    closing.reopen_case(case, staff("supervisor"), "问题复发", version=None)
    assert _written_off_count(item.ledger_id) == 0
    casework.resolve_case(case, staff("handler"), "再次处理完毕", version=None)
    last_close = datetime.now(UTC) + timedelta(minutes=5)
    _rate(case, now=last_close)
    db.session.expire_all()
    assert _written_off_count(item.ledger_id) == 1
    assert item.written_off_at == last_close
    # Closing again what is closed, or linking the closed case again, adds nothing.
    ledgers.reevaluate_items_of(case, last_close, None)
    supervision.link_ledger_item(case, staff("supervisor"), item.id, version=None)
    assert _actions(item).count("write_off") == 2 and _written_off_count(item.ledger_id) == 1


@pytest.mark.usefixtures("legacy_ledger")
def test_the_last_of_two_cases_closing_writes_off_once() -> None:
    first, second = case_in(CaseStatus.RESOLVED), case_in(CaseStatus.RESOLVED)
    item = supervision.mark_legacy(first, staff("supervisor"), version=None)
    supervision.link_ledger_item(second, staff("supervisor"), item.id, version=None)
    _rate(first)
    assert item.status is LedgerItemStatus.IN_PROGRESS
    _rate(second)
    assert item.status is LedgerItemStatus.WRITTEN_OFF
    assert _actions(item).count("write_off") == 1


@pytest.mark.usefixtures("legacy_ledger")
def test_a_merged_case_is_not_linked_and_its_survivor_closing_writes_off() -> None:
    # Another citizen: the survivor's follower (one phone twice is another matter).
    merged = case_in(CaseStatus.NEW, citizen_phone="13912345678")
    survivor = case_in(CaseStatus.DISPATCHED)
    item = supervision.mark_legacy(merged, staff("intake"), version=None)
    intake.merge_case(merged, staff("intake"), survivor, version=None)
    assert [link.case_id for link in item.case_links] == [survivor.id]
    with pytest.raises(ValidationFailed):
        supervision.link_ledger_item(merged, staff("supervisor"), item.id, version=None)
    db.session.rollback()
    casework.sign_for_case(survivor, staff("handler"), version=None)
    casework.resolve_case(survivor, staff("handler"), "已处理", version=None)
    _rate(survivor)
    assert item.status is LedgerItemStatus.WRITTEN_OFF
    assert _actions(item).count("write_off") == 1


def test_an_item_without_cases_is_created_open_and_written_off_by_hand(campaign: Ledger) -> None:
    item = _item(campaign, category_id=campaign.categories[0].id, target_date=date(2026, 6, 30))
    assert item.status is LedgerItemStatus.OPEN and item.case_links == []
    ledgers.write_off_item(item, user("supervisor"), "三座天桥均已建成通行", now=NOW)
    assert item.status is LedgerItemStatus.WRITTEN_OFF
    assert item.written_off_at == NOW and item.written_off_note == "三座天桥均已建成通行"
    created, written_off = _event_rows(item)
    assert (created.action, created.to_status, created.actor_id) == (
        "created",
        LedgerItemStatus.OPEN,
        user("supervisor").id,
    )
    assert created.data["fields"]["title"] == "建设3座人行天桥"
    assert (written_off.action, written_off.from_status, written_off.to_status) == (
        "write_off",
        LedgerItemStatus.OPEN,
        LedgerItemStatus.WRITTEN_OFF,
    )
    assert written_off.note == "三座天桥均已建成通行"


def test_a_written_off_item_is_not_written_off_again_and_reopens_with_a_note(
    campaign: Ledger,
) -> None:
    item = _item(campaign)
    ledgers.write_off_item(item, user("supervisor"), "已完成", now=NOW)
    with pytest.raises(ValidationFailed, match="written off already"):
        ledgers.write_off_item(item, user("supervisor"), "再次销号", now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        ledgers.reopen_item(item, user("supervisor"), "  ", now=NOW)
    assert refused.value.field_errors == {"note": "This field is required."}
    later = NOW + timedelta(days=1)
    ledgers.reopen_item(item, user("supervisor"), "群众反映天桥电梯未通", now=later)
    assert item.status is LedgerItemStatus.IN_PROGRESS
    assert item.written_off_at is None and item.written_off_note == ""
    assert [e.action for e in _event_rows(item)] == ["created", "write_off", "reopen"]
    assert _event_rows(item)[-1].note == "群众反映天桥电梯未通"
    with pytest.raises(ValidationFailed, match="Only a written-off item"):
        ledgers.reopen_item(item, user("supervisor"), "再开", now=later)


@pytest.mark.usefixtures("legacy_ledger")
def test_a_hand_write_off_is_not_repeated_when_the_case_closes_and_undone_on_reopen() -> None:
    case = case_in(CaseStatus.RESOLVED)
    item = supervision.mark_legacy(case, staff("supervisor"), version=None)
    ledgers.write_off_item(item, user("supervisor"), "经研究同意销号")
    _rate(case)
    assert _actions(item).count("write_off") == 1
    assert item.written_off_note == "经研究同意销号"
    closing.reopen_case(case, staff("supervisor"), "复发", version=None)
    assert item.status is LedgerItemStatus.IN_PROGRESS
    assert _actions(item)[-1] == "undo_write_off"


@pytest.mark.usefixtures("legacy_ledger")
def test_unlinking_a_case_is_an_event_with_the_case_and_the_note() -> None:
    answered, mistaken = case_in(CaseStatus.RESOLVED), case_in(CaseStatus.IN_PROGRESS)
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None)
    supervision.link_ledger_item(mistaken, staff("supervisor"), item.id, version=None)
    ledgers.unlink_case(item, mistaken, user("supervisor"), "误关联", now=NOW)
    assert [link.case_id for link in item.case_links] == [answered.id]
    event = _event_rows(item)[-1]
    assert (event.action, event.case_id, event.note) == ("unlink_case", mistaken.id, "误关联")
    with pytest.raises(ValidationFailed, match="not linked"):
        ledgers.unlink_case(item, mistaken, user("supervisor"), "再次", now=NOW)
    # The status stays as it was; the remaining case closing writes the item off.
    assert item.status is LedgerItemStatus.IN_PROGRESS
    _rate(answered)
    assert item.status is LedgerItemStatus.WRITTEN_OFF


# --- the order of the cases' changes never changes the item (issue 16, finding 6) ---------


class Ticks:
    """Times an hour apart, so that the events' order is their times' order (what
    ``expected_item_state`` reads)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) - timedelta(days=5)

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


@pytest.fixture
def tick(legacy_ledger: Ledger) -> Ticks:
    return Ticks()


def _settled(item: LedgerItem) -> LedgerItemStatus:
    """The item's status, checked against the status computed afresh from the database."""
    db.session.expire_all()
    assert ledgers.expected_item_state(item) is item.status
    return item.status


def _drop(case, how: str, now: datetime) -> None:  # type: ignore[no-untyped-def]
    if how == "withdrawn":
        closing.withdraw_case(case, Actor.citizen(), "不需要了", now=now)
    else:
        intake.reject_case(case, staff("intake"), "不属于受理范围", version=None, now=now)


@pytest.mark.parametrize("how", ["withdrawn", "rejected"])
@pytest.mark.parametrize("close_first", [True, False], ids=["A closes first", "B goes first"])
def test_a_closes_and_b_is_withdrawn_or_rejected_in_either_order_writes_off(
    tick: Ticks, how: str, close_first: bool
) -> None:
    answered = case_in(CaseStatus.RESOLVED, now=tick())
    # Withdrawn while being worked; rejected while new (the only time it can be).
    dropped = case_in(CaseStatus.IN_PROGRESS if how == "withdrawn" else CaseStatus.NEW, now=tick())
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None, now=tick())
    supervision.link_ledger_item(dropped, staff("supervisor"), item.id, version=None, now=tick())
    if close_first:
        _rate(answered, now=tick())
        assert _settled(item) is LedgerItemStatus.IN_PROGRESS
        _drop(dropped, how, tick())
    else:
        _drop(dropped, how, tick())
        assert _settled(item) is LedgerItemStatus.IN_PROGRESS
        _rate(answered, now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF
    event = _event_rows(item)[-1]
    assert (event.action, event.case_id) == ("write_off", (dropped if close_first else answered).id)


def test_linking_an_open_case_takes_a_written_off_item_back(tick: Ticks) -> None:
    answered = case_in(CaseStatus.RESOLVED, now=tick())
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None, now=tick())
    _rate(answered, now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF
    open_case = case_in(CaseStatus.IN_PROGRESS, now=tick())
    supervision.link_ledger_item(open_case, staff("supervisor"), item.id, version=None, now=tick())
    assert _settled(item) is LedgerItemStatus.IN_PROGRESS
    assert item.written_off_at is None
    event = _event_rows(item)[-1]
    assert (event.action, event.case_id) == ("undo_write_off", open_case.id)
    # Once it closes too, the item is written off again.
    casework.resolve_case(open_case, staff("handler"), "已处理", version=None, now=tick())
    _rate(open_case, now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF


def test_reinstating_a_rejected_linked_case_takes_the_write_off_back(tick: Ticks) -> None:
    answered = case_in(CaseStatus.RESOLVED, now=tick())
    rejected = case_in(CaseStatus.NEW, now=tick())
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None, now=tick())
    supervision.link_ledger_item(rejected, staff("supervisor"), item.id, version=None, now=tick())
    intake.reject_case(rejected, staff("intake"), "不属于受理范围", version=None, now=tick())
    _rate(answered, now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF
    intake.reinstate_case(rejected, staff("supervisor"), "误退", version=None, now=tick())
    assert _settled(item) is LedgerItemStatus.IN_PROGRESS
    assert _actions(item)[-1] == "undo_write_off"


def test_unlinking_the_last_open_case_writes_the_item_off(tick: Ticks) -> None:
    answered = case_in(CaseStatus.RESOLVED, now=tick())
    mistaken = case_in(CaseStatus.IN_PROGRESS, now=tick())
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None, now=tick())
    supervision.link_ledger_item(mistaken, staff("supervisor"), item.id, version=None, now=tick())
    _rate(answered, now=tick())
    assert _settled(item) is LedgerItemStatus.IN_PROGRESS
    ledgers.unlink_case(item, mistaken, user("supervisor"), "误关联", now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF
    assert [(e.action, e.case_id) for e in _event_rows(item)[-2:]] == [
        ("unlink_case", mistaken.id),
        ("write_off", mistaken.id),
    ]


def test_a_hand_write_off_stands_until_a_case_changes(tick: Ticks) -> None:
    case = case_in(CaseStatus.RESOLVED, now=tick())
    item = supervision.mark_legacy(case, staff("supervisor"), version=None, now=tick())
    ledgers.write_off_item(item, user("supervisor"), "经研究同意销号", now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF
    # An unsatisfied rating is a redo: the case is worked again, the item with it.
    _rate(case, Satisfaction.UNSATISFIED, now=tick())
    assert _settled(item) is LedgerItemStatus.IN_PROGRESS
    assert _actions(item)[-1] == "undo_write_off"


def test_with_no_case_counting_the_last_hand_holds(tick: Ticks) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=tick())
    item = supervision.mark_legacy(case, staff("supervisor"), version=None, now=tick())
    ledgers.write_off_item(item, user("supervisor"), "已另案化解", now=tick())
    closing.withdraw_case(case, Actor.citizen(), "已解决", now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF
    assert item.written_off_note == "已另案化解"
    assert _actions(item)[-1] == "write_off"


def test_a_hand_reopen_stands_until_a_case_changes(tick: Ticks) -> None:
    answered = case_in(CaseStatus.RESOLVED, now=tick())
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None, now=tick())
    _rate(answered, now=tick())
    ledgers.reopen_item(item, user("supervisor"), "群众反映补偿款未到账", now=tick())
    assert _settled(item) is LedgerItemStatus.IN_PROGRESS
    later = case_in(CaseStatus.CLOSED, now=tick())
    supervision.link_ledger_item(later, staff("supervisor"), item.id, version=None, now=tick())
    assert _settled(item) is LedgerItemStatus.WRITTEN_OFF


def test_a_merge_moves_the_links_and_the_item_follows(tick: Ticks) -> None:
    answered = case_in(CaseStatus.RESOLVED, now=tick())
    duplicate = case_in(CaseStatus.NEW, citizen_phone="13912345678", now=tick())
    item = supervision.mark_legacy(answered, staff("supervisor"), version=None, now=tick())
    supervision.link_ledger_item(duplicate, staff("supervisor"), item.id, version=None, now=tick())
    _rate(answered, now=tick())
    survivor = case_in(CaseStatus.DISPATCHED, now=tick())
    intake.merge_case(duplicate, staff("intake"), survivor, version=None, now=tick())
    assert _settled(item) is LedgerItemStatus.IN_PROGRESS
    casework.sign_for_case(survivor, staff("handler"), version=None, now=tick())
    casework.resolve_case(survivor, staff("handler"), "已处理", version=None, now=tick())
    closing.feedback_window_passes(survivor, now=tick() + timedelta(days=8))
    assert item.status is LedgerItemStatus.WRITTEN_OFF


def test_only_supervisors_keep_items_by_hand(campaign: Ledger) -> None:
    item = _item(campaign)
    for username in ("handler", "lead", "intake", "leader"):
        with pytest.raises(NotAllowed):
            ledgers.write_off_item(item, user(username), "销号", now=NOW)
        with pytest.raises(NotAllowed):
            ledgers.create_item(campaign, user(username), ledgers.ItemFields("另一项"), now=NOW)


def test_an_edit_records_what_changed_and_a_done_milestone_starts_the_work(
    campaign: Ledger,
) -> None:
    item = _item(campaign)
    steps = [
        Milestone(date(2026, 4, 1), "完成选址", True),
        Milestone(date(2026, 9, 1), "完成建设", False),
        Milestone(None, "", False),  # a blank row is left out
    ]
    ledgers.update_item(
        item,
        user("supervisor"),
        "建设3座人行天桥（机场大道）",
        campaign.categories[0].id,
        department("jtj").id,
        user("leader").id,
        date(2026, 10, 1),
        "一案一策：先选址，再建设。",
        steps,
        seen=item.updated_at,
        now=NOW,
    )
    assert [(m.title, m.done_at) for m in item.milestones] == [
        ("完成选址", NOW),
        ("完成建设", None),
    ]
    update, started = _event_rows(item)[-2:]
    assert update.action == "update" and started.action == "in_progress"
    assert item.status is LedgerItemStatus.IN_PROGRESS
    changes = update.data["changes"]
    assert set(changes) == {
        "title",
        "category_id",
        "owner_department_id",
        "responsible_leader_id",
        "target_date",
        "plan_text",
        "milestones",
    }
    assert changes["target_date"] == {"from": None, "to": "2026-10-01"}
    # Saving again keeps the day the first step was done; nothing changed, no event.
    later = NOW + timedelta(days=3)
    ledgers.update_item(
        item,
        user("supervisor"),
        item.title,
        item.category_id,
        item.owner_department_id,
        item.responsible_leader_id,
        item.target_date,
        item.plan_text,
        steps[:2],
        now=later,
    )
    assert item.milestones[0].done_at == NOW
    assert len(_event_rows(item)) == 3


def test_an_edit_over_someone_else_s_change_is_refused(campaign: Ledger) -> None:
    item = _item(campaign)
    seen = item.updated_at
    ledgers.write_off_item(item, user("supervisor"), "已完成", now=NOW + timedelta(hours=1))
    with pytest.raises(StaleVersion):
        ledgers.update_item(
            item, user("supervisor"), "新标题", None, None, None, None, "", [], seen=seen
        )
    db.session.expire_all()
    assert item.title == "建设3座人行天桥"


def _retired_department() -> int:
    retired = Department(code="old", name_zh="撤销单位", name_en="Retired", retired_at=NOW)
    db.session.add(retired)
    db.session.flush()
    return retired.id


INVALID_FIELDS = [
    ("no title", {"title": "  "}, {"title": "This field is required."}),
    ("title too long", {"title": "桥" * 301}, {"title": "At most 300 characters."}),
    ("title on two lines", {"title": "天桥\n两座"}, {"title": "Contains characters that are not allowed."}),
    ("category of another ledger", {"category_id": lambda: -1}, {"category_id": "Choose a category of this ledger."}),
    ("unknown department", {"owner_department_id": lambda: 99999}, {"owner_department_id": "Choose a department."}),
    ("retired department", {"owner_department_id": _retired_department}, {"owner_department_id": "Choose a department."}),
    ("leader without the role", {"responsible_leader_id": lambda: user("handler").id}, {"responsible_leader_id": "Choose a responsible leader."}),
    ("plan too long", {"plan_text": "划" * 4001}, {"plan_text": "At most 4,000 characters."}),
    ("milestone without a date", {"milestones": [Milestone(None, "选址")]}, {"milestones": {0: {"due_on": "This field is required."}}}),
    ("milestone without a text", {"milestones": [Milestone(date(2026, 4, 1), "")]}, {"milestones": {0: {"text": "This field is required."}}}),
    ("two reasons at once", {"title": "", "plan_text": "\x07"}, {"title": "This field is required.", "plan_text": "Contains characters that are not allowed."}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("given", "reasons"), [case[1:] for case in INVALID_FIELDS], ids=[c[0] for c in INVALID_FIELDS]
)
def test_an_edit_that_breaks_a_rule_is_refused_field_by_field(
    campaign: Ledger, given: dict[str, object], reasons: dict[str, object]
) -> None:
    item = _item(campaign)
    values: dict[str, object] = {
        "title": item.title,
        "category_id": None,
        "owner_department_id": None,
        "responsible_leader_id": None,
        "target_date": None,
        "plan_text": "",
        "milestones": [],
    }
    values.update({k: v() if callable(v) else v for k, v in given.items()})
    with pytest.raises(ValidationFailed) as refused:
        ledgers.update_item(item, user("supervisor"), now=NOW, **values)  # type: ignore[arg-type]
    assert refused.value.field_errors == reasons
    db.session.rollback()
    assert [e.action for e in _event_rows(item)] == ["created"]


@pytest.mark.parametrize(
    ("note", "reason"),
    [("", "This field is required."), ("说" * 4001, "At most 4,000 characters."), ("\x00", "Contains characters that are not allowed.")],
)  # fmt: skip
def test_a_write_off_needs_a_note(campaign: Ledger, note: str, reason: str) -> None:
    item = _item(campaign)
    with pytest.raises(ValidationFailed) as refused:
        ledgers.write_off_item(item, user("supervisor"), note, now=NOW)
    assert refused.value.field_errors == {"note": reason}
    assert item.status is LedgerItemStatus.OPEN


def test_an_item_is_found_by_its_code_or_its_number(campaign: Ledger) -> None:
    bridge = ledgers.create_item(
        campaign, user("supervisor"), ledgers.ItemFields("天桥"), code="SS2021-0001", now=NOW
    )
    other = _item(campaign, title="路灯")
    assert ledgers.find_item("ss2021-0001").id == bridge.id
    assert ledgers.find_item(f"#{other.id}").id == other.id
    assert ledgers.find_item(str(other.id)).id == other.id
    with pytest.raises(ValidationFailed) as refused:
        ledgers.find_item("SS2021-9999")
    assert refused.value.field_errors == {
        "item": "There is no ledger item with this code, number or title."
    }
    with pytest.raises(ValidationFailed) as taken:
        ledgers.create_item(
            campaign, user("supervisor"), ledgers.ItemFields("重复"), code="SS2021-0001", now=NOW
        )
    assert taken.value.field_errors == {"code": "Another item of this ledger has this code."}


@pytest.fixture
def legacy_with_categories(app_ctx: Flask, demo_base: None) -> Ledger:
    return factories.ledger(
        "legacy",
        LedgerKind.LEGACY,
        "理旧账",
        "Legacy issues",
        categories=(("land", "土地征收", "Land"), ("roads", "道路交通", "Roads")),
    )


def test_marking_legacy_files_a_new_item_in_its_category_with_its_target(
    legacy_with_categories: Ledger,
) -> None:
    land = legacy_with_categories.categories[0]
    case = new_case(title="工农街征地补偿未兑现", public_location="工农街")
    entry = ledgers.LegacyEntry(category_id=land.id, target_date=date(2027, 6, 30))
    item = supervision.mark_legacy(case, staff("supervisor"), version=None, entry=entry)
    assert (item.category_id, item.target_date, item.code) == (
        land.id,
        date(2027, 6, 30),
        case.number,
    )
    assert [c.code for c in ledgers.legacy_categories()] == ["land", "roads"]


def test_a_category_of_another_ledger_or_an_item_of_another_ledger_is_refused(
    legacy_with_categories: Ledger,
) -> None:
    other = factories.ledger()  # a campaign ledger
    case = new_case()
    foreign = ledgers.create_item(other, user("supervisor"), ledgers.ItemFields("天桥"), now=NOW)
    version = case.version
    for entry, field in (
        (ledgers.LegacyEntry(category_id=other.categories[0].id), "category"),
        (ledgers.LegacyEntry(item_id=foreign.id), "item"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            supervision.mark_legacy(case, staff("supervisor"), version=None, entry=entry)
        assert set(refused.value.field_errors) == {field}
        assert not case.is_legacy and ledgers.items_of(case) == []
        assert case.version == version


def test_the_items_that_may_be_the_same_matter_are_offered_and_one_can_be_joined(
    legacy_with_categories: Ledger,
) -> None:
    first = new_case(title="工农街1999年修路占地未补偿", public_location="工农街")
    earlier = supervision.mark_legacy(first, staff("supervisor"), version=None)
    unrelated = new_case(title="红旗西街人行道破损", public_location="红旗西街")
    supervision.mark_legacy(unrelated, staff("supervisor"), version=None)
    again = new_case(title="工农街征地补偿至今未兑现", public_location="工农街")
    assert [i.id for i in ledgers.matching_items(again)] == [earlier.id]
    item = supervision.mark_legacy(
        again, staff("supervisor"), version=None, entry=ledgers.LegacyEntry(item_id=earlier.id)
    )
    assert item.id == earlier.id and again.is_legacy
    linked = db.session.scalars(
        sa.select(LedgerItemCase.case_id).where(LedgerItemCase.item_id == item.id)
    )
    assert set(linked) == {first.id, again.id}
    assert ledgers.matching_items(again) == []  # linked already
    assert ledgers.matching_items(new_case(title="%%__", public_location="")) == []


def test_an_item_not_written_off_is_found_by_words_of_its_title(campaign: Ledger) -> None:
    bridge = _item(campaign, title="人民路天桥加装电梯")
    _item(campaign, title="红旗路路灯更换")
    _item(campaign, title="胜利路路灯更换")
    assert ledgers.find_item("天桥").id == bridge.id
    with pytest.raises(ValidationFailed) as several:
        ledgers.find_item("路灯")
    message = str(several.value.field_errors["item"])
    assert "红旗路路灯更换" in message and "胜利路路灯更换" in message
    with pytest.raises(ValidationFailed):
        ledgers.find_item("没有这样的事项")
