"""Choosing one's own password: an administrator's password opens only the page that
replaces it; staff change their own at any time; every new password is checked, with a
reason per refusal; both changes are in the audit log, without the password."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog
from caseapp.models.enums import Role
from caseapp.services.access import accounts
from caseapp.services.admin import users as admin_users
from caseapp.services.admin.users import AccountInput
from tests.conftest import DEMO_PASSWORD, AuthActions, csrf_token
from tests.factories import user

NEW_PASSWORD = "lantern cobalt orchard"


def issue_account(app: Flask, roles: frozenset[Role]) -> str:
    """An account made in the admin console; returns its one-time password."""
    with app.app_context():
        _, password = admin_users.create_account(
            user("admin"),
            AccountInput(username="clerk7", display_name="受理员 刘洋", roles=roles),
        )
        db.session.remove()
    return password


def change(client: FlaskClient, current: str, new: str, again: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/staff/password")
    return client.post(
        "/staff/password",
        data={
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
            "csrf_token": token,
        },
        **kwargs,
    )


def audit_actions(app: Flask, username: str) -> list[tuple[str, dict, dict]]:
    with app.app_context():
        user_id = str(user(username).id)
        rows = db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.entity == "user", AuditLog.entity_id == user_id)
            .order_by(AuditLog.id)
        ).all()
        return [(row.action, row.before, row.after) for row in rows]


ALL_FACES = frozenset({Role.INTAKE, Role.SUPERVISOR, Role.ADMIN})
GATED_PAGES = [
    "/staff/queue",
    "/staff/inbox",
    "/staff/cases/new",
    "/supervisor/escalations",
    "/admin/",
    "/admin/users",
]


def test_an_issued_password_opens_only_the_page_that_replaces_it(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    one_time = issue_account(app, ALL_FACES)
    signed_in = auth.login("clerk7", one_time, query_string={"next": "/staff/inbox"})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].startswith("/staff/password?next=")
    for url in GATED_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/staff/password", url
    page = client.get("/staff/password").get_data(as_text=True)
    assert "设置您自己的密码" in page and "只能使用一次" in page
    assert 'href="/staff/queue"' not in page  # the navigation offers nothing else
    # Nothing can be posted past the page either.
    token = csrf_token(client, "/staff/password")
    assert client.post("/staff/cases/new", data={"csrf_token": token}).status_code == 302

    done = change(client, one_time, NEW_PASSWORD, query_string={"next": "/staff/inbox"})
    assert done.status_code == 302 and done.headers["Location"] == "/staff/inbox"
    for url in GATED_PAGES:
        assert client.get(url).status_code == 200, url
    actions = audit_actions(app, "clerk7")
    assert [action for action, _, _ in actions] == ["create", "forced_password_change"]
    _, before, after = actions[-1]
    assert before == {"password": "…", "must_change_password": True}
    assert after == {"password": "(new)", "must_change_password": False}
    assert one_time not in str(actions) and NEW_PASSWORD not in str(actions)

    # The issued password is spent; the chosen one signs in straight to the queue.
    assert AuthActions(client).logout().status_code == 302
    assert auth.login("clerk7", one_time).status_code == 200
    again = auth.login("clerk7", NEW_PASSWORD)
    assert again.status_code == 302 and again.headers["Location"] == "/staff/queue"


def test_a_reset_password_must_be_replaced_too(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    with app.app_context():
        _, issued = admin_users.reset_password(user("admin"), user("handler").id)
        db.session.remove()
    assert auth.login("handler", issued).headers["Location"].startswith("/staff/password")
    assert client.get("/staff/queue").headers["Location"] == "/staff/password"
    assert change(client, issued, NEW_PASSWORD).status_code == 302
    assert client.get("/staff/queue").status_code == 200


def test_an_account_with_an_issued_password_can_still_sign_out(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("clerk7", issue_account(app, frozenset({Role.HANDLER})))
    token = csrf_token(client, "/staff/password")  # the only page it opens
    signed_out = client.post("/staff/logout", data={"csrf_token": token})
    assert signed_out.status_code == 302 and signed_out.headers["Location"] == "/staff/login"
    assert client.get("/staff/password").status_code == 302


@pytest.mark.parametrize("username", ["intake", "handler", "supervisor", "admin"])
def test_demo_accounts_are_not_asked_to_change(
    client: FlaskClient, auth: AuthActions, demo_base: None, username: str
) -> None:
    assert auth.login(username).headers["Location"] == "/staff/queue"
    assert client.get("/staff/queue").status_code == 200


def test_the_navigation_links_to_the_password_page_in_both_languages(
    handler_client: FlaskClient,
) -> None:
    zh = handler_client.get("/staff/queue").get_data(as_text=True)
    assert '<a href="/staff/password">修改密码</a>' in zh
    en = handler_client.get("/staff/password?lang=en").get_data(as_text=True)
    assert '<a href="/staff/password">Change password</a>' in en
    assert "<h1>Change your password</h1>" in en
    assert 'autocomplete="new-password"' in en and 'autocomplete="current-password"' in en
    assert "At least 10 characters" in en


def test_staff_change_their_own_password(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    response = change(client, DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/queue"
    assert "密码已修改" in client.get("/staff/queue").get_data(as_text=True)
    [(action, before, after)] = audit_actions(app, "handler")
    assert action == "change_password"
    assert before == {"password": "…", "must_change_password": False}
    assert NEW_PASSWORD not in str(after) and DEMO_PASSWORD not in str(before)
    with app.app_context():
        assert accounts.authenticate("handler", NEW_PASSWORD) is not None
        assert accounts.authenticate("handler", DEMO_PASSWORD) is None


@pytest.mark.parametrize(
    ("current", "new", "again", "reason_zh", "reason_en"),
    [
        ("wrong-password", NEW_PASSWORD, None, "当前密码不正确", "current password is not right"),
        (DEMO_PASSWORD, "short-pw", None, "至少需要 10 个字符", "at least 10 characters"),
        (DEMO_PASSWORD, "handler", None, "至少需要 10 个字符", "at least 10 characters"),
        (DEMO_PASSWORD, "Handler-2026!", None, "不能是用户名", "not be your username"),
        (DEMO_PASSWORD, "qwertyuiop", None, "常用密码", "commonly used passwords"),
        (DEMO_PASSWORD, "Password2026!", None, "常用密码", "commonly used passwords"),
        (DEMO_PASSWORD, "demo-password", None, "常用密码", "commonly used passwords"),
        (DEMO_PASSWORD, NEW_PASSWORD, "lantern cobalt", "两次输入的新密码不一致", "not the same"),
    ],
)
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_refused_password_says_why_and_changes_nothing(
    app: Flask,
    handler_client: FlaskClient,
    current: str,
    new: str,
    again: str | None,
    reason_zh: str,
    reason_en: str,
    lang: str,
) -> None:
    handler_client.get(f"/staff/password?lang={lang}")
    response = change(handler_client, current, new, again)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert (reason_en if lang == "en" else reason_zh) in body
    assert 'class="error-summary"' in body
    assert new not in body  # a password is never written back into the page
    assert audit_actions(app, "handler") == []
    with app.app_context():
        assert accounts.authenticate("handler", DEMO_PASSWORD) is not None
    assert handler_client.get("/staff/queue").status_code == 200  # still signed in


def test_the_same_password_again_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    assert change(client, DEMO_PASSWORD, NEW_PASSWORD).status_code == 302
    response = change(client, NEW_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 400
    assert "新密码不能与当前密码相同" in response.get_data(as_text=True)


def test_wrong_current_passwords_spend_the_account_s_sign_in_attempts(
    app: Flask, handler_client: FlaskClient
) -> None:
    limit = int(app.config["RATELIMIT_LOGIN_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert change(handler_client, "wrong-password", NEW_PASSWORD).status_code == 400
    locked = change(handler_client, DEMO_PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 429
    assert "错误次数过多" in locked.get_data(as_text=True)
    assert AuthActions(app.test_client()).login("handler").status_code == 429
    with app.app_context():
        assert accounts.authenticate("handler", DEMO_PASSWORD) is not None


def test_the_password_page_needs_a_sign_in_and_csrf(
    client: FlaskClient, handler_client: FlaskClient
) -> None:
    assert client.get("/staff/password").headers["Location"].startswith("/staff/login")
    refused = handler_client.post(
        "/staff/password",
        data={
            "current_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/staff/login", {"password": "current-password"}),
        (
            "/staff/password",
            {
                "current_password": "current-password",
                "new_password": "new-password",
                "new_password_again": "new-password",
            },
        ),
    ],
)
def test_password_fields_are_masked_and_open_to_password_managers(
    client: FlaskClient, auth: AuthActions, demo_base: None, url: str, fields: dict[str, str]
) -> None:
    if url != "/staff/login":
        auth.login("handler")
    page = client.get(url).get_data(as_text=True)
    for name, autocomplete in fields.items():
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert tag is not None, name
        assert 'type="password"' in tag.group(0)
        assert f'autocomplete="{autocomplete}"' in tag.group(0)
    # Nothing stops pasting or a password manager filling the fields.
    assert "onpaste" not in page and 'autocomplete="off"' not in page
