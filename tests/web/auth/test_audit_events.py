"""Authentication and authorization failures in the audit log (issue 20, point 5).

Each refused sign-in (wrong password, unknown or deactivated account, a limit used up),
each sign-in and sign-out, each refused change of one's password, each staff page or
case refused (403, or 404 for a case the user may not see: its page and its files) and
each refused Open311 key writes one row: who (the account concerned, or a keyed digest
of a name that is none), when, the address and why; never a password, never a name
typed that is no account, never a citizen's personal data. A page that is not refused
writes nothing and costs no query more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import CaseStatus
from caseapp.services.access import accounts
from caseapp.services.admin import api_keys, audit
from caseapp.services.filing.attachments import Upload, attach_files, checked_uploads, store_files
from tests.conftest import DEMO_PASSWORD, AuthActions, _client_as, csrf_token
from tests.factories import case_in, user

SECRETS_TYPED = ("wrong-password-1", "Nobody-Typed-This", DEMO_PASSWORD)


def security_rows(app: Flask) -> list[AuditLog]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.entity == "security").order_by(AuditLog.id)
        ).all()
        db.session.expunge_all()
        db.session.remove()
    return list(rows)


def account_id(app: Flask, username: str) -> int:
    with app.app_context():
        found = user(username).id
        db.session.remove()
    return found


def _from(address: str) -> dict[str, object]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_each_refused_sign_in_is_one_row_with_who_where_when_and_why(
    app: Flask,
    client: FlaskClient,
    demo_base: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_ACCOUNT", "1 per 15 minutes")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "2 per 5 minutes")
    with app.app_context():
        user("handler2").active = False
        db.session.commit()
        db.session.remove()
    auth = AuthActions(client)
    started = datetime.now(UTC) - timedelta(seconds=1)
    auth.login("handler", "wrong-password-1", **_from("192.0.2.1"))
    auth.login("handler", DEMO_PASSWORD, **_from("192.0.2.2"))  # locked: not checked
    auth.login(" Nobody-Typed-This", "wrong-password-1", **_from("192.0.2.3"))
    auth.login("handler2", DEMO_PASSWORD, **_from("192.0.2.4"))
    # The unknown name's 2nd (its limit used up), then the address's 3rd (its limit too).
    auth.login("Nobody-Typed-This", "x", **_from("192.0.2.3"))
    auth.login("Nobody-Typed-This", "x", **_from("192.0.2.3"))
    with caplog.at_level(logging.INFO, logger="caseapp.security"):
        assert auth.login("intake", **_from("192.0.2.5")).status_code == 302
        assert auth.logout().status_code == 302

    handler, handler2, intake = (account_id(app, n) for n in ("handler", "handler2", "intake"))
    with app.test_request_context():
        digest = audit.typed_name_digest("nobody-typed-this")
    rows = security_rows(app)
    assert [
        (r.action, r.actor_id, r.entity_id, r.after["address"], r.after.get("reason")) for r in rows
    ] == [
        ("sign_in_refused", handler, str(handler), "192.0.2.1", "wrong_password"),
        ("sign_in_refused", handler, str(handler), "192.0.2.2", "account_throttled"),
        ("sign_in_refused", None, None, "192.0.2.3", "unknown_account"),
        ("sign_in_refused", handler2, str(handler2), "192.0.2.4", "inactive_account"),
        ("sign_in_refused", None, None, "192.0.2.3", "account_throttled"),
        ("sign_in_refused", None, None, "192.0.2.3", "address_throttled"),
    ]
    # Sign-ins and sign-outs go to the application log only (one a staff member's day
    # would bury the admins' changes in the audit table).
    assert [
        (r.event, r.actor_id, r.event_address)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "caseapp.security"
    ] == [("signed_in", intake, "192.0.2.5"), ("signed_out", intake, "127.0.0.1")]
    # A name that is no account is kept as its digest only (the same for the same name
    # in any letter case), an account's name not at all: the row names the account.
    assert [r.after.get("username_digest") for r in rows if r.actor_id is None] == [digest] * 3
    assert all(started <= r.at <= datetime.now(UTC) for r in rows)
    for row in rows:
        assert not any(secret.lower() in str(row.after).lower() for secret in SECRETS_TYPED)


def test_refused_password_changes_are_written(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    token = csrf_token(client, "/staff/password")
    for current, new in (("wrong-password-1", "lantern cobalt orchard"), (DEMO_PASSWORD, "123")):
        answer = client.post(
            "/staff/password",
            data={
                "current_password": current,
                "new_password": new,
                "new_password_again": new,
                "csrf_token": token,
            },
        )
        assert answer.status_code == 400
    handler = account_id(app, "handler")
    refused = [r for r in security_rows(app) if r.action == "password_change_refused"]
    assert [(r.actor_id, r.after) for r in refused] == [
        (handler, {"address": "127.0.0.1", "reason": "wrong_current_password"}),
        (handler, {"address": "127.0.0.1", "reason": "new_password_refused"}),
    ]


@pytest.fixture
def other_department_case(app: Flask, demo_base: None) -> tuple[str, int]:
    """A case of another department than `handler`'s (cgj), with a file: its number and
    the file's id."""
    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS, lead="cgj")
        files = checked_uploads([Upload("a.pdf", b"%PDF-1.4\n%%EOF\n")])
        store_files(files, app.config["UPLOAD_DIR"])
        attach_files(
            case, files, public=False, uploaded_by_id=None, event_id=None, now=case.updated_at
        )
        db.session.commit()
        found = (case.number, case.attachments[0].id)
        db.session.remove()
    return found


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    sent: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)


