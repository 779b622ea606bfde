"""Security headers on every answer (issue 20): each rule of the URL map, generated from
the map, each of its methods, asked anonymously and as a signed-in supervisor, with a
path value that exists nowhere: whatever the answer (200, redirect, 4xx), it carries the
headers ``caseapp.security`` sets."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import rule_url

REQUIRED = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The referrer stays on this site (a form posted over https needs it there); the
# private link's answer sends none at all.
REFERRER_POLICIES = {"same-origin", "no-referrer"}


def _requests(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (method, rule_url(rule))
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


def _check(client: FlaskClient, app: Flask) -> None:
    missing = []
    for method, url in _requests(app):
        answer = client.open(url, method=method)
        for header, value in REQUIRED.items():
            if value not in answer.headers.get(header, ""):
                missing.append((method, url, answer.status_code, header))
        if answer.headers.get("Referrer-Policy") not in REFERRER_POLICIES:
            missing.append((method, url, answer.status_code, "Referrer-Policy"))
    assert not missing, missing[:10]


def test_the_url_map_has_routes_of_every_face(app: Flask) -> None:
    urls = {url for _, url in _requests(app)}
    for prefix in ("/staff/", "/supervisor/", "/admin/", "/open311/", "/track", "/requests/"):
        assert any(u.startswith(prefix) for u in urls), prefix


def test_every_answer_to_an_anonymous_visitor_has_the_security_headers(
    app: Flask, client: FlaskClient
) -> None:
    _check(client, app)


@pytest.mark.usefixtures("demo_base")
def test_every_answer_to_a_signed_in_supervisor_has_the_security_headers(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    _check(supervisor_client, app)
