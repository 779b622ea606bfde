"""Departments managed by administrators: the tree, no cycles, retire instead of
delete, and an audit row for every change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.services import directory
from caseapp.services.admin import departments as admin_departments
from caseapp.services.admin.departments import DepartmentInput
from caseapp.services.errors import ValidationFailed
from tests.factories import department, user


def new(**changes: object) -> DepartmentInput:
    values: dict[str, object] = {
        "code": "yhq-zq", "name_zh": "中城街道办事处", "name_en": "Zhongcheng Street Office",
        "parent_id": department("yhq").id,
    }  # fmt: skip
    values.update(changes)
    return DepartmentInput(**values)  # type: ignore[arg-type]


def rows(department_id: int) -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.entity == "department", AuditLog.entity_id == str(department_id))
            .order_by(AuditLog.id)
        )
    )


def test_a_department_is_created_under_its_parent(app_ctx: Flask, demo_base: None) -> None:
    created = admin_departments.create_department(user("admin"), new())
    assert created.parent.code == "yhq"
    tree = [(row.department.code, row.depth) for row in admin_departments.department_tree()]
    district = tree.index(("yhq", 0))
    assert ("yhq-zq", 1) in tree[district:]
    [row] = rows(created.id)
    assert row.action == "create" and row.after["parent_code"] == "yhq"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "Has Space"}, "code"),
        ({"code": "x" * 41}, "code"),
        ({"code": "zjj"}, "code"),  # taken
        ({"name_zh": " "}, "name_zh"),
        ({"name_en": "x" * 161}, "name_en"),
        ({"parent_id": -1}, "parent"),
    ],
)
def test_invalid_departments_are_refused_field_by_field(
    app_ctx: Flask, demo_base: None, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        admin_departments.create_department(user("admin"), new(**changes))
    assert field in caught.value.field_errors


@pytest.mark.parametrize(("moved", "under"), [("yhq", "yhq"), ("yhq", "yhq-bc")])
def test_cycles_are_refused(app_ctx: Flask, demo_base: None, moved: str, under: str) -> None:
    target = department(moved)
    with pytest.raises(ValidationFailed) as caught:
        admin_departments.update_department(
            user("admin"), target.id,
            DepartmentInput(name_zh=target.name_zh, name_en=target.name_en,
                            parent_id=department(under).id),
        )  # fmt: skip
    assert "parent" in caught.value.field_errors
    assert under not in [d.code for d in admin_departments.parent_choices(target)]


def test_a_rename_and_move_is_audited(app_ctx: Flask, demo_base: None) -> None:
    office = department("yhq-bc")
    admin_departments.update_department(
        user("admin"), office.id,
        DepartmentInput(name_zh="北城街道", name_en="Beicheng", parent_id=None),
    )  # fmt: skip
    [row] = rows(office.id)
    assert (row.before["name_zh"], row.after["name_zh"]) == ("北城街道办事处", "北城街道")
    assert (row.before["parent_code"], row.after["parent_code"]) == ("yhq", None)


def test_a_retired_department_leaves_the_choices_and_can_come_back(
    app_ctx: Flask, demo_base: None
) -> None:
    sports = department("tyj")
    admin_departments.retire_department(user("admin"), sports.id)
    assert "tyj" not in [d.code for d in directory.departments()]
    assert "tyj" not in [d.code for d in admin_departments.parent_choices()]
    assert department("tyj").retired_at is not None  # kept, never deleted
    admin_departments.unretire_department(user("admin"), sports.id)
    assert "tyj" in [d.code for d in directory.departments()]
    actions = [(r.action, r.before["retired_at"] is None, r.after["retired_at"] is None)
               for r in rows(sports.id)]  # fmt: skip
    assert actions == [("retire", True, False), ("unretire", False, True)]


def test_a_parent_with_active_children_is_not_retired(app_ctx: Flask, demo_base: None) -> None:
    with pytest.raises(ValidationFailed):
        admin_departments.retire_department(user("admin"), department("yhq").id)


def test_a_child_of_a_retired_parent_is_not_brought_back(app_ctx: Flask, demo_base: None) -> None:
    for code in ("yhq-bc", "yhq-nc", "yhq-dc", "yhq-xc", "yhq-ay", "yhq"):
        admin_departments.retire_department(user("admin"), department(code).id)
    with pytest.raises(ValidationFailed):
        admin_departments.unretire_department(user("admin"), department("yhq-bc").id)
