"""Ledgers in a real browser, on the demo city: a supervisor records the follow-up
rating that closes the last open case of a legacy item, and the legacy ledger moves
from 19 to 20 written off. The ledger pages pass axe in both languages on a desktop and
a phone, and are saved as screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Browser, expect

from caseapp.extensions import db
from caseapp.models import Case, LedgerItem, LedgerItemCase
from caseapp.models.enums import CaseKind, CaseStatus, LedgerItemStatus
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.ledgers.items import legacy_ledger
from tests.browser.conftest import new_context, sign_in
from tests.browser.test_accessibility import check


def answered_legacy_case(app: Flask) -> str:
    """A legacy item's only case, answered by its handler: it waits for the rating."""
    with app.app_context():
        ledger = legacy_ledger()
        case = db.session.scalar(
            sa.select(Case)
            .join(LedgerItemCase, LedgerItemCase.case_id == Case.id)
            .join(LedgerItem, LedgerItem.id == LedgerItemCase.item_id)
            .where(
                LedgerItem.ledger_id == ledger.id,
                LedgerItem.status == LedgerItemStatus.IN_PROGRESS,
                Case.status == CaseStatus.IN_PROGRESS,
                Case.kind != CaseKind.PETITION,  # its answer would be a written decision
            )
            .order_by(Case.id)
            .limit(1)
        )
        assert case is not None and case.handler is not None
        casework.resolve_case(
            case, Actor.staff(case.handler), "经协调，补偿款已发放到位。", version=None
        )
        number = case.number
        db.session.remove()
    return number


def test_a_follow_up_rating_writes_off_a_legacy_item(
    app: Flask, browser: Browser, live_server: str, demo_city: None, screenshots: Path
) -> None:
    number = answered_legacy_case(app)
    context = new_context(browser, live_server)
    page = context.new_page()
    sign_in(page, "supervisor")
    page.goto("/supervisor/ledgers/legacy")
    sentence = page.locator(".ledger-sentence")
    expect(sentence).to_have_text("共32件，已化解19件，正在推进13件")

    page.goto(f"/staff/cases/{number}")
    page.locator("#action-rate > summary").click()
    form = page.locator("#action-rate")
    form.get_by_label("是", exact=True).check()
    form.get_by_label("满意", exact=True).check()
    form.locator("textarea").fill("电话回访：补偿款已收到，问题已解决。")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash:not(.calendar-warning)").first).to_be_visible()

    page.goto("/supervisor/ledgers/legacy")
    expect(sentence).to_have_text("共32件，已化解20件，正在推进12件")
    page.screenshot(path=screenshots / "ledger-legacy-after-write-off.png", full_page=True)
    context.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_ledger_pages_pass_axe(
    browser: Browser, live_server: str, demo_city: None, screenshots: Path, lang: str, device: str
) -> None:
    context = new_context(browser, live_server, phone=device == "phone")
    page = context.new_page()
    sign_in(page, "supervisor", lang)
    suffix = f"{lang}-{device}"
    page.goto(f"/supervisor/ledgers?lang={lang}")
    check(page, f"ledgers-{suffix}", screenshots)
    page.goto("/supervisor/ledgers/legacy")
    check(page, f"ledger-{suffix}", screenshots)
    page.goto("/supervisor/ledgers/legacy/items?state=in_progress")
    check(page, f"ledger-items-{suffix}", screenshots)
    page.locator("td a").first.click()
    check(page, f"ledger-item-{suffix}", screenshots)
    page.goto("/supervisor/ledgers/legacy/import")
    check(page, f"ledger-import-{suffix}", screenshots)
    context.close()

    lead = new_context(browser, live_server, phone=device == "phone")
    page = lead.new_page()
    sign_in(page, "lead", lang)
    page.goto("/staff/ledger-items")
    check(page, f"department-ledger-items-{suffix}", screenshots)
    lead.close()
