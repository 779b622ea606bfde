"""``flask users create`` and ``flask demo load``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from caseapp.extensions import db
from caseapp.models import Category, DeadlinePolicy, Department, User
from caseapp.models.enums import Role
from tests.factories import user


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Department, DeadlinePolicy, Category, User)
    )


@pytest.mark.long
def test_demo_load_is_idempotent(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        after_first = _counts()
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "departments +0" in second.output
    with app.app_context():
        assert _counts() == after_first
        departments, policies, categories, users = after_first
        assert departments >= 12 and policies >= 3 and 18 <= categories <= 25 and users >= 7
        for username in ("intake", "handler", "handler2", "lead", "supervisor", "leader", "admin"):
            assert user(username).active
        assert user("handler").department.name_zh == "市住房和城乡建设局"
        assert user("handler2").department.name_zh == "市城市管理局"
        assert user("lead").roles == {Role.LEAD}
        street_offices = db.session.scalars(
            sa.select(Department).where(Department.parent.has(Department.code == "yhq"))
        ).all()
        assert len(street_offices) >= 3
        assert all(o.name_zh.endswith("街道办事处") for o in street_offices)


def test_users_create(app: Flask, runner: FlaskCliRunner, demo_base: None) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "wangfang",
            "--name",
            "王芳",
            "--role",
            "handler",
            "--role",
            "lead",
            "--department",
            "swj",
            "--password",
            "a-good-password",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        created = user("wangfang")
        assert created.roles == {Role.HANDLER, Role.LEAD}
        assert created.department.code == "swj"


def test_users_create_reports_bad_input(runner: FlaskCliRunner, demo_base: None) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "handler",
            "--role",
            "handler",
            "--password",
            "short",
        ]
    )
    assert result.exit_code == 2
    assert "username" in result.output and "password" in result.output
