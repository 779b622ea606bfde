"""Admin categories as a service: validation, questions kept by code, retire rule, and
an audit row for every change."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog, Category, DeadlinePolicy
from caseapp.services.admin import catalog as admin_catalog
from caseapp.services.admin.catalog import CategoryFields, QuestionFields
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing import catalog
from tests import factories


@pytest.fixture
def admin(app_ctx: Flask, demo_base: None):  # type: ignore[no-untyped-def]
    return factories.user("admin")


def fields(**changes: object) -> CategoryFields:
    policy_id = db.session.scalar(
        sa.select(DeadlinePolicy.id).where(DeadlinePolicy.code == "standard")
    )
    base = CategoryFields(
        service_code="dog-noise",
        name_zh="犬吠扰民",
        name_en="Barking dogs",
        group_zh="环境保护",
        group_en="Environment",
        policy_id=policy_id,
        default_department_id=factories.department("cgj").id,
        anonymous_allowed=True,
        questions=[
            QuestionFields(
                "when", "通常几点", "When", "singlevaluelist", True, "night|夜间|At night"
            )
        ],
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def actions() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditLog.action).where(AuditLog.entity == "category").order_by(AuditLog.id)
        )
    )


def test_create_update_retire_unretire_are_audited(admin) -> None:  # type: ignore[no-untyped-def]
    made = admin_catalog.create_category(admin, fields())
    assert [q.choices for q in made.questions] == [
        [{"key": "night", "name_zh": "夜间", "name_en": "At night"}]
    ]
    assert catalog.active_category("dog-noise") is not None
    question_id = made.questions[0].id
    admin_catalog.update_category(
        admin,
        made.id,
        fields(
            name_en="Noisy dogs",
            questions=[
                QuestionFields("when", "几点", "When", "singlevaluelist", False, "day|白天|By day"),
                QuestionFields("how_many", "几只", "How many", "number"),
            ],
        ),
    )
    db.session.expire_all()
    category = db.session.get(Category, made.id)
    assert category is not None
    assert [q.code for q in category.questions] == ["when", "how_many"]
    assert category.questions[0].id == question_id  # kept by its code
    admin_catalog.retire_category(admin, made.id)
    assert catalog.active_category("dog-noise") is None
    admin_catalog.retire_category(admin, made.id)  # twice: one row only
    admin_catalog.unretire_category(admin, made.id)
    assert catalog.active_category("dog-noise") is not None
    assert actions() == ["create", "update", "retire", "unretire"]
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "update"))
    assert row is not None
    assert (row.before["name_en"], row.after["name_en"]) == ("Barking dogs", "Noisy dogs")


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"service_code": ""}, "service_code", "This field is required."),
        ({"service_code": "Dog_Noise"}, "service_code",
         "Use lower-case letters, digits and hyphens (at most 40)."),
        ({"service_code": "road-damage"}, "service_code", "This code is already taken."),
        ({"name_zh": "  "}, "name_zh", "This field is required."),
        ({"group_en": "x" * 121}, "group_en",
         "The text is too long or holds characters that are not allowed."),
        ({"policy_id": None}, "policy_id", "Choose one of the options."),
        ({"policy_id": 99999}, "policy_id", "Choose one of the options."),
        ({"default_department_id": 99999}, "default_department_id", "Choose one of the options."),
        ({"questions": [QuestionFields("a", "甲", "A", "number"),
                        QuestionFields("a", "乙", "B", "number")]},
         "questions", {1: {"code": "Each question needs its own code."}}),
        ({"questions": [QuestionFields("a", "甲", "A", "singlevaluelist")]},
         "questions", {0: {"choices": "A list question needs at least one choice."}}),
        ({"questions": [QuestionFields("a", "甲", "", "string")]},
         "questions", {0: {"label_en": "This field is required."}}),
    ],
)  # fmt: skip
def test_category_validation(admin, changes, field, expected) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        admin_catalog.create_category(admin, fields(**changes))
    assert caught.value.field_errors[field] == expected
    assert actions() == []


def test_a_category_keeps_its_own_code_on_edit(admin) -> None:  # type: ignore[no-untyped-def]
    made = admin_catalog.create_category(admin, fields())
    admin_catalog.update_category(admin, made.id, fields())  # same code: not "taken"
    assert actions() == ["create"]  # nothing changed, nothing audited


def test_missing_category_is_not_found(admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        admin_catalog.retire_category(admin, 99999)
