"""Reply templates as admins keep them: validated, per category, retired not deleted,
every change audited; staff are offered what is in use."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog, Category, ReplyTemplate
from caseapp.services.admin import reply_templates as admin_templates
from caseapp.services.admin.reply_templates import TemplateFields
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.pages import case_page
from tests.factories import user

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def category(code: str = "road-damage") -> Category:
    found = db.session.scalar(sa.select(Category).where(Category.service_code == code))
    assert found is not None
    return found


def offered(category_id: int) -> list[str]:
    """The titles staff see on a case of the category."""
    return [t.title for t in case_page.reply_templates(SimpleNamespace(category_id=category_id))]


def audit_actions() -> list[tuple[str, str]]:
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
    return [(r.entity, r.action) for r in rows]


def test_create_edit_retire_restore(app_ctx: Flask, demo_base: None) -> None:
    admin, road = user("admin"), category()
    row = admin_templates.create_template(
        TemplateFields(road.id, "  已派单  ", " 您反映的问题已转交处理。 ", "Passed on."),
        admin,
        NOW,
    )
    assert (row.title, row.body_zh, row.body_en) == (
        "已派单",
        "您反映的问题已转交处理。",
        "Passed on.",
    )
    general = admin_templates.create_template(TemplateFields(None, "通用", "感谢反映。"), admin)
    assert offered(road.id) == ["已派单", "通用"]
    other = db.session.scalar(
        sa.select(Category).where(Category.id != road.id).order_by(Category.id).limit(1)
    )
    assert offered(other.id) == ["通用"]

    admin_templates.update_template(
        row.id, TemplateFields(other.id, "已转办", "已转交。", ""), admin, NOW
    )
    assert offered(other.id) == ["已转办", "通用"] and offered(road.id) == ["通用"]
    admin_templates.set_template_retired(general.id, True, admin, NOW)
    assert offered(other.id) == ["已转办"]
    admin_templates.set_template_retired(general.id, False, admin, NOW)
    assert offered(road.id) == ["通用"]
    # No change: no audit row.
    admin_templates.set_template_retired(general.id, False, admin, NOW)
    admin_templates.update_template(row.id, TemplateFields(other.id, "已转办", "已转交。"), admin)

    assert audit_actions() == [
        ("reply_template", "create"),
        ("reply_template", "create"),
        ("reply_template", "update"),
        ("reply_template", "retire"),
        ("reply_template", "restore"),
    ]
    update = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()[2]
    assert update.before["category_id"] == road.id and update.after["category_id"] == other.id
    assert update.before["body_en"] == "Passed on." and update.after["body_en"] == ""
    assert update.actor_id == admin.id and update.entity_id == str(row.id)


def test_list_by_category(app_ctx: Flask, demo_base: None) -> None:
    road = category()
    admin_templates.create_template(TemplateFields(road.id, "B", "乙"), None)
    retired = admin_templates.create_template(TemplateFields(road.id, "A", "甲"), None)
    admin_templates.set_template_retired(retired.id, True, None)
    admin_templates.create_template(TemplateFields(None, "通用", "感谢。"), None)
    groups = admin_templates.list_by_category()
    assert [g.category for g in groups] == [None, road]
    assert [t.title for t in groups[1].templates] == ["B", "A"]  # in use first


VALID = {"category_id": None, "title": "已派单", "body_zh": "已转交。", "body_en": ""}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "题" * 121}, "title"),
        ({"body_zh": ""}, "body_zh"),
        ({"body_zh": " \n "}, "body_zh"),
        ({"body_zh": "字" * 4001}, "body_zh"),
        ({"body_en": "x" * 4001}, "body_en"),
        ({"category_id": 999999}, "category_id"),
        ({"category_id": "retired"}, "category_id"),
    ],
)
def test_bad_templates_are_refused(
    app_ctx: Flask, demo_base: None, changes: dict, field: str
) -> None:
    if changes.get("category_id") == "retired":
        road = category()
        road.retired_at = NOW
        db.session.commit()
        changes = {"category_id": road.id}
    with pytest.raises(ValidationFailed) as raised:
        admin_templates.create_template(TemplateFields(**{**VALID, **changes}), None)
    assert set(raised.value.field_errors) == {field}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReplyTemplate)) == 0
    assert audit_actions() == []


def test_a_template_may_stay_in_its_retired_category(app_ctx: Flask, demo_base: None) -> None:
    road = category()
    row = admin_templates.create_template(TemplateFields(road.id, "已派单", "已转交。"), None)
    road.retired_at = NOW
    db.session.commit()
    admin_templates.update_template(row.id, TemplateFields(road.id, "已转办", "已转交。"), None)
    assert db.session.get(ReplyTemplate, row.id).title == "已转办"


def test_unknown_templates(app_ctx: Flask) -> None:
    with pytest.raises(NotFound):
        admin_templates.update_template(1, TemplateFields(None, "x", "y"), None)
    with pytest.raises(NotFound):
        admin_templates.set_template_retired(1, True, None)
