"""The outbox's dead letters in the admin console: shown, retried or dropped, audited;
and every admin URL closed to everyone but administrators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog, OutboxMessage
from caseapp.models.enums import OutboxChannel, OutboxStatus
from tests.conftest import AuthActions, csrf_token


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


def admin_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = rule.rule.replace("<int:message_id>", "1")
            method = "POST" if "POST" in rule.methods else "GET"
            urls.append((method, path))
    return urls


@pytest.mark.parametrize("username", ["intake", "handler", "lead", "supervisor", "leader"])
def test_only_administrators_reach_the_admin_console(
    app: Flask, demo_base: None, username: str
) -> None:
    client = app.test_client()
    AuthActions(client).login(username)
    token = csrf_token(client, "/staff/queue")
    urls = admin_urls(app)
    assert ("GET", "/admin/") in urls and ("POST", "/admin/outbox/1/retry") in urls
    for method, path in urls:
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (username, method, path)


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    for method, path in admin_urls(app):
        if method == "GET":
            assert client.get(path).status_code == 302


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
