"""The admin category pages: create, edit with questions, retire and unretire, the
public form following along, 400s with reasons, audit rows, 403 for non-admins."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog, Category, DeadlinePolicy
from tests.conftest import csrf_token


@pytest.fixture
def admin_en(admin_client: FlaskClient) -> FlaskClient:
    admin_client.get("/admin/?lang=en")
    return admin_client


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditLog.action)
                .where(AuditLog.entity == "category")
                .order_by(AuditLog.id)
            )
        )


def category_form(app: Flask, **changes: str) -> dict[str, str]:
    with app.app_context():
        policy_id = db.session.scalar(
            sa.select(DeadlinePolicy.id).where(DeadlinePolicy.code == "standard")
        )
    data = {
        "service_code": "dog-noise",
        "name_zh": "犬吠扰民",
        "name_en": "Barking dogs",
        "group_zh": "环境保护",
        "group_en": "Environment",
        "policy_id": str(policy_id),
        "default_department_id": "",
        "anonymous_allowed": "y",
        "questions-0-code": "when",
        "questions-0-label_zh": "通常几点",
        "questions-0-label_en": "Usually at what time",
        "questions-0-datatype": "singlevaluelist",
        "questions-0-required": "y",
        "questions-0-choices": "night|夜间|At night\nday|白天|By day",
    }
    data.update(changes)
    return data


def created(app: Flask) -> Category:
    with app.app_context():
        category = db.session.scalar(
            sa.select(Category).where(Category.service_code == "dog-noise")
        )
        assert category is not None
        db.session.expunge_all()
        return category


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/admin/categories"),
        ("get", "/admin/categories/new"),
        ("get", "/admin/categories/1"),
        ("post", "/admin/categories/new"),
        ("post", "/admin/categories/1"),
        ("post", "/admin/categories/1/retire"),
        ("post", "/admin/categories/1/unretire"),
    ],
)
def test_others_get_403(intake_client: FlaskClient, method: str, url: str) -> None:
    token = csrf_token(intake_client, "/staff/queue")
    assert getattr(intake_client, method)(url, data={"csrf_token": token}).status_code == 403


def test_create_edit_retire_unretire(app: Flask, admin_en: FlaskClient) -> None:
    data = category_form(app, csrf_token=csrf_token(admin_en, "/admin/categories/new"))
    response = admin_en.post("/admin/categories/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    category = created(app)
    page = admin_en.get("/admin/categories").get_data(as_text=True)
    assert "dog-noise" in page and "Environment" in page
    assert "Barking dogs" in admin_en.get("/requests/new").get_data(as_text=True)
    form = admin_en.get("/requests/new?category=dog-noise").get_data(as_text=True)
    assert "Usually at what time" in form and "At night" in form

    url = f"/admin/categories/{category.id}"
    assert "night|夜间|At night" in admin_en.get(url).get_data(as_text=True)
    data = category_form(app, name_en="Noisy dogs", csrf_token=csrf_token(admin_en, url))
    assert admin_en.post(url, data=data).status_code == 302
    token = csrf_token(admin_en, "/admin/categories")
    assert admin_en.post(f"{url}/retire", data={"csrf_token": token}).status_code == 302
    assert "Noisy dogs" not in admin_en.get("/requests/new").get_data(as_text=True)
    assert admin_en.post(f"{url}/unretire", data={"csrf_token": token}).status_code == 302
    assert "Noisy dogs" in admin_en.get("/requests/new").get_data(as_text=True)
    assert audit_actions(app) == ["create", "update", "retire", "unretire"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"service_code": ""}, "This field is required."),
        ({"service_code": "Dog Noise"}, "Use lower-case letters, digits and hyphens"),
        ({"service_code": "road-damage"}, "This code is already taken."),
        ({"name_en": ""}, "This field is required."),
        ({"group_zh": ""}, "This field is required."),
        ({"policy_id": ""}, "Choose one of the options."),
        ({"policy_id": "99999"}, "Choose one of the options."),
        ({"default_department_id": "99999"}, "Choose one of the options."),
        ({"questions-0-code": "When?"}, "Use lower-case letters, digits, hyphens and underscores."),
        ({"questions-0-label_zh": ""}, "This field is required."),
        ({"questions-0-datatype": "colour"}, "Choose one of the options."),
        ({"questions-0-choices": ""}, "A list question needs at least one choice."),
        ({"questions-0-choices": "night"}, "Write each choice on its own line"),
        ({"questions-0-datatype": "string"}, "Only list questions have choices."),
    ],
)
def test_bad_input_is_400(
    app: Flask, admin_en: FlaskClient, changes: dict[str, str], message: str
) -> None:
    data = category_form(app, **changes, csrf_token=csrf_token(admin_en, "/admin/categories/new"))
    response = admin_en.post("/admin/categories/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audit_actions(app) == []


def test_retire_missing_category_is_404(admin_client: FlaskClient) -> None:
    token = csrf_token(admin_client, "/admin/categories")
    assert (
        admin_client.post("/admin/categories/99999/retire", data={"csrf_token": token}).status_code
        == 404
    )
