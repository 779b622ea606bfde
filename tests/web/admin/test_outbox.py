"""The outbox's dead letters in the admin console: shown, retried or dropped, audited.
(That every admin URL is closed to everyone else: test_admin_authorization.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog, OutboxMessage
from caseapp.models.enums import OutboxChannel, OutboxStatus
from tests.conftest import csrf_token


def dead_notice(app: Flask) -> int:
    with app.app_context():
        row = OutboxMessage(
            idempotency_key="dead-1", channel=OutboxChannel.SMS, recipient="13812345678",
            template="receipt", params={"number": "YC2026-000001"}, status=OutboxStatus.DEAD,
            attempts=8, last_error="gateway down", created_at=datetime(2026, 11, 1, tzinfo=UTC),
        )  # fmt: skip
        db.session.add(row)
        db.session.commit()
        return row.id


def test_admin_sees_retries_and_drops_dead_notices(app: Flask, admin_client: FlaskClient) -> None:
    first = dead_notice(app)
    page = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert "gateway down" in page and "receipt" in page
    token = csrf_token(admin_client, "/admin/outbox")
    assert admin_client.get(f"/admin/outbox/{first}/retry").status_code == 405
    assert admin_client.post(f"/admin/outbox/{first}/retry").status_code == 400  # no CSRF token
    assert (
        admin_client.post(f"/admin/outbox/{first}/retry", data={"csrf_token": token}).status_code
        == 302
    )
    with app.app_context():
        row = db.session.get(OutboxMessage, first)
        assert row.status is OutboxStatus.PENDING and row.attempts == 0
        audit = db.session.scalar(sa.select(AuditLog))
        assert (audit.entity, audit.action, audit.before["status"]) == ("outbox", "retry", "dead")
        row.status = OutboxStatus.DEAD
        db.session.commit()
    assert (
        admin_client.post(f"/admin/outbox/{first}/drop", data={"csrf_token": token}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(OutboxMessage, first).status is OutboxStatus.DROPPED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 2
    # A notice that is not dead cannot be retried or dropped.
    assert (
        admin_client.post(f"/admin/outbox/{first}/drop", data={"csrf_token": token}).status_code
        == 404
    )
