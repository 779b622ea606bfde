"""Staff sign-in: every demo account, one answer for all failures, rate limits per
address and per account, CSRF, a fresh session, sign-out by POST only, the idle timeout
and where ``next`` may lead."""

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

WRONG_ANSWER_ZH = "用户名或密码不正确，或尝试次数过多。"


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


def test_repeated_failures_from_one_address_are_answered_429(
    app: Flask, auth: AuthActions, demo_base: None
) -> None:
    limit = int(app.config["RATELIMIT_LOGIN"].split()[0])
    # Each attempt names another account, so only the address's limit is spent.
    for attempt in range(limit):
        assert auth.login(f"guess{attempt}", "wrong-password").status_code == 200
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
        ("/\\evil.example/", "/staff/queue"),
        ("/staff/queue\r\nSet-Cookie: planted=1", "/staff/queue"),
        ("/staff/queue\nX: 1", "/staff/queue"),
        ("/staff/\tqueue", "/staff/queue"),
        ("/staff/\x7fqueue", "/staff/queue"),
        ("/staff/cases/YC2026-000001?tab=timeline", "/staff/cases/YC2026-000001?tab=timeline"),
        ("/staff/queue?q=道路", "/staff/queue?q=%E9%81%93%E8%B7%AF"),
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
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_login_page_in_english(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/staff/login?lang=en").get_data(as_text=True)
    assert "Staff sign-in" in body
    assert 'lang="en"' in body


def _account_limit(app: Flask) -> int:
    return int(app.config["RATELIMIT_LOGIN_ACCOUNT"].split()[0])


def _from(address: int) -> dict[str, object]:
    """Another address (documentation range), as another office or a proxy's client."""
    return {"environ_base": {"REMOTE_ADDR": f"192.0.2.{address}"}}


def _error_part(response) -> str:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    start = body.index('<div class="error-summary"')
    return body[start : body.index("</div>", start)]


@pytest.mark.parametrize("username", ["handler", "nobody-by-this-name"])
def test_failures_on_one_account_lock_it_from_every_address(
    app: Flask, client: FlaskClient, demo_base: None, username: str
) -> None:
    auth = AuthActions(client)
    limit = _account_limit(app)
    assert limit < int(app.config["RATELIMIT_LOGIN"].split()[0])
    wrong = None
    for attempt in range(limit):
        wrong = auth.login(username, "wrong-password", **_from(attempt))
        assert wrong.status_code == 200
    # Locked, from yet another address, even with the right password; the answer is
    # the one every failure gets, and a name that does not exist is locked the same way.
    locked = auth.login(username, "demo-password", **_from(200))
    assert locked.status_code == 429
    assert _error_part(locked) == _error_part(wrong)
    assert WRONG_ANSWER_ZH in locked.get_data(as_text=True)
    assert client.get("/staff/queue").status_code == 302
    # Another account signs in from the same addresses.
    assert auth.login("intake", **_from(0)).status_code == 302


def test_a_name_in_other_letter_case_spends_the_same_attempts(
    app: Flask, auth: AuthActions, demo_base: None
) -> None:
    for attempt in range(_account_limit(app)):
        name = "HANDLER" if attempt % 2 else " handler"
        assert auth.login(name, "wrong-password", **_from(attempt)).status_code == 200
    assert auth.login("handler", **_from(100)).status_code == 429


def test_a_successful_sign_in_clears_the_account_s_failures(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    auth = AuthActions(client)
    limit = _account_limit(app)
    for _round in range(2):
        for attempt in range(limit - 1):
            assert auth.login("handler", "wrong-password", **_from(attempt)).status_code == 200
        assert auth.login("handler", **_from(99)).status_code == 302
        assert auth.logout().status_code == 302


def test_the_account_limit_is_a_setting(
    app: Flask, auth: AuthActions, demo_base: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_ACCOUNT", "2 per 15 minutes")
    assert auth.login("handler", "wrong-password").status_code == 200
    assert auth.login("handler", "wrong-password").status_code == 200
    assert auth.login("handler").status_code == 429
