"""The API keys page: the list, a key shown once (never cached), revoking; admins only."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import ApiKey, AuditLog
from caseapp.services.admin import api_keys
from tests.conftest import AuthActions, csrf_token

KEY_RE = re.compile(re.escape(api_keys.KEY_MARK) + r"[A-Za-z0-9_-]{40,}")


def test_admin_issues_a_key_and_sees_it_once(app: Flask, admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/api-keys?lang=en")
    assert page.status_code == 200 and "No API key has been issued." in page.get_data(True)
    token = csrf_token(admin_client, "/admin/api-keys")
    created = admin_client.post("/admin/api-keys", data={"name": "City app", "csrf_token": token})
    assert created.status_code == 200
    assert "no-store" in created.headers["Cache-Control"]
    raw = KEY_RE.search(created.get_data(as_text=True)).group(0)
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        assert key.key_hash == api_keys.hash_key(raw) and key.created_by.username == "admin"
    listing = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert "City app" in listing and key.prefix in listing and raw not in listing


def test_admin_revokes_a_key(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        key, raw = api_keys.create_key("City app", None)
        key_id = key.id
    token = csrf_token(admin_client, "/admin/api-keys")
    assert admin_client.get(f"/admin/api-keys/{key_id}/revoke").status_code == 405
    assert admin_client.post(f"/admin/api-keys/{key_id}/revoke").status_code == 400  # no CSRF
    done = admin_client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/api-keys")
    with app.app_context():
        assert api_keys.key_for(raw) is None
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["create", "revoke"]
    page = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert f"/admin/api-keys/{key_id}/revoke" not in page
    missing = admin_client.post("/admin/api-keys/999/revoke", data={"csrf_token": token})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "This field is required."),
        ("x" * 121, "120"),
        ("Taken", "A key in use already has this name; choose another."),
    ],
)
def test_bad_names_are_shown_on_the_form(
    app: Flask, admin_client: FlaskClient, name: str, reason: str
) -> None:
    with app.app_context():
        api_keys.create_key("Taken", None)
    token = csrf_token(admin_client, "/admin/api-keys?lang=en")
    response = admin_client.post("/admin/api-keys", data={"name": name, "csrf_token": token})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'class="field-error" id="name-error"' in body and reason in body
    assert not KEY_RE.search(body.replace("Taken", ""))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 1


@pytest.mark.parametrize("username", ["intake", "supervisor"])
def test_only_admins_reach_the_keys(app: Flask, demo_base: None, username: str) -> None:
    client = app.test_client()
    AuthActions(client).login(username)
    token = csrf_token(client, "/staff/queue")
    assert client.get("/admin/api-keys").status_code == 403
    for path in ("/admin/api-keys", "/admin/api-keys/1/revoke"):
        assert client.post(path, data={"name": "x", "csrf_token": token}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


MY_ENDPOINTS = {
    "admin.api_keys_page", "admin.create_api_key", "admin.revoke_api_key",
    "admin.settings", "admin.save_scorecard_weights",
    "admin.reply_templates", "admin.new_reply_template", "admin.create_reply_template",
    "admin.edit_reply_template", "admin.update_reply_template",
    "admin.retire_reply_template", "admin.restore_reply_template",
}  # fmt: skip


def test_keys_weights_and_templates_are_for_admins_only(app: Flask, demo_base: None) -> None:
    """Every URL and method of these areas, taken from the URL map, is 403 for a lead."""
    client = app.test_client()
    AuthActions(client).login("lead")
    token = csrf_token(client, "/staff/queue")
    rules = [r for r in app.url_map.iter_rules() if r.endpoint in MY_ENDPOINTS]
    assert {r.endpoint for r in rules} == MY_ENDPOINTS
    for rule in rules:
        path = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 403, (method, path)
