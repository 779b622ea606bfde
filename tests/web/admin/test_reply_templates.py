"""The reply templates pages: list by category, add, edit, retire and bring back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog, Category, ReplyTemplate
from caseapp.services.admin import reply_templates as admin_templates
from caseapp.services.admin.reply_templates import TemplateFields
from tests.conftest import AuthActions, csrf_token


def road_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Category.id).where(Category.service_code == "road-damage")
        )


def test_admin_adds_and_edits_a_template(app: Flask, admin_client: FlaskClient) -> None:
    road = road_id(app)
    assert admin_client.get("/admin/reply-templates").status_code == 200
    token = csrf_token(admin_client, "/admin/reply-templates/new")
    added = admin_client.post(
        "/admin/reply-templates/new",
        data={"category_id": str(road), "title": "已派单", "body_zh": "已转交处理。",
              "body_en": "Passed on.", "csrf_token": token},
    )  # fmt: skip
    assert added.status_code == 302 and added.headers["Location"].endswith("/admin/reply-templates")
    with app.app_context():
        row = db.session.scalar(sa.select(ReplyTemplate))
        assert (row.category_id, row.title, row.body_en) == (road, "已派单", "Passed on.")
        row_id = row.id
    listing = admin_client.get("/admin/reply-templates").get_data(as_text=True)
    assert "已派单" in listing and f"/admin/reply-templates/{row_id}" in listing
    edit_page = admin_client.get(f"/admin/reply-templates/{row_id}").get_data(as_text=True)
    assert "已转交处理。" in edit_page and f'<option selected value="{road}">' in edit_page
    saved = admin_client.post(
        f"/admin/reply-templates/{row_id}",
        data={"category_id": "", "title": "已转办", "body_zh": "已转交。", "csrf_token": token},
    )
    assert saved.status_code == 302
    with app.app_context():
        row = db.session.get(ReplyTemplate, row_id)
        assert (row.category_id, row.title, row.body_en) == (None, "已转办", "")
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["create", "update"]


def test_admin_retires_and_brings_back(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        row_id = admin_templates.create_template(TemplateFields(None, "通用", "感谢。"), None).id
    token = csrf_token(admin_client, "/admin/reply-templates")
    assert admin_client.get(f"/admin/reply-templates/{row_id}/retire").status_code == 405
    assert admin_client.post(f"/admin/reply-templates/{row_id}/retire").status_code == 400
    url = f"/admin/reply-templates/{row_id}/retire"
    assert admin_client.post(url, data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(ReplyTemplate, row_id).retired_at is not None
    listing = admin_client.get("/admin/reply-templates").get_data(as_text=True)
    assert f"/admin/reply-templates/{row_id}/restore" in listing
    url = f"/admin/reply-templates/{row_id}/restore"
    assert admin_client.post(url, data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(ReplyTemplate, row_id).retired_at is None
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["create", "retire", "restore"]
    for path in ("/admin/reply-templates/999", "/admin/reply-templates/999/retire"):
        assert admin_client.post(path, data={"csrf_token": token}).status_code == 404
    assert admin_client.get("/admin/reply-templates/999").status_code == 404


@pytest.mark.parametrize(
    ("changes", "reason", "field_id"),
    [
        ({"title": ""}, "This field is required.", "title"),
        ({"title": "题" * 121}, "120", "title"),
        ({"body_zh": "   "}, "This field is required.", "body_zh"),
        ({"body_zh": ""}, "This field is required.", "body_zh"),
        ({"body_en": "x" * 4001}, "4000", "body_en"),
        ({"category_id": "999999"}, "Choose a category in use.", "category_id"),
        ({"category_id": "abc"}, "Not a valid choice.", "category_id"),
        ({"category_id": str(2**70)}, "Not a valid choice.", "category_id"),
    ],
)
def test_bad_input_is_shown_on_the_form(
    app: Flask, admin_client: FlaskClient, changes: dict, reason: str | None, field_id: str | None
) -> None:
    token = csrf_token(admin_client, "/admin/reply-templates/new?lang=en")
    data = {"category_id": "", "title": "已派单", "body_zh": "已转交。", "body_en": "", **changes}
    response = admin_client.post("/admin/reply-templates/new", data={**data, "csrf_token": token})
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(ReplyTemplate))
    if reason is None:
        assert response.status_code == 302 and count == 1
        return
    assert response.status_code == 400 and count == 0
    body = response.get_data(as_text=True)
    assert reason in body and f'id="{field_id}-error"' in body


@pytest.mark.parametrize("username", ["handler", "supervisor"])
def test_only_admins_reach_the_templates(app: Flask, demo_base: None, username: str) -> None:
    client = app.test_client()
    AuthActions(client).login(username)
    token = csrf_token(client, "/staff/queue")
    for path in (
        "/admin/reply-templates",
        "/admin/reply-templates/new",
        "/admin/reply-templates/1",
    ):
        assert client.get(path).status_code == 403
    data = {"title": "x", "body_zh": "y", "csrf_token": token}
    for path in ("/admin/reply-templates/new", "/admin/reply-templates/1",
                 "/admin/reply-templates/1/retire", "/admin/reply-templates/1/restore"):  # fmt: skip
        assert client.post(path, data=data).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReplyTemplate)) == 0
