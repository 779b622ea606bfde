"""The demo city: its ledger figures, statuses and headline cases read back from the data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.demo.base import load_base
from caseapp.demo.city import load_city
from caseapp.extensions import db
from caseapp.models import Case, Ledger, LedgerCategory, LedgerItem, LedgerItemEvent
from caseapp.models.enums import CaseStatus, CloseReason, LedgerItemStatus, Role
from caseapp.services.ledgers import items as ledgers

pytestmark = pytest.mark.long


@pytest.fixture
def city(app_ctx: Flask, demo_city: None) -> None:
    """The demo city as its loader made it (once per worker, put back for each test)."""


def _items(ledger_code: str) -> dict[tuple[str, LedgerItemStatus], int]:
    rows = db.session.execute(
        sa.select(LedgerCategory.name_zh, LedgerItem.status, sa.func.count())
        .join(Ledger, Ledger.id == LedgerItem.ledger_id)
        .join(LedgerCategory, LedgerCategory.id == LedgerItem.category_id)
        .where(Ledger.code == ledger_code)
        .group_by(LedgerCategory.name_zh, LedgerItem.status)
    ).all()
    return {(name, status): count for name, status, count in rows}


@pytest.mark.usefixtures("city")
def test_campaign_ledger_has_1106_items_in_the_six_categories() -> None:
    items = _items("campaign-2021")
    per_category: dict[str, int] = {}
    for (name, _status), count in items.items():
        per_category[name] = per_category.get(name, 0) + count
    assert per_category == {
        "解民忧暖民心": 473,
        "关爱老区关心英烈后代": 41,
        "党员志愿活动": 239,
        "政策惠民": 108,
        "项目建设服务": 209,
        "历史遗留问题及信访积案化解": 36,
    }
    assert sum(per_category.values()) == 1106


@pytest.mark.usefixtures("city")
def test_legacy_ledger_has_32_items_19_written_off_through_their_cases() -> None:
    ledger = db.session.scalar(sa.select(Ledger).where(Ledger.code == "legacy"))
    items = db.session.scalars(sa.select(LedgerItem).where(LedgerItem.ledger_id == ledger.id)).all()
    statuses = [item.status for item in items]
    assert len(items) == 32
    assert statuses.count(LedgerItemStatus.WRITTEN_OFF) == 19
    assert statuses.count(LedgerItemStatus.IN_PROGRESS) == 13
    for item in items:
        case = db.session.scalar(sa.select(Case).where(Case.number == item.code))
        assert case is not None and case.is_legacy
        assert ledgers.expected_item_state(item) is item.status
        if item.status is LedgerItemStatus.WRITTEN_OFF:
            # Written off by the close of its case, with the event that says so.
            assert case.status is CaseStatus.CLOSED
            assert case.close_reason in (CloseReason.RATED, CloseReason.NO_RATING)
            write_off = db.session.scalar(
                sa.select(LedgerItemEvent).where(
                    LedgerItemEvent.item_id == item.id, LedgerItemEvent.action == "write_off"
                )
            )
            assert write_off is not None and write_off.case_id == case.id
        else:
            assert case.status is CaseStatus.IN_PROGRESS


@pytest.mark.usefixtures("city")
def test_every_status_is_there_with_overdue_and_due_soon_cases() -> None:
    from datetime import UTC, datetime, timedelta

    statuses = set(db.session.scalars(sa.select(Case.status).distinct()))
    assert statuses == set(CaseStatus)
    now = datetime.now(UTC)
    overdue = db.session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(Case.next_deadline_at < now)
    )
    soon = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Case)
        .where(Case.next_deadline_at >= now, Case.next_deadline_at < now + timedelta(days=2))
    )
    assert overdue >= 3
    assert soon >= 1


@pytest.mark.usefixtures("city")
def test_headline_cases_and_a_petition_under_review() -> None:
    bus = db.session.scalar(sa.select(Case).where(Case.title.contains("公交站点")))
    assert bus is not None and "圣惠路" in bus.title
    land = db.session.scalar(sa.select(Case).where(Case.title.contains("343.4")))
    assert land is not None and "1999" in land.title and land.is_legacy
    review = db.session.scalar(sa.select(Case).where(Case.review_of_id.is_not(None)))
    assert review is not None and review.review_level == 1
    assert review.review_of.decision is not None


def test_loading_twice_adds_nothing(app_ctx: Flask) -> None:
    load_base()
    assert load_city() is True
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    assert load_city() is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == count


@pytest.mark.usefixtures("city")
def test_every_waiting_request_reaches_someone_who_may_decide_it() -> None:
    """Each request waiting in the demo has a decider by the lifecycle table (a petition's
    extension: its department's lead), who was told in the inbox and may decide it."""
    from caseapp.models import CaseRequest, InboxMessage
    from caseapp.models.enums import RequestStatus
    from caseapp.services.casework.lifecycle import DECIDED_BY, Actor, offered_actions
    from caseapp.services.notices.staff import deciders

    waiting = db.session.scalars(
        sa.select(CaseRequest).where(CaseRequest.status == RequestStatus.PENDING)
    ).all()
    assert waiting
    for request in waiting:
        people = deciders(request.case, request.kind)
        assert people, f"nobody decides {request.kind} on {request.case.number}"
        for person in people:
            assert DECIDED_BY[request.kind] in offered_actions(request.case, Actor.staff(person))
        told = db.session.scalars(
            sa.select(InboxMessage.user_id).where(
                InboxMessage.case_id == request.case_id, InboxMessage.kind == "approval_waiting"
            )
        ).all()
        assert set(told) & {p.id for p in people}, request.case.number
    # A petition's extension is decided by its department's lead: every department the
    # demo's cases go to has one.
    from caseapp.models import User
    from caseapp.services.directory import users_with_role

    leading = set(db.session.scalars(sa.select(Case.lead_department_id).distinct()).all())
    leading.discard(None)
    with_lead = {u.department_id for u in users_with_role(Role.LEAD)}
    assert leading and leading <= with_lead, leading - with_lead
    assert db.session.scalar(sa.select(User).where(User.username == "lead-zrzyj")) is not None
