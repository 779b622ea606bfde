"""Security events in the audit log take any input a visitor can send (issue 20, point
5): NUL bytes, 10 kB of text, line breaks and bidirectional controls are stored cut and
made harmless, on SQLite and PostgreSQL alike, never a failed write."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.services.access import security_log
from caseapp.services.access.security_log import Refusal
from caseapp.services.admin import audit
from tests.factories import user

ODD = [
    "a\x00b",
    "x" * 10_000,
    "名" * 10_000 + "\x00",
    "handler\r\n2026-01-01 INFO forged line",
    "\u202eresu-live",
    "\ud800",  # a lone surrogate: no UTF-8 can carry it
]


def only_row() -> AuditLog:
    row = db.session.scalars(sa.select(AuditLog)).one()
    return row


@pytest.mark.parametrize("typed", ODD)
def test_any_typed_name_is_kept_as_a_digest(app_ctx: Flask, demo_base: None, typed: str) -> None:
    security_log.record_sign_in_refused(typed, Refusal.ADDRESS_THROTTLED)
    row = only_row()
    assert (row.entity, row.action, row.actor_id, row.entity_id) == (
        "security",
        "sign_in_refused",
        None,
        None,
    )
    assert row.after == {
        "address": None,
        "reason": "address_throttled",
        "username_digest": audit.typed_name_digest(typed),
    }


def test_a_typed_name_of_an_account_names_the_account(app_ctx: Flask, demo_base: None) -> None:
    security_log.record_sign_in_refused(" handler ", Refusal.ACCOUNT_THROTTLED)
    row = only_row()
    handler = user("handler")
    assert (row.actor_id, row.entity_id) == (handler.id, str(handler.id))
    assert row.after == {"address": None, "reason": "account_throttled"}


@pytest.mark.parametrize("odd", ODD)
def test_request_text_is_stored_cut_and_harmless(app_ctx: Flask, demo_base: None, odd: str) -> None:
    security_log.record_access_refused(
        user("handler").id, status=404, method="GET", path="/staff/cases/" + odd, case_number=odd
    )
    row = only_row()
    assert row.entity_id is not None and len(row.entity_id) <= 40
    path = row.after["path"]
    assert len(path) <= audit.TEXT_LIMIT and path.startswith("/staff/cases/")
    for stored in (row.entity_id, path):
        assert stored.isprintable() or " " in stored
        assert not set(stored) & {"\x00", "\r", "\n", "\u202e", "\ud800"}


def test_digests_name_the_same_name_alike_and_need_the_key(app: Flask) -> None:
    with app.test_request_context():
        digest = audit.typed_name_digest("Nobody")
        assert digest == audit.typed_name_digest("  nobody ")
        assert digest != audit.typed_name_digest("nobody2")
        assert len(digest) == 16
        app.config["SECRET_KEY"], key = "another-key", app.config["SECRET_KEY"]
        try:
            assert audit.typed_name_digest("nobody") != digest
        finally:
            app.config["SECRET_KEY"] = key


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain 文字", "plain 文字"),
        ("a\x00b\r\nc\td", "a?b??c?d"),
        ("\u202eabc\u200b", "?abc?"),
        ("x" * 500, "x" * audit.TEXT_LIMIT),
    ],
)
def test_clean_text(text: str, shown: str) -> None:
    assert audit.clean_text(text) == shown
