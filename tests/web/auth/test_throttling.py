"""Sign-in throttling by account and by address (issue 20, point 5), limits on.

Every refused sign-in gets the same page, whatever the reason: a wrong password, an
unknown or deactivated account, the account's or the address's failed attempts used
up; the pages differ only in their CSRF token, the name typed, and the status (429
once a limit is used up). The address is the client's own: behind PROXY_FIX_HOPS
proxies the one the nearest proxy saw, and never what a client writes into
X-Forwarded-For when no proxy is configured. Odd usernames (NUL, 10 kB) get a clear
answer and never a 500, throttled or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import TestResponse

from caseapp import create_app
from caseapp.extensions import db
from caseapp.models import AuditLog
from config import TestConfig
from tests.conftest import CSRF_RE, DEMO_PASSWORD, AuthActions, csrf_token
from tests.factories import user
from tests.web.public.test_citizen_journey import file_request
from tests.web.public.test_tracking_codes import (
    PHONE,
    ask_for_code,
    codes_sent,
    enter_code,
    visitor,
    without_values,
)

WRONG_ANSWER_ZH = "用户名或密码不正确，或尝试次数过多。"
USERNAME_VALUE_RE = re.compile(r'(id="username"[^>]*value=")[^"]*(")')


def _from(address: str) -> dict[str, object]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _page(response: TestResponse) -> str:
    """The page without what may differ between two refusals: the CSRF token and the
    name typed."""
    body = response.get_data(as_text=True)
    body = CSRF_RE.sub('name="csrf_token" value="…"', body)
    return USERNAME_VALUE_RE.sub(r"\1…\2", body)


def _refusals(app: Flask) -> list[tuple[str | None, str | None]]:
    """(address, reason) of every refused sign-in in the audit log, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sign_in_refused").order_by(AuditLog.id)
        ).all()
        found = [((r.after or {}).get("address"), (r.after or {}).get("reason")) for r in rows]
        db.session.remove()
    return found


def test_every_refused_sign_in_gets_the_same_page(
    app: Flask, client: FlaskClient, demo_base: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_ACCOUNT", "2 per 15 minutes")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per 5 minutes")
    with app.app_context():
        user("handler2").active = False
        db.session.commit()
        db.session.remove()
    auth = AuthActions(client)
    answers = {
        "wrong password": auth.login("handler", "wrong-password", **_from("192.0.2.1")),
        "unknown account": auth.login("nobody-by-this-name", "x", **_from("192.0.2.2")),
        "deactivated account": auth.login("handler2", DEMO_PASSWORD, **_from("192.0.2.3")),
    }
    auth.login("handler", "wrong-password", **_from("192.0.2.4"))  # the account's 2nd
    answers["account locked"] = auth.login("handler", DEMO_PASSWORD, **_from("192.0.2.5"))
    for name in ("guess-a", "guess-b", "guess-c"):  # the address's three
        assert auth.login(name, "x", **_from("192.0.2.6")).status_code == 200
    answers["address locked"] = auth.login("intake", DEMO_PASSWORD, **_from("192.0.2.6"))

    assert {kind: answer.status_code for kind, answer in answers.items()} == {
        "wrong password": 200,
        "unknown account": 200,
        "deactivated account": 200,
        "account locked": 429,
        "address locked": 429,
    }
    pages = {kind: _page(answer) for kind, answer in answers.items()}
    first = pages["wrong password"]
    assert WRONG_ANSWER_ZH in first
    assert all(page == first for page in pages.values()), [
        kind for kind, page in pages.items() if page != first
    ]
    # Nobody signed in, and the right password did not open the locked account.
    assert client.get("/staff/queue").status_code == 302
    assert [reason for _address, reason in _refusals(app)] == [
        "wrong_password",
        "unknown_account",
        "inactive_account",
        "wrong_password",
        "account_throttled",
        "unknown_account",
        "unknown_account",
        "unknown_account",
        "address_throttled",
    ]


