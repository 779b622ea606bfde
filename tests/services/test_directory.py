"""The directory: departments still in service, in the order made, and the active staff
holding a role, of one department when asked."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from caseapp.extensions import db
from caseapp.models import Department
from caseapp.models.enums import Role
from caseapp.services.access import accounts
from caseapp.services.directory import departments, users_with_role
from tests.conftest import DEMO_PASSWORD
from tests.factories import department, user


def test_departments_leave_out_the_retired_and_keep_the_order_they_were_made(
    app_ctx: Flask, demo_base: None
) -> None:
    before = [d.code for d in departments()]
    assert before[:3] == ["swbgs", "zfbgs", "zfw"] and before[-1] == "yhq-ay"
    department("cgj").retired_at = datetime.now(UTC)
    db.session.commit()
    after = [d.code for d in departments()]
    assert after == [code for code in before if code != "cgj"]


def test_a_department_made_later_comes_last(app_ctx: Flask, demo_base: None) -> None:
    db.session.add(Department(code="aaa", name_zh="新部门", name_en="New department"))
    db.session.commit()
    assert departments()[-1].code == "aaa"


def test_users_with_role_are_the_active_holders_of_that_role(
    app_ctx: Flask, demo_base: None
) -> None:
    assert [u.username for u in users_with_role(Role.HANDLER)] == ["handler", "handler2"]
    assert [u.username for u in users_with_role(Role.SUPERVISOR)] == ["supervisor"]
    user("handler").active = False
    db.session.commit()
    assert [u.username for u in users_with_role(Role.HANDLER)] == ["handler2"]


def test_users_with_role_of_one_department(app_ctx: Flask, demo_base: None) -> None:
    cgj = department("cgj").id
    assert [u.username for u in users_with_role(Role.HANDLER, cgj)] == ["handler2"]
    assert users_with_role(Role.LEAD, cgj) == []
    assert [u.username for u in users_with_role(Role.LEAD, department("zjj").id)] == ["lead"]


def test_a_user_with_two_roles_is_listed_once_under_each(app_ctx: Flask, demo_base: None) -> None:
    accounts.create_user("both", DEMO_PASSWORD, "两职", (Role.HANDLER, Role.LEAD), "zjj")
    handlers = [u.username for u in users_with_role(Role.HANDLER)]
    leads = [u.username for u in users_with_role(Role.LEAD)]
    assert handlers.count("both") == 1 and leads.count("both") == 1
    assert "lead" in leads and "handler" in handlers


def test_users_with_role_come_with_their_department_loaded(app_ctx: Flask, demo_base: None) -> None:
    found = users_with_role(Role.HANDLER)
    db.session.expunge_all()  # a lazy load now would fail: the department is already there
    assert [u.department.code for u in found] == ["zjj", "cgj"]
