"""``flask api-keys create``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from caseapp.extensions import db
from caseapp.models import ApiKey, AuditLog
from caseapp.services.admin import api_keys


def test_api_keys_create_prints_the_key_once(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["api-keys", "create", "--name", "City app"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    raw = lines[-1]
    assert raw.startswith(api_keys.KEY_MARK) and result.output.count(raw) == 1
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        assert key.name == "City app" and key.created_by_id is None
        assert key.key_hash == api_keys.hash_key(raw)
        assert api_keys.key_for(raw).id == key.id
        audit = db.session.scalar(sa.select(AuditLog))
        assert (audit.entity, audit.action, audit.actor_id) == ("api_key", "create", None)


def test_api_keys_create_reports_bad_input(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["api-keys", "create", "--name", "  "])
    assert result.exit_code == 2
    assert "error: name" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_api_keys_create_needs_a_name(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["api-keys", "create"])
    assert result.exit_code == 2 and "--name" in result.output
