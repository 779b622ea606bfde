"""Automatic write-off (销号) of ledger items from their cases (DESIGN §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Ledger, LedgerItem, LedgerItemEvent
from caseapp.models.enums import CaseStatus, LedgerItemStatus, LedgerKind, Satisfaction
from caseapp.services import closing, intake, supervision
from caseapp.services.lifecycle import Actor
from tests.factories import case_in, new_case, staff


@pytest.fixture
def legacy_ledger(app_ctx: Flask, demo_base: None) -> Ledger:
    ledger = Ledger(code="legacy", name_zh="理旧账", name_en="Legacy", kind=LedgerKind.LEGACY)
    db.session.add(ledger)
    db.session.commit()
    return ledger


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
    from tests.factories import department

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
    from caseapp.services import casework

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
    from caseapp.services import casework

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
