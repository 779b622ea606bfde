"""Staff sign-in: every demo account, one answer for all failures, rate limit, CSRF,
a fresh session, sign-out by POST only, and the idle timeout."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseapp.demo.base import DEMO_ACCOUNTS
from caseapp.extensions import db
from caseapp.security import IDLE_KEY
from tests.conftest import AuthActions, csrf_token
from tests.factories import user

WRONG_ANSWER_ZH = "用户名或密码不正确。"


@pytest.mark.parametrize("username", [account[0] for account in DEMO_ACCOUNTS])
def test_each_demo_account_signs_in(
    client: FlaskClient, auth: AuthActions, demo_base: None, username: str
) -> None:
    response = auth.login(username)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/queue"
    page = client.get("/staff/queue")
    assert page.status_code == 200
    assert "案件队列" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("handler", "wrong-password"),
        ("nobody-by-this-name", "demo-password"),
        ("HANDLER", "demo-password"),
        ("handler", ""),
    ],
)
def test_failures_all_get_the_same_answer(
    client: FlaskClient, auth: AuthActions, demo_base: None, username: str, password: str
) -> None:
    response = auth.login(username, password)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    if password:
        assert WRONG_ANSWER_ZH in body
        assert "请检查以下问题" in body  # the error summary, translated too
    assert client.get("/staff/queue").status_code == 302  # still signed out


def test_wrong_password_and_unknown_user_pages_are_identical(
    client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    def error_part(response) -> str:  # type: ignore[no-untyped-def]
        body = response.get_data(as_text=True)
        start = body.index('<div class="error-summary"')
        return body[start : body.index("</div>", start)]

    wrong = error_part(auth.login("handler", "not-the-password"))
    unknown = error_part(auth.login("no-such-user", "not-the-password"))
    assert wrong == unknown


def test_a_deactivated_account_cannot_sign_in(
    app: Flask, auth: AuthActions, demo_base: None
) -> None:
    with app.app_context():
        user("handler2").active = False
        db.session.commit()
    assert WRONG_ANSWER_ZH in auth.login("handler2").get_data(as_text=True)


def test_repeated_failures_are_answered_429(app: Flask, auth: AuthActions, demo_base: None) -> None:
    limit = int(app.config["RATELIMIT_LOGIN"].split()[0])
    for _ in range(limit):
        assert auth.login("handler", "wrong-password").status_code == 200
    response = auth.login("handler", "wrong-password")
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)
    # The right password is refused too while the limit holds.
    assert auth.login("handler").status_code == 429


def test_successful_sign_ins_do_not_use_up_the_limit(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    limit = int(app.config["RATELIMIT_LOGIN"].split()[0])
    actions = AuthActions(client)
    for _ in range(limit + 2):
        assert actions.login("handler").status_code == 302
        assert actions.logout().status_code == 302


def test_sign_in_without_csrf_token_is_refused(client: FlaskClient, demo_base: None) -> None:
    response = client.post(
        "/staff/login", data={"username": "handler", "password": "demo-password"}
    )
    assert response.status_code == 400
    assert client.get("/staff/queue").status_code == 302


def test_sign_in_starts_a_fresh_session(
    client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    client.get("/?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "from before sign-in"
    auth.login("handler")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"  # the language choice survives


def test_sign_out_needs_post_and_csrf(
    client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    assert client.get("/staff/logout").status_code == 405
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/queue").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/staff/queue").status_code == 302


def test_idle_session_is_signed_out(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    minutes = app.config["STAFF_IDLE_TIMEOUT_MINUTES"]
    with client.session_transaction() as session:
        session[IDLE_KEY] = int(time.time()) - minutes * 60 - 5
    response = client.get("/staff/queue")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]
    assert client.get("/staff/queue").status_code == 302


def test_activity_keeps_the_session(
    client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    with client.session_transaction() as session:
        session[IDLE_KEY] = int(time.time()) - 29 * 60
    assert client.get("/staff/queue").status_code == 200


def test_password_reset_token_change_ends_existing_sessions(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    with app.app_context():
        user("handler").session_token = "rotated"
        db.session.commit()
    assert client.get("/staff/queue").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/staff/queue?x=1", "/staff/queue?x=1"),
        ("https://evil.example/", "/staff/queue"),
        ("//evil.example/", "/staff/queue"),
        ("javascript:alert(1)", "/staff/queue"),
    ],
)
def test_next_only_goes_to_this_site(
    client: FlaskClient, demo_base: None, next_url: str, expected: str
) -> None:
    token = csrf_token(client, "/staff/login")
    response = client.post(
        "/staff/login",
        query_string={"next": next_url},
        data={"username": "handler", "password": "demo-password", "csrf_token": token},
    )
    assert response.headers["Location"] == expected


def test_login_page_in_english(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/staff/login?lang=en").get_data(as_text=True)
    assert "Staff sign-in" in body
    assert 'lang="en"' in body
