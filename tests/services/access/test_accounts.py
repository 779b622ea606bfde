"""Creating accounts, checking passwords, the rules for a new password, and changing
one's own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import Role
from caseapp.services.access import accounts
from caseapp.services.errors import ValidationFailed
from tests.factories import user


def test_passwords_are_stored_as_argon2id(app_ctx: Flask, demo_base: None) -> None:
    stored = user("handler").password_hash
    assert stored.startswith("$argon2id$")
    assert "demo-password" not in stored


def test_production_hash_parameters_are_strong() -> None:
    from config import Config

    # RFC 9106: argon2id, at least 64 MiB and 3 passes (the second recommended option).
    assert Config.ARGON2_MEMORY_COST_KIB >= 64 * 1024
    assert Config.ARGON2_TIME_COST >= 3
    hasher = PasswordHasher(
        time_cost=Config.ARGON2_TIME_COST,
        memory_cost=Config.ARGON2_MEMORY_COST_KIB,
        parallelism=Config.ARGON2_PARALLELISM,
    )
    assert "m=65536,t=3" in hasher.hash("x" * 12)


@pytest.mark.parametrize(
    ("username", "password", "roles", "department", "field"),
    [
        ("", "long-enough-pw", [Role.HANDLER], None, "username"),
        ("x" * 65, "long-enough-pw", [Role.HANDLER], None, "username"),
        ("handler", "long-enough-pw", [Role.HANDLER], None, "username"),  # taken
        ("newbie", "short", [Role.HANDLER], None, "password"),
        ("newbie", "long-enough-pw", [], None, "roles"),
        ("newbie", "long-enough-pw", [Role.HANDLER], "no-such-dept", "department"),
    ],
)
def test_create_user_refuses_bad_input(
    app_ctx: Flask,
    demo_base: None,
    username: str,
    password: str,
    roles: list[Role],
    department: str | None,
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(username, password, "", roles, department)
    assert field in error.value.field_errors


def test_create_user_with_several_roles(app_ctx: Flask, demo_base: None) -> None:
    created = accounts.create_user(
        "multi", "long-enough-pw", "多角色", [Role.LEAD, Role.HANDLER], "cgj"
    )
    assert created.roles == {Role.LEAD, Role.HANDLER}
    assert created.department.code == "cgj"
    assert accounts.authenticate("multi", "long-enough-pw") == created
    assert accounts.authenticate("multi", "wrong-password") is None


def test_authenticate_records_the_sign_in(app_ctx: Flask, demo_base: None) -> None:
    assert user("intake").last_login_at is None
    accounts.authenticate("intake", "demo-password")
    assert user("intake").last_login_at is not None


def test_session_ids_name_user_and_token(app_ctx: Flask, demo_base: None) -> None:
    handler = user("handler")
    assert accounts.load_session_user(handler.get_id()) == handler
    assert accounts.load_session_user(f"{handler.id}:forged") is None
    assert accounts.load_session_user(str(handler.id)) is None
    assert accounts.load_session_user("nonsense") is None


@pytest.mark.parametrize(
    ("password", "username", "reason"),
    [
        ("nine-char", "handler", "at least 10 characters"),
        ("handler123", "handler", "not be your username"),
        ("my-HANDLER-password", "handler", "not be your username"),
        ("zhangwei77", "zhangwei77", "not be your username"),
        ("qwertyuiop", "handler", "commonly used"),
        ("QWERTYUIOP", "handler", "commonly used"),
        ("1qaz2wsx3edc", "handler", "commonly used"),
        ("password2026!", "handler", "commonly used"),
        ("Dragon-12345", "handler", "commonly used"),
        ("woaini1314", "handler", "commonly used"),
        ("demo-password", "handler", "commonly used"),
        ("lantern cobalt orchard", "handler", None),
        ("xh7-pq2-mw9-kt4", "handler", None),
        ("2026-shadowfax-ridge", "handler", None),
        # A username of one or two letters is refused only as the whole password.
        ("a quiet lantern", "li", None),
        ("li", "li", "at least 10 characters"),
    ],
)
def test_password_rules(password: str, username: str, reason: str | None) -> None:
    problem = accounts.password_problem(password, username)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None and reason in str(problem)


def test_the_common_list_comes_with_the_app() -> None:
    from caseapp.services.access import common_passwords

    # zxcvbn's 30,000 leaked passwords and the app's own additions, none fetched.
    assert len(common_passwords._known()) > 30000
    assert common_passwords.is_common("iloveyou") and common_passwords.is_common("mima123456")
    assert not common_passwords.is_common("tram orchard 42")


def test_change_own_password_ends_other_sessions_and_is_audited(
    app_ctx: Flask, demo_base: None
) -> None:
    handler = user("handler")
    old_session = handler.get_id()
    accounts.change_own_password(handler, "demo-password", "lantern cobalt orchard")
    assert accounts.load_session_user(old_session) is None
    assert accounts.load_session_user(handler.get_id()) == handler
    assert accounts.authenticate("handler", "lantern cobalt orchard") == handler
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.entity_id == str(handler.id)))
    assert (row.action, row.actor_id) == ("change_password", handler.id)
    assert "lantern" not in str(row.before) + str(row.after)


@pytest.mark.parametrize(
    ("current", "new", "field", "reason"),
    [
        ("wrong-password", "lantern cobalt orchard", "current_password", "wrong_current_password"),
        ("demo-password", "demo-password", "new_password", "new_password_refused"),
        ("demo-password", "short", "new_password", "new_password_refused"),
    ],
)
def test_change_own_password_refusals_name_the_field(
    app_ctx: Flask, demo_base: None, current: str, new: str, field: str, reason: str
) -> None:
    handler = user("handler")
    token = handler.session_token
    with pytest.raises(ValidationFailed) as error:
        accounts.change_own_password(handler, current, new)
    assert list(error.value.field_errors) == [field]
    db.session.rollback()
    assert user("handler").session_token == token
    assert accounts.authenticate("handler", "demo-password") is not None
    # Nothing changed; the refusal is in the audit log, and neither password is.
    rows = db.session.scalars(sa.select(AuditLog)).all()
    assert [(r.entity, r.action, r.actor_id, r.after) for r in rows] == [
        ("security", "password_change_refused", handler.id, {"address": None, "reason": reason})
    ]


def test_who_must_change_the_password(app_ctx: Flask, demo_base: None) -> None:
    from caseapp.services.admin import users as admin_users

    # The operator's CLI account and the demo accounts choose their own passwords …
    assert not accounts.create_user("ops", "long-enough-pw", "", [Role.ADMIN]).must_change_password
    assert not user("handler").must_change_password
    # … an administrator's issued password must be replaced.
    created, _ = admin_users.create_account(
        user("admin"),
        admin_users.AccountInput(
            username="clerk7", display_name="刘洋", roles=frozenset({Role.INTAKE})
        ),
    )
    assert created.must_change_password
    admin_users.reset_password(user("admin"), user("handler").id)
    assert user("handler").must_change_password


def test_end_sessions_gives_a_new_token(app_ctx: Flask, demo_base: None) -> None:
    handler = user("handler")
    old_session = handler.get_id()
    accounts.end_sessions(handler)
    assert accounts.load_session_user(old_session) is None


def test_a_password_is_checked_exactly_as_typed(app_ctx: Flask, demo_base: None) -> None:
    long_password = "我的密码 with spaces, ünïcode and 100 characters " * 2
    long_password = long_password[:100]
    accounts.create_user("exact", long_password, "", [Role.INTAKE])
    assert accounts.authenticate("exact", long_password) is not None  # 64+ characters
    for changed in (
        long_password + " ",
        " " + long_password,
        long_password.upper(),
        long_password[:64],
        long_password[:-1],
    ):
        assert accounts.authenticate("exact", changed) is None, repr(changed)