def test_a_case_the_user_may_not_see_is_refused_and_written(
    app: Flask, other_department_case: tuple[str, int]
) -> None:
    number, file_id = other_department_case
    handler = _client_as(app, "handler")
    urls = [f"/staff/cases/{number}", f"/staff/cases/{number}/files/{file_id}"]
    before = len(security_rows(app))
    with statements(app) as sent:
        assert [handler.get(url).status_code for url in urls] == [404, 404]
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2 and all("audit_log" in s for s in inserts)
    rows = security_rows(app)[before:]
    handler_id = account_id(app, "handler")
    assert [(r.action, r.actor_id, r.entity_id, r.after) for r in rows] == [
        (
            "access_refused",
            handler_id,
            number,
            {"address": "127.0.0.1", "status": 404, "method": "GET", "path": url},
        )
        for url in urls
    ]


def test_pages_that_are_not_refused_write_nothing_and_ask_nothing_more(
    app: Flask, other_department_case: tuple[str, int]
) -> None:
    number, file_id = other_department_case
    intake = _client_as(app, "intake")  # intake sees every case
    before = len(security_rows(app))
    with statements(app) as sent:
        for url in (f"/staff/cases/{number}", f"/staff/cases/{number}/files/{file_id}"):
            assert intake.get(url).status_code == 200
    assert not [s for s in sent if "audit_log" in s]
    assert len(security_rows(app)) == before


def test_a_role_refused_a_face_is_written(app: Flask, demo_base: None) -> None:
    handler = _client_as(app, "handler")
    assert handler.get("/admin/audit").status_code == 403
    (row,) = [r for r in security_rows(app) if r.action == "access_refused"]
    assert (row.entity_id, row.after["status"], row.after["path"]) == (None, 403, "/admin/audit")


def test_a_refused_api_key_is_written_without_the_key(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    with app.app_context():
        api_keys.create_key("便民App", user("admin"))
        db.session.remove()
    filing = {"service_code": "road-damage", "description": "路面破损", "lat": "35.02"}
    wrong_key = "not-a-key-0123456789"
    answers = [
        client.post("/open311/v2/requests.json", data=filing, **_from("198.51.100.9")),
        client.post(
            "/open311/v2/requests.json",
            data={**filing, "api_key": wrong_key},
            **_from("198.51.100.9"),
        ),
    ]
    assert [a.status_code for a in answers] == [403, 403]
    rows = [r for r in security_rows(app) if r.action == "api_key_refused"]
    assert [(r.actor_id, r.after["address"], r.after["reason"]) for r in rows] == [
        (None, "198.51.100.9", "no_key"),
        (None, "198.51.100.9", "unknown_key"),
    ]
    assert "key_digest" in rows[1].after and wrong_key not in str(rows[1].after)


def test_a_password_change_past_the_address_limit_is_refused_and_written(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    demo_base: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth.login("handler")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1 per 5 minutes")
    token = csrf_token(client, "/staff/password")
    form = {
        "current_password": "wrong-password-1",
        "new_password": "lantern cobalt orchard",
        "new_password_again": "lantern cobalt orchard",
        "csrf_token": token,
    }
    assert client.post("/staff/password", data=form).status_code == 400
    refused = client.post("/staff/password", data={**form, "current_password": DEMO_PASSWORD})
    assert refused.status_code == 429
    assert 'name="current_password"' in refused.get_data(as_text=True)  # the same form
    reasons = [
        r.after["reason"] for r in security_rows(app) if r.action == "password_change_refused"
    ]
    assert reasons == ["wrong_current_password", "address_throttled"]
    with app.app_context():  # the right password did not go through
        assert accounts.authenticate("handler", DEMO_PASSWORD) is not None
        db.session.remove()
