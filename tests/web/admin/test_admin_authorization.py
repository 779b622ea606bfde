"""Every admin URL and action is closed to everyone but administrators. The URLs come
from the app's URL map, so a new admin route is covered the day it is added."""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from tests.conftest import _client_as, csrf_token

# Views never run for these users, so any value fills a converter; a real code keeps
# the URLs plausible.
KNOWN_CODE = "zjj"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _value_for(rule: Rule, argument: str) -> object:
    converter = rule._converters.get(argument)
    return 1 if isinstance(converter, IntegerConverter) else KNOWN_CODE


def admin_requests(app: Flask) -> list[tuple[str, str]]:
    """(method, URL) for every method of every ``admin.`` endpoint."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            values = {name: _value_for(rule, name) for name in rule.arguments}
            url = url_for(rule.endpoint, **values)
            for method in sorted((rule.methods or set()) - IGNORED_METHODS):
                found.append((method, url))
    return found


def test_the_url_map_lists_the_admin_console(app: Flask) -> None:
    requests = admin_requests(app)
    assert ("GET", "/admin/") in requests
    assert ("POST", "/admin/outbox/1/retry") in requests
    assert ("GET", "/admin/audit") in requests
    assert ("POST", "/admin/users/new") in requests
    assert ("POST", "/admin/departments/1/retire") in requests


@pytest.mark.parametrize("username", ["intake", "handler", "lead", "supervisor", "leader"])
def test_staff_without_the_admin_role_get_403_everywhere(
    app: Flask, demo_base: None, username: str
) -> None:
    client = _client_as(app, username)
    token = csrf_token(client, "/staff/queue")
    for method, url in admin_requests(app):
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, (username, method, url, response.status_code)


def test_signed_out_visitors_are_sent_to_sign_in(
    app: Flask, demo_base: None, client: FlaskClient
) -> None:
    token = csrf_token(client, "/staff/login")
    for method, url in admin_requests(app):
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (method, url, response.status_code)
        assert "/staff/login" in response.headers["Location"], (method, url)


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/users", "/admin/departments", "/admin/audit", "/admin/users/new"]
)
def test_administrators_are_let_in(app: Flask, demo_base: None, url: str) -> None:
    assert _client_as(app, "admin").get(url).status_code == 200
