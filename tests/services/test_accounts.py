"""Creating accounts and checking passwords."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask import Flask

from caseapp.models.enums import Role
from caseapp.services import accounts
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
