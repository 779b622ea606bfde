"""The staff accounts pages: a one-time password shown once and working at sign-in,
deactivation refusing sign-in and listing open cases, 400 with field errors."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import CaseStatus, Role
from tests.conftest import AuthActions, _client_as, csrf_token
from tests.factories import case_in, department, user

PASSWORD_RE = re.compile(r'class="one-time-password"[^>]*>([^<]+)<')


def form_for_new(app: Flask, **changes: object) -> dict[str, object]:
    with app.app_context():
        zfbgs = department("zfbgs").id
    data: dict[str, object] = {
        "username": "clerk7", "display_name": "受理员 刘洋", "roles": ["intake"],
        "department": str(zfbgs), "email": "", "language": "zh_CN",
    }  # fmt: skip
    data.update(changes)
    return data


def test_a_new_account_gets_a_password_shown_once_that_signs_in(
    app: Flask, admin_client: FlaskClient
) -> None:
    token = csrf_token(admin_client, "/admin/users/new")
    response = admin_client.post(
        "/admin/users/new", data={**form_for_new(app), "csrf_token": token}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = PASSWORD_RE.search(response.get_data(as_text=True)).group(1)
    listing = admin_client.get("/admin/users").get_data(as_text=True)
    assert "clerk7" in listing and password not in listing
    clerk = app.test_client()
    signed_in = AuthActions(clerk).login("clerk7", password)
    # It works once: to choose the account's own password (tests/web/auth/test_password.py).
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].startswith("/staff/password")
    # Posting the same form again makes no second account.
    again = admin_client.post("/admin/users/new", data={**form_for_new(app), "csrf_token": token})
    assert again.status_code == 400 and "clerk7" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "has space"}, "letters, digits"),
        ({"username": "handler"}, "is taken"),
        ({"roles": []}, "at least one role"),
        ({"roles": ["wizard"]}, "valid choice"),
        ({"department": "abc"}, "from the list"),
        ({"department": "99999"}, "from the list"),
        ({"department": "9" * 30}, "from the list"),
        ({"department": "١٢"}, "from the list"),
        ({"email": "nope"}, "valid email"),
        ({"language": "fr"}, "language from the list"),
        ({"display_name": ""}, "Name"),
    ],
)
def test_bad_input_is_a_400_with_the_reason_beside_the_field(
    app: Flask, admin_client: FlaskClient, changes: dict[str, object], message: str
) -> None:
    token = csrf_token(admin_client, "/admin/users/new?lang=en")
    data = {**form_for_new(app, **changes), "csrf_token": token}
    response = admin_client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "field-error" in page and message in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_an_edit_changes_roles_and_department(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        handler_id, cgj = user("handler").id, department("cgj").id
    url = f"/admin/users/{handler_id}"
    page = admin_client.get(url).get_data(as_text=True)
    checked = re.findall(r'<input[^>]*name="roles"[^>]*>', page)
    assert [tag for tag in checked if "checked" in tag] == [
        tag for tag in checked if 'value="handler"' in tag
    ]
    token = csrf_token(admin_client, url)
    data = {"display_name": "王建国", "roles": ["handler", "lead"], "department": str(cgj),
            "email": "wjg@example.gov.cn", "language": "en", "csrf_token": token}  # fmt: skip
    assert admin_client.post(url, data=data).status_code == 302
    with app.app_context():
        changed = user("handler")
        assert changed.roles == {Role.HANDLER, Role.LEAD} and changed.department.code == "cgj"
        assert (changed.email, changed.language) == ("wjg@example.gov.cn", "en")


def test_the_admin_cannot_remove_their_own_admin_role(
    app: Flask, admin_client: FlaskClient
) -> None:
    with app.app_context():
        admin_id = user("admin").id
    url = f"/admin/users/{admin_id}"
    token = csrf_token(admin_client, url)
    data = {"display_name": "管理员", "roles": ["supervisor"], "department": "",
            "language": "zh_CN", "csrf_token": token}  # fmt: skip
    response = admin_client.post(url, data=data)
    assert response.status_code == 400
    deactivate = admin_client.post(
        f"/admin/users/{admin_id}/deactivate", data={"csrf_token": token}
    )
    assert deactivate.status_code == 400
    with app.app_context():
        assert user("admin").roles == {Role.ADMIN} and user("admin").active


def test_deactivation_refuses_sign_in_ends_sessions_and_lists_open_cases(
    app: Flask, admin_client: FlaskClient
) -> None:
    handler_client = _client_as(app, "handler")
    with app.app_context():
        working = case_in(CaseStatus.IN_PROGRESS).number
        closed = case_in(CaseStatus.CLOSED).number
        handler_id = user("handler").id
    url = f"/admin/users/{handler_id}/deactivate"
    page = admin_client.get(url).get_data(as_text=True)
    assert working in page and closed not in page
    assert f'href="/staff/cases/{working}"' in page
    assert admin_client.get(url.replace("deactivate", "reactivate")).status_code == 405
    token = csrf_token(admin_client, url)
    assert admin_client.post(url).status_code == 400  # no CSRF token
    response = admin_client.post(url, data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    after = admin_client.get(url).get_data(as_text=True)
    assert working in after and f"/admin/users/{handler_id}/reactivate" in after
    # Their open session stops working, and they cannot sign in again.
    assert handler_client.get("/staff/queue").status_code == 302
    refused = AuthActions(app.test_client()).login("handler")
    assert refused.status_code == 200
    # Brought back, the account signs in with the password it had.
    reactivate = admin_client.post(
        f"/admin/users/{handler_id}/reactivate", data={"csrf_token": token}
    )
    assert reactivate.status_code == 302
    assert AuthActions(app.test_client()).login("handler").status_code == 302
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditLog.action).where(AuditLog.entity == "user").order_by(AuditLog.id)
        ).all()
        assert actions == ["deactivate", "reactivate"]
        # The refused sign-in of the deactivated account is a security event of its own.
        refusal = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "security")).one()
        assert (refusal.action, refusal.actor_id) == ("sign_in_refused", handler_id)
        assert refusal.after is not None and refusal.after["reason"] == "inactive_account"


def test_a_password_reset_shows_a_new_password_once(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        handler_id = user("handler").id
    url = f"/admin/users/{handler_id}/password"
    token = csrf_token(admin_client, url)
    response = admin_client.post(url, data={"csrf_token": token})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = PASSWORD_RE.search(response.get_data(as_text=True)).group(1)
    assert AuthActions(app.test_client()).login("handler").status_code == 200
    signed_in = AuthActions(app.test_client()).login("handler", password)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].startswith("/staff/password")


def test_unknown_accounts_are_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/users/99999").status_code == 404
    assert admin_client.get("/admin/users/99999/deactivate").status_code == 404
