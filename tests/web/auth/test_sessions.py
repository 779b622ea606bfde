"""Staff sessions end on the server: a session cookie copied before sign-out, a
password change, a password reset or a deactivation opens no staff page afterwards, and
no cookie outlives STAFF_SESSION_MAX_HOURS from its sign-in, however busy it is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from caseapp.security import SIGNED_IN_KEY
from tests.conftest import AuthActions, _client_as, csrf_token
from tests.factories import user

COOKIE = "caseapp_session"
STAFF_PAGE = "/staff/queue"


def copied_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def replayed(app: Flask, cookie: str) -> FlaskClient:
    """A new browser that sends the copied cookie, as someone who captured it would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def opens_staff_page(client: FlaskClient) -> bool:
    response = client.get(STAFF_PAGE)
    if response.status_code == 302:
        assert "/staff/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def test_a_cookie_copied_before_sign_out_opens_nothing_after(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    cookie = copied_cookie(client)
    assert opens_staff_page(replayed(app, cookie))  # the copy works while signed in
    assert auth.logout().status_code == 302
    thief = replayed(app, cookie)
    assert not opens_staff_page(thief)
    # Nor does the copy come back to life, or reach a case page.
    assert thief.get("/staff/cases/YC2026-000001").status_code == 302
    assert not opens_staff_page(replayed(app, cookie))


def test_sign_out_ends_the_account_s_other_sessions_too(app: Flask, demo_base: None) -> None:
    office = _client_as(app, "handler")
    phone = _client_as(app, "handler")
    assert AuthActions(office).logout().status_code == 302
    assert not opens_staff_page(phone)


def test_a_cookie_copied_before_an_own_password_change_opens_nothing_after(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    cookie = copied_cookie(client)
    other_device = _client_as(app, "handler")
    token = csrf_token(client, "/staff/password")
    changed = client.post(
        "/staff/password",
        data={
            "current_password": "demo-password",
            "new_password": "lantern cobalt orchard",
            "new_password_again": "lantern cobalt orchard",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 302
    assert opens_staff_page(client)  # the browser that changed it goes on
    assert copied_cookie(client) != cookie
    assert not opens_staff_page(replayed(app, cookie))
    assert not opens_staff_page(other_device)


def test_a_cookie_copied_before_an_admin_reset_opens_nothing_after(
    app: Flask, client: FlaskClient, auth: AuthActions, admin_client: FlaskClient
) -> None:
    auth.login("handler")
    cookie = copied_cookie(client)
    with app.app_context():
        url = f"/admin/users/{user('handler').id}/password"
    reset = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url)})
    assert reset.status_code == 200
    assert not opens_staff_page(replayed(app, cookie))
    assert not opens_staff_page(client)


def test_a_cookie_copied_before_deactivation_opens_nothing_after(
    app: Flask, client: FlaskClient, auth: AuthActions, admin_client: FlaskClient
) -> None:
    auth.login("handler")
    cookie = copied_cookie(client)
    with app.app_context():
        handler_id = user("handler").id
    url = f"/admin/users/{handler_id}/deactivate"
    done = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url)})
    assert done.status_code == 302
    assert not opens_staff_page(replayed(app, cookie))
    # Brought back, the account signs in again, but the old cookie stays dead.
    back = f"/admin/users/{handler_id}/reactivate"
    admin_client.post(back, data={"csrf_token": csrf_token(admin_client, url)})
    assert AuthActions(app.test_client()).login("handler").status_code == 302
    assert not opens_staff_page(replayed(app, cookie))


def test_no_cookie_outlives_the_session_lifetime_however_busy(
    app: Flask, client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    hours = app.config["STAFF_SESSION_MAX_HOURS"]
    step = timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"] - 5)
    signed_in = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with time_machine.travel(signed_in, tick=False) as clock:
        auth.login("handler")
        cookie = copied_cookie(client)
        now = signed_in
        # Used more often than the idle timeout, the session holds up to the lifetime …
        while now + step <= signed_in + timedelta(hours=hours):
            clock.shift(step)
            now += step
            assert opens_staff_page(client), f"signed out at {now - signed_in}"
        # … and not a minute after it: neither the busy browser nor a copy of its
        # first cookie.
        clock.move_to(signed_in + timedelta(hours=hours, minutes=1))
        assert not opens_staff_page(replayed(app, cookie))
        response = client.get(STAFF_PAGE)
        assert response.status_code == 302
        assert "/staff/login" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"登录已满 {hours} 小时" in page
        assert not opens_staff_page(client)


def test_a_session_without_a_sign_in_time_is_not_signed_in(
    client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    assert opens_staff_page(client)
    with client.session_transaction() as session:
        del session[SIGNED_IN_KEY]
    assert not opens_staff_page(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session  # the dead sign-in is cleared, not kept


def test_session_settings_default_to_safe_values() -> None:
    from config import Config

    assert Config.STAFF_SESSION_MAX_HOURS == 12
    assert Config.STAFF_IDLE_TIMEOUT_MINUTES * 60 < Config.STAFF_SESSION_MAX_HOURS * 3600


def test_staff_pages_are_not_kept_and_sign_out_clears_what_the_browser_kept(
    client: FlaskClient, auth: AuthActions, demo_base: None
) -> None:
    auth.login("handler")
    assert client.get(STAFF_PAGE).headers["Cache-Control"] == "no-store"
    signed_out = auth.logout()
    assert signed_out.status_code == 302
    assert signed_out.headers["Clear-Site-Data"] == '"cache", "storage"'
