"""Home page, languages, health check and security headers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Category


def test_home_is_chinese_by_default(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "有急难愁盼，请告诉我们" in body
    assert "公交站点设置" in body  # a category of the demo city
    assert "交通出行" in body  # its group


def test_lang_switches_to_english_and_is_remembered(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Tell the city what needs fixing" in body
    assert "Bus stops and routes" in body
    again = client.get("/").get_data(as_text=True)
    assert "Tell the city what needs fixing" in again
    back = client.get("/?lang=zh_CN").get_data(as_text=True)
    assert "有急难愁盼，请告诉我们" in back


def test_unknown_language_falls_back_to_chinese(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/?lang=xx").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body


def test_language_switch_link_is_on_every_page(client: FlaskClient, demo_base: None) -> None:
    assert 'href="/?lang=en"' in client.get("/").get_data(as_text=True)
    assert 'href="/staff/login?lang=zh_CN"' in client.get("/staff/login?lang=en").get_data(
        as_text=True
    )


def test_retired_categories_are_not_offered(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    from caseapp.models.types import utcnow

    with app.app_context():
        category = db.session.scalar(sa.select(Category).where(Category.service_code == "bus-stop"))
        category.retired_at = utcnow()
        db.session.commit()
    assert "公交站点设置" not in client.get("/").get_data(as_text=True)


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_fails_when_the_database_is_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from caseapp import create_app
    from config import TestConfig

    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    broken = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


@pytest.mark.parametrize("path", ["/", "/staff/login", "/healthz", "/no-such-page"])
def test_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_no_asset_loads_from_another_host(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/").get_data(as_text=True)
    assert "http://" not in body and "https://" not in body
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert "@import" not in css.get_data(as_text=True)
