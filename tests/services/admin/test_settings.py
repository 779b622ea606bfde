"""Scorecard weights: validated, saved in the "scorecard_weights" setting, read back
by the scorecards, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog, Setting
from caseapp.reports import scorecards
from caseapp.reports.scorecards import Weights
from caseapp.services.admin import settings as admin_settings
from caseapp.services.errors import ValidationFailed
from tests.factories import user


def test_weights_round_trip(app_ctx: Flask, demo_base: None) -> None:
    assert scorecards.weights() == Weights(10, 50, 40)
    admin = user("admin")
    saved = admin_settings.save_scorecard_weights(
        {"response": 20, "resolution": "30", "satisfaction": 50}, admin
    )
    assert saved == Weights(20, 30, 50)
    db.session.expire_all()
    assert scorecards.weights() == Weights(20, 30, 50)
    assert db.session.get(Setting, "scorecard_weights").value == {
        "response": 20, "resolution": 30, "satisfaction": 50
    }  # fmt: skip
    # The composite uses them: 100 % response, 0 % resolution, 50 % satisfaction.
    one, none, half = Decimal(1), Decimal(0), Decimal("0.5")
    assert scorecards.composite_score(one, none, half, scorecards.weights()) == 45.0
    admin_settings.save_scorecard_weights(
        {"response": 0, "resolution": 100, "satisfaction": 0}, admin
    )
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.entity, r.entity_id, r.action, r.actor_id) for r in rows] == [
        ("setting", "scorecard_weights", "update", admin.id)
    ] * 2
    assert rows[0].before == {"response": 10, "resolution": 50, "satisfaction": 40}
    assert rows[0].after == {"response": 20, "resolution": 30, "satisfaction": 50}
    assert rows[1].before == rows[0].after
    assert scorecards.weights() == Weights(0, 100, 0)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"response": 10, "resolution": 50, "satisfaction": 50}, "total"),
        ({"response": 0, "resolution": 0, "satisfaction": 0}, "total"),
        ({"response": -10, "resolution": 60, "satisfaction": 50}, "response"),
        ({"response": 10, "resolution": 101, "satisfaction": -11}, "resolution"),
        ({"response": 10.5, "resolution": 49.5, "satisfaction": 40}, "response"),
        ({"response": "ten", "resolution": 50, "satisfaction": 40}, "response"),
        ({"response": None, "resolution": 50, "satisfaction": 40}, "response"),
        ({"response": "nan", "resolution": 50, "satisfaction": 40}, "response"),
        ({"resolution": 50, "satisfaction": 40}, "response"),
        ({"response": 10, "resolution": 50, "satisfaction": "Infinity"}, "satisfaction"),
    ],
)
def test_bad_weights_are_refused(app_ctx: Flask, values: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        admin_settings.save_scorecard_weights(values, None)
    assert field in raised.value.field_errors
    db.session.rollback()
    assert db.session.get(Setting, "scorecard_weights") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0
    assert scorecards.weights() == Weights()