def test_forwarded_for_is_ignored_when_no_proxy_is_configured(
    app: Flask, client: FlaskClient, demo_base: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert app.config["PROXY_FIX_HOPS"] == 0
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per 5 minutes")
    auth = AuthActions(client)
    codes = [
        auth.login(
            f"guess-{n}",
            "x",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            **_from("192.0.2.77"),
        ).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert {address for address, _reason in _refusals(app)} == {"192.0.2.77"}


@pytest.fixture
def behind_one_proxy(app: Flask) -> Iterator[Flask]:
    """The app as ``create_app`` builds it for PROXY_FIX_HOPS=1, on the test database."""
    proxied = create_app(
        TestConfig,
        PROXY_FIX_HOPS=1,
        RATELIMIT_LOGIN="3 per 5 minutes",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        UPLOAD_DIR=app.config["UPLOAD_DIR"],
    )
    yield proxied
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_behind_a_proxy_the_limit_counts_the_client_the_proxy_saw(
    app: Flask, behind_one_proxy: Flask, demo_base: None
) -> None:
    assert isinstance(behind_one_proxy.wsgi_app, ProxyFix)
    client = behind_one_proxy.test_client()
    token = csrf_token(client, "/staff/login")
    proxy = _from("10.0.0.1")  # every request comes from the proxy's address

    def attempt(forwarded_for: str, n: int) -> int:
        return client.post(
            "/staff/login",
            # Another name each time: only the address's limit is spent.
            data={"username": f"guess-{n}", "password": "x", "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
            **proxy,
        ).status_code

    # Many clients behind one proxy: each has its own attempts.
    assert [attempt(f"203.0.113.{n}", n) for n in range(5)] == [200] * 5
    # One client: what it writes before the proxy's entry changes nothing.
    spoofed = [attempt(f"198.51.100.{n}, 203.0.113.50", 10 + n) for n in range(4)]
    assert spoofed == [200, 200, 200, 429]
    addresses = [address for address, _reason in _refusals(app)]
    assert addresses[-4:] == ["203.0.113.50"] * 4
    assert not any(a and a.startswith(("10.", "198.51.100.")) for a in addresses)


@pytest.mark.parametrize("username", ["a\x00b", "x" * 10_000 + "\x00"])
def test_a_username_holding_nul_is_a_400_before_anything(
    app: Flask, client: FlaskClient, demo_base: None, monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1 per 5 minutes")
    token = csrf_token(client, "/staff/login")
    data = {"username": username, "password": "x", "csrf_token": token}
    assert [client.post("/staff/login", data=data).status_code for _ in range(3)] == [400] * 3
    assert _refusals(app) == []


@pytest.mark.parametrize(
    ("username", "checked"),
    [("名" * 10_000, False), ("\u202e\r\nadmin", True), ("x" * 65, False)],
)
def test_odd_usernames_get_a_clear_answer_throttled_or_not(
    app: Flask,
    client: FlaskClient,
    demo_base: None,
    monkeypatch: pytest.MonkeyPatch,
    username: str,
    checked: bool,
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1 per 5 minutes")
    token = csrf_token(client, "/staff/login")
    data = {"username": username, "password": "x", "csrf_token": token}
    # A name longer than any account's is a form error; another is checked and refused.
    first = client.post("/staff/login", data=data)
    assert first.status_code == 200
    throttled = client.post("/staff/login", data=data)
    assert throttled.status_code == 429
    assert WRONG_ANSWER_ZH in throttled.get_data(as_text=True)
    expected = ["unknown_account"] * checked + ["address_throttled"]
    assert [reason for _address, reason in _refusals(app)] == expected
    with app.app_context():
        for row in db.session.scalars(sa.select(AuditLog)):
            assert row.actor_id is None and row.entity_id is None
            assert row.after is not None
            assert set(row.after) == {"address", "reason", "username_digest"}
            assert re.fullmatch("[0-9a-f]{16}", row.after["username_digest"])
        db.session.remove()


def test_the_citizen_s_code_sign_in_refuses_alike_and_is_limited_per_address(
    app: Flask, demo_base: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other sign-in: case number, phone and the code sent by SMS. A wrong number, a
    wrong phone, a wrong code and a code whose guesses are used up get the same page
    (200); past RATELIMIT_TRACK the address gets a 429 whatever it sends. The code's own
    limits (5 guesses, codes per request and phone) are tests/services/access."""
    monkeypatch.setitem(app.config, "RATELIMIT_TRACK", "100 per 10 minutes")
    filer = app.test_client()
    number, _link = file_request(filer)
    citizen = visitor(app, "198.51.100.20")
    assert ask_for_code(citizen, number).status_code == 200
    (code,) = codes_sent(app)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    def attempt(number_sent: str, phone: str, code_sent: str) -> TestResponse:
        token = csrf_token(citizen, "/track")
        return citizen.post(
            "/track/verify",
            data={"number": number_sent, "phone": phone, "code": code_sent, "csrf_token": token},
        )

    answers = [
        attempt("YC2000-999999", PHONE, code),
        attempt(number, "13900000000", code),
        *[attempt(number, PHONE, wrong) for _ in range(5)],
        attempt(number, PHONE, code),  # the right code, after five wrong guesses
    ]
    assert [a.status_code for a in answers] == [200] * 8
    pages = {without_values(a.get_data(as_text=True)) for a in answers}
    assert len(pages) == 1
    assert citizen.get(f"/track/{number}").status_code == 302  # still not opened

    monkeypatch.setitem(app.config, "RATELIMIT_TRACK", "1 per 10 minutes")
    stranger = visitor(app, "198.51.100.21")
    assert enter_code(stranger, number, wrong).status_code == 200
    assert enter_code(stranger, number, code).status_code == 429
