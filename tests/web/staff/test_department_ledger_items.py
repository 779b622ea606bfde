"""The department view of ledger items: a lead sees the items their department and the
departments below it own, by ledger, the late ones first; nobody else gets in."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Department, Ledger, LedgerItem, LedgerMilestone
from caseapp.models.enums import LedgerItemStatus
from tests.conftest import _client_as
from tests.factories import department, ledger, legacy_ledger, new_department

URL = "/staff/ledger-items"


@pytest.fixture
def items(app: Flask, demo_base: None) -> None:
    """Items of two ledgers: the lead's bureau (zjj) owns some, a street office below it
    one, another bureau (cgj) one."""
    today = datetime.now(ZoneInfo(app.config["CITY_TIMEZONE"])).date()
    with app.app_context():
        zjj = department("zjj")
        office = new_department("zjj-child", "住建局下属中心", "Housing centre", parent=zjj)
        campaign = ledger(categories=())
        legacy = legacy_ledger()

        def item(
            ledger: Ledger,
            title: str,
            owner: Department,
            target: date | None,
            status: LedgerItemStatus = LedgerItemStatus.IN_PROGRESS,
            **fields: object,
        ) -> None:
            db.session.add(LedgerItem(ledger_id=ledger.id, title=title, owner_department_id=owner.id,
                                      target_date=target, status=status, **fields))  # fmt: skip

        item(campaign, "on-time", zjj, today + timedelta(days=20))
        item(campaign, "due-today", zjj, today)
        item(campaign, "late-target", zjj, today - timedelta(days=1))
        item(campaign, "settled", zjj, today - timedelta(days=90), LedgerItemStatus.WRITTEN_OFF)
        item(campaign, "street-office", office, today + timedelta(days=5), LedgerItemStatus.OPEN)
        item(campaign, "other-bureau", department("cgj"), today - timedelta(days=9))
        item(legacy, "late-milestone", zjj, today + timedelta(days=60), milestones=[
            LedgerMilestone(title="摸清底数", due_date=today - timedelta(days=3)),
        ])  # fmt: skip
        db.session.commit()


def titles(section: str) -> list[str]:
    return re.findall(
        r'<tr class="ledger-item[^"]*" id="item-\d+">\s*<th scope="row">\s*([\w-]+)', section
    )


def test_a_lead_sees_their_department_s_items_late_first(app: Flask, items: None) -> None:
    client = _client_as(app, "lead")
    page = client.get(URL + "?lang=en").get_data(as_text=True)
    assert f'href="{URL}"' in page  # in the navigation
    campaign, legacy = re.findall(r'<section class="card ledger-group"[\s\S]*?</section>', page)
    assert "Practical things" in campaign and "Legacy issues" in legacy
    assert titles(campaign) == ["late-target", "due-today", "street-office", "on-time", "settled"]
    assert "other-bureau" not in page
    assert "5 in all, 1 written off, 3 in progress, 1 not started; 1 late." in campaign
    late_row = re.search(r'<tr class="ledger-item is-late"[\s\S]*?</tr>', campaign).group(0)
    assert "late-target" in late_row and "Late</span>" in late_row
    assert titles(legacy) == ["late-milestone"]
    assert "Late milestones: 1" in legacy and "1 late." in legacy
    # A lead cannot open the supervisors' item page, so no item links there.
    assert "/supervisor/ledger-items/" not in page


@pytest.mark.parametrize("username", ["handler", "intake", "supervisor"])
def test_anyone_but_a_lead_is_refused(app: Flask, items: None, username: str) -> None:
    client = _client_as(app, username)
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get("/staff/queue").get_data(as_text=True)


def test_a_lead_whose_department_owns_nothing_is_told_so(app: Flask, demo_base: None) -> None:
    page = _client_as(app, "lead").get(URL + "?lang=en").get_data(as_text=True)
    assert "Your department owns no ledger items." in page
