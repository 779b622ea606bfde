"""Staff accounts managed by administrators: one-time passwords, roles, deactivation,
the lockout guard, and an audit row for every change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import CaseStatus, Role
from caseapp.services.access import accounts
from caseapp.services.admin import users as admin_users
from caseapp.services.admin.users import AccountInput
from caseapp.services.errors import ValidationFailed
from tests.factories import case_in, department, user


def account(**changes: object) -> AccountInput:
    values: dict[str, object] = {
        "username": "clerk7",
        "display_name": "受理员 刘洋",
        "roles": frozenset({Role.INTAKE}),
        "department_id": department("zfbgs").id,
        "email": "liu.yang@example.gov.cn",
        "language": "zh_CN",
    }
    values.update(changes)
    return AccountInput(**values)  # type: ignore[arg-type]


def audit_rows(entity_id: int) -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.entity == "user", AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.id)
        )
    )


def test_a_new_account_signs_in_with_its_one_time_password(app_ctx: Flask, demo_base: None) -> None:
    created, password = admin_users.create_account(user("admin"), account())
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    assert created.password_hash.startswith("$argon2id$") and password not in created.password_hash
    assert accounts.authenticate("clerk7", password) is not None
    assert created.roles == {Role.INTAKE} and created.department.code == "zfbgs"
    [row] = audit_rows(created.id)
    assert (row.action, row.before, row.actor.username) == ("create", None, "admin")
    assert row.after["roles"] == ["intake"] and row.after["department_code"] == "zfbgs"
    assert password not in str(row.after) and "argon2" not in str(row.after)


def test_one_time_passwords_differ(app_ctx: Flask) -> None:
    assert len({admin_users.one_time_password() for _ in range(50)}) == 50


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "x" * 65}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "handler"}, "username"),  # taken
        ({"display_name": "  "}, "display_name"),
        ({"display_name": "x" * 121}, "display_name"),
        ({"roles": frozenset()}, "roles"),
        ({"department_id": -1}, "department"),
        ({"email": "not-an-address"}, "email"),
        ({"language": "fr"}, "language"),
    ],
)
def test_invalid_accounts_are_refused_field_by_field(
    app_ctx: Flask, demo_base: None, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        admin_users.create_account(user("admin"), account(**changes))
    assert field in caught.value.field_errors
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_a_retired_department_is_no_choice(app_ctx: Flask, demo_base: None) -> None:
    retired = department("tyj")
    retired.retired_at = retired.created_at
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        admin_users.create_account(user("admin"), account(department_id=retired.id))
    assert "department" in caught.value.field_errors


def test_an_edit_is_audited_with_before_and_after(app_ctx: Flask, demo_base: None) -> None:
    handler = user("handler")
    admin_users.update_account(
        user("admin"), handler.id,
        account(display_name="承办人 王建国", roles=frozenset({Role.HANDLER, Role.LEAD}),
                department_id=department("cgj").id, email=""),
    )  # fmt: skip
    assert user("handler").roles == {Role.HANDLER, Role.LEAD}
    assert user("handler").username == "handler"  # the username never changes
    [row] = audit_rows(handler.id)
    assert row.action == "update"
    assert (row.before["roles"], row.after["roles"]) == (["handler"], ["handler", "lead"])
    assert (row.before["department_code"], row.after["department_code"]) == ("zjj", "cgj")


def test_an_edit_that_changes_nothing_writes_no_row(app_ctx: Flask, demo_base: None) -> None:
    handler = user("handler")
    same = account(display_name=handler.display_name, roles=handler.roles,
                   department_id=handler.department_id, email=None)  # fmt: skip
    admin_users.update_account(user("admin"), handler.id, same)
    assert audit_rows(handler.id) == []


def test_deactivated_accounts_cannot_sign_in_and_lose_their_sessions(
    app_ctx: Flask, demo_base: None
) -> None:
    handler = user("handler")
    old_session = handler.get_id()
    admin_users.deactivate_account(user("admin"), handler.id)
    assert accounts.authenticate("handler", "demo-password") is None
    assert accounts.load_session_user(old_session) is None
    admin_users.reactivate_account(user("admin"), handler.id)
    assert accounts.authenticate("handler", "demo-password") is not None
    assert accounts.load_session_user(old_session) is None  # a new sign-in is needed
    assert [r.action for r in audit_rows(handler.id)] == ["deactivate", "reactivate"]


def test_open_cases_of_an_account_are_listed(app_ctx: Flask, demo_base: None) -> None:
    working = case_in(CaseStatus.IN_PROGRESS)
    done = case_in(CaseStatus.CLOSED)
    numbers = [c.number for c in admin_users.open_cases(user("handler"))]
    assert working.number in numbers and done.number not in numbers


def test_admins_cannot_lock_themselves_out(app_ctx: Flask, demo_base: None) -> None:
    admin = user("admin")
    with pytest.raises(ValidationFailed) as caught:
        admin_users.deactivate_account(admin, admin.id)
    assert "user" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        admin_users.update_account(
            admin, admin.id,
            account(display_name="admin", roles=frozenset({Role.SUPERVISOR}), department_id=None),
        )  # fmt: skip
    assert "roles" in caught.value.field_errors
    db.session.rollback()
    assert user("admin").active and user("admin").roles == {Role.ADMIN}


def test_a_password_reset_replaces_the_password_and_ends_sessions(
    app_ctx: Flask, demo_base: None
) -> None:
    handler = user("handler")
    old_session = handler.get_id()
    _, password = admin_users.reset_password(user("admin"), handler.id)
    assert accounts.authenticate("handler", "demo-password") is None
    assert accounts.authenticate("handler", password) is not None
    assert accounts.load_session_user(old_session) is None
    [row] = audit_rows(handler.id)
    assert row.action == "reset_password" and password not in str(row.after)
