"""A clerk filing a request for a citizen can mark it a legacy issue (历史遗留) in the same
flow: the case is filed and gets its item in the legacy-issue ledger."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, LedgerItem
from caseapp.models.enums import EventAction, LedgerItemStatus
from tests.factories import legacy_ledger
from tests.web.staff.test_intake_on_behalf import URL, field_error, filing


def test_a_legacy_filing_gets_its_item_in_the_legacy_ledger(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        legacy_ledger()
    response = intake_client.post(URL, data=filing(intake_client, legacy="y"))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(sa.select(Case))
        assert case.is_legacy
        item = db.session.scalar(sa.select(LedgerItem))
        assert (item.code, item.title, item.status) == (
            case.number,
            case.title,
            LedgerItemStatus.OPEN,
        )
        actions = db.session.scalars(
            sa.select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
        assert actions == [EventAction.SUBMIT, EventAction.MARK_LEGACY]


def test_a_plain_filing_is_not_legacy(app: Flask, intake_client: FlaskClient) -> None:
    assert intake_client.post(URL, data=filing(intake_client)).status_code == 302
    with app.app_context():
        assert not db.session.scalar(sa.select(Case)).is_legacy
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerItem)) == 0


def test_without_a_legacy_ledger_nothing_is_filed_and_the_box_says_why(
    app: Flask, intake_client: FlaskClient
) -> None:
    intake_client.get("/staff/queue?lang=en")
    response = intake_client.post(URL, data=filing(intake_client, legacy="y"))
    assert response.status_code == 400
    assert "There is no legacy-issue ledger" in field_error(
        response.get_data(as_text=True), "legacy"
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
