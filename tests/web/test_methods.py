"""Every route of the URL map by the methods the crawl of test_no_server_errors does not
send: OPTIONS (Flask answers it itself, after the faces' guards ran, which Flask-Login
lets through unsigned) and PUT, standing for every method no route takes. As anybody:
never a 5xx, nothing written."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import rule_url, table_fingerprint

METHODS = ("OPTIONS", "PUT")


@pytest.mark.parametrize("who", ["anonymous", "handler", "supervisor", "admin"])
def test_every_route_answers_every_method_without_a_server_error(
    app: Flask, client: FlaskClient, demo_base: None, request: pytest.FixtureRequest, who: str
) -> None:
    browser = client if who == "anonymous" else request.getfixturevalue(f"{who}_client")
    # An id of 1 names a row of the demo base where the route has one.
    urls = sorted({rule_url(rule, id_value="1") for rule in app.url_map.iter_rules()})
    assert len(urls) > 80
    before = table_fingerprint(app)  # the security log's refusals (403, 404) aside
    answers: dict[tuple[str, str], int] = {}
    for url in urls:
        for method in METHODS:
            answers[(method, url)] = browser.open(url, method=method).status_code
    failed = {key: status for key, status in answers.items() if status >= 500}
    assert failed == {}
    assert table_fingerprint(app) == before
    # OPTIONS names what a route takes, where the face lets the visitor in.
    assert answers[("OPTIONS", "/track")] == 200
