"""The public statistics page (DESIGN §7): figures and charts, no personal data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Category
from caseapp.models.enums import CaseKind, CaseStatus
from caseapp.reports.daily_totals import rebuild_daily_totals
from tests.factories import case_in, new_case

SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)
TOTAL_RE = re.compile(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>")


def page(client: FlaskClient, url: str = "/stats") -> str:
    """The page after the worker's count (the page reads only what it kept)."""
    with client.application.app_context():
        rebuild_daily_totals()
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def totals(body: str) -> list[str]:
    return [value for _label, value in TOTAL_RE.findall(body)]


def test_page_is_chinese_by_default(app: Flask, client: FlaskClient, demo_base: None) -> None:
    with app.app_context():
        case_in(CaseStatus.IN_PROGRESS)
    body = page(client)
    assert '<html lang="zh-CN">' in body
    assert "道路破损与井盖" in body  # the category, in Chinese
    assert "办理中" in body  # the status, in Chinese


def test_page_in_english(app: Flask, client: FlaskClient, demo_base: None) -> None:
    with app.app_context():
        case_in(CaseStatus.IN_PROGRESS)
    body = page(client, "/stats?lang=en")
    assert '<html lang="en">' in body
    assert "Requests in figures" in body
    assert "Broken roads and manholes" in body
    assert "In progress" in body


def test_petitions_and_reports_are_not_counted(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    with app.app_context():
        case_in(CaseStatus.NEW)
        case_in(CaseStatus.CLOSED)
        new_case(kind=CaseKind.PETITION, category="bus-stop")
        new_case(kind=CaseKind.REPORT, category="bus-stop")
    body = page(client, "/stats?lang=en")
    assert totals(body) == ["2", "1", "1"]  # received, open now, closed
    assert "Bus stops and routes" not in body  # its only cases are a petition and a report


def test_no_personal_data_is_shown(app: Flask, client: FlaskClient, demo_base: None) -> None:
    with app.app_context():
        case_in(
            CaseStatus.IN_PROGRESS,
            title="欧阳娜娜家门口井盖缺失",
            description="家住解放南路88号3单元，井盖丢了。",
            citizen_name="欧阳娜娜",
            citizen_phone="13987654321",
            citizen_email="nana@example.cn",
            address="解放南路88号3单元",
        )
    for url in ("/stats", "/stats?lang=en"):
        body = page(client, url)
        for secret in ("欧阳", "13987654321", "nana@", "解放南路", "井盖缺失", "YC20"):
            assert secret not in body


def test_charts_are_well_formed_svg_beside_tables(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    with app.app_context():
        case_in(CaseStatus.NEW)
        category = db.session.scalar(sa.select(Category).where(Category.service_code == "bus-stop"))
        category.name_en = 'Stops <b>&</b> "routes"'
        db.session.commit()
        new_case(category="bus-stop")
    body = page(client, "/stats?lang=en")
    charts = SVG_RE.findall(body)
    assert len(charts) == 3
    for svg in charts:
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert root.get("aria-label")
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
    assert body.count("<table") == 3
    assert "<b>&</b>" not in body
    assert "Stops &lt;b&gt;&amp;&lt;/b&gt;" in body
    assert "<script" not in body
    assert "https://" not in body
    assert "http://" not in body.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_months_are_counted_in_the_citys_zone(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    with app.app_context():
        # 01:00 on 1 February in Shanghai.
        new_case(now=datetime(2026, 1, 31, 17, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 2, 20, 4, 0, tzinfo=UTC), tick=False):
        body = page(client, "/stats?lang=en")
    rows = dict(
        re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">([\d,]+)</td></tr>', body)
    )
    assert rows["Feb 2026"] == "1"
    assert rows["Jan 2026"] == "0"
    assert rows["Mar 2025"] == "0"
    assert "Feb 2025" not in rows


def test_an_empty_city_has_a_page(client: FlaskClient, demo_base: None) -> None:
    body = page(client)
    assert "<svg" not in body
    assert 'class="empty"' in body
