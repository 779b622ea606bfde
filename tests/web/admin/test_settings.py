"""The settings page: scorecard weights saved through the form, used by the scorecards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.reports.scorecards import Weights, weights
from tests.conftest import AuthActions, csrf_token


def test_admin_saves_the_weights(
    app: Flask, admin_client: FlaskClient, supervisor_client: FlaskClient
) -> None:
    page = admin_client.get("/admin/settings?lang=en")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="response"' in body and 'value="10"' in body and 'value="50"' in body
    token = csrf_token(admin_client, "/admin/settings")
    done = admin_client.post(
        "/admin/settings/scorecard-weights",
        data={"response": "20", "resolution": "40", "satisfaction": "40", "csrf_token": token},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/settings")
    with app.app_context():
        assert weights() == Weights(20, 40, 40)
        assert db.session.scalar(sa.select(AuditLog.entity_id)) == "scorecard_weights"
    assert 'value="20"' in admin_client.get("/admin/settings").get_data(as_text=True)
    scorecard_page = supervisor_client.get("/supervisor/scorecards?lang=en")
    assert scorecard_page.status_code == 200
    assert "20% response rate + 40% resolution rate" in scorecard_page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "reason", "field_id"),
    [
        ({"response": "10", "resolution": "50", "satisfaction": "50"},
         "The three weights must add up to 100.", None),
        ({"response": "", "resolution": "50", "satisfaction": "50"},
         "This field is required.", "response"),
        ({"response": "ten", "resolution": "50", "satisfaction": "40"},
         "Enter a whole number from 0 to 100.", "response"),
        ({"response": "10.5", "resolution": "49.5", "satisfaction": "40"},
         "Enter a whole number from 0 to 100.", "resolution"),
        ({"response": "-10", "resolution": "70", "satisfaction": "40"},
         "Enter a whole number from 0 to 100.", "response"),
        ({"response": "0", "resolution": "0", "satisfaction": "1000"},
         "Enter a whole number from 0 to 100.", "satisfaction"),
    ],
)  # fmt: skip
def test_bad_weights_are_shown_on_the_form(
    app: Flask, admin_client: FlaskClient, data: dict, reason: str, field_id: str | None
) -> None:
    token = csrf_token(admin_client, "/admin/settings?lang=en")
    response = admin_client.post(
        "/admin/settings/scorecard-weights", data={**data, "csrf_token": token}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert reason in body and "error-summary" in body
    if field_id:
        assert f'id="{field_id}-error"' in body
    with app.app_context():
        assert weights() == Weights()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_only_admins_change_the_weights(app: Flask, demo_base: None) -> None:
    client = app.test_client()
    AuthActions(client).login("supervisor")
    token = csrf_token(client, "/staff/queue")
    assert client.get("/admin/settings").status_code == 403
    data = {"response": "0", "resolution": "0", "satisfaction": "100", "csrf_token": token}
    assert client.post("/admin/settings/scorecard-weights", data=data).status_code == 403
    with app.app_context():
        assert weights() == Weights()
