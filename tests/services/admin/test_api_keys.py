"""Open311 API keys: issued once, stored as sha256, refused once revoked, audited."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import ApiKey, AuditLog
from caseapp.services.admin import api_keys
from caseapp.services.errors import NotFound, ValidationFailed
from tests.factories import user

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_a_key_is_stored_only_as_its_sha256(app_ctx: Flask, demo_base: None) -> None:
    admin = user("admin")
    key, raw = api_keys.create_key("  City app  ", admin, now=NOW)
    assert key.name == "City app" and raw.startswith(api_keys.KEY_MARK)
    assert len(raw) > 40 and key.prefix == raw[: api_keys.PREFIX_LENGTH]
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = db.session.execute(sa.select(ApiKey.__table__)).one()._asdict()
    assert raw not in {str(v) for v in stored.values()}
    audit = db.session.scalar(sa.select(AuditLog))
    assert (audit.entity, audit.entity_id, audit.action, audit.actor_id) == (
        "api_key",
        str(key.id),
        "create",
        admin.id,
    )
    assert audit.before is None and audit.after["name"] == "City app"
    assert raw not in str(audit.after) and key.key_hash not in str(audit.after)


def test_two_keys_differ(app_ctx: Flask) -> None:
    _first, one = api_keys.create_key("one", None)
    _second, two = api_keys.create_key("two", None)
    assert one != two


def test_key_for_finds_the_key_and_records_its_use(app_ctx: Flask) -> None:
    key, raw = api_keys.create_key("City app", None, now=NOW)
    assert key.last_used_at is None
    later = datetime(2026, 11, 3, 10, 30, tzinfo=UTC)
    found = api_keys.key_for(raw, now=later)
    assert found is not None and found.id == key.id
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at == later


@pytest.mark.parametrize("raw", [None, "", "csk_nothing-like-it", " "])
def test_key_for_refuses_unknown_keys(app_ctx: Flask, raw: str | None) -> None:
    api_keys.create_key("City app", None)
    assert api_keys.key_for(raw) is None


def test_a_revoked_key_is_refused(app_ctx: Flask, demo_base: None) -> None:
    admin = user("admin")
    key, raw = api_keys.create_key("City app", admin, now=NOW)
    api_keys.revoke_key(key.id, admin, now=NOW)
    assert api_keys.key_for(raw) is None
    db.session.expire_all()
    revoked = db.session.get(ApiKey, key.id)
    assert revoked.revoked_at == NOW and revoked.last_used_at is None
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["create", "revoke"]
    assert rows[1].before["revoked_at"] is None and rows[1].after["revoked_at"] is not None
    # Revoking again changes nothing and writes nothing.
    api_keys.revoke_key(key.id, admin)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 2


def test_revoking_an_unknown_key(app_ctx: Flask) -> None:
    with pytest.raises(NotFound):
        api_keys.revoke_key(999, None)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "Give the key a name."),
        ("   ", "Give the key a name."),
        ("x" * 121, "At most 120 characters."),
        ("City app", "A key in use already has this name; choose another."),
    ],
)
def test_bad_names_are_refused(app_ctx: Flask, name: str, reason: str) -> None:
    api_keys.create_key("City app", None)
    with pytest.raises(ValidationFailed) as raised:
        api_keys.create_key(name, None)
    assert str(raised.value.field_errors["name"]) == reason
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 1


def test_a_revoked_keys_name_may_be_used_again(app_ctx: Flask) -> None:
    key, _raw = api_keys.create_key("City app", None)
    api_keys.revoke_key(key.id, None)
    again, _raw = api_keys.create_key("City app", None)
    assert again.id != key.id
