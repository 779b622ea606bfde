"""The public statistics' figures, and the SVG charts drawn from them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Category
from caseapp.models.enums import CaseKind, CaseStatus
from caseapp.reports.public_stats import (
    CategoryCount,
    counts_by_month,
    month_starts,
    public_statistics,
)
from caseapp.reports.svg import Bar, column_chart, fit, horizontal_bar_chart
from tests.factories import case_in, new_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def ctx(app_ctx: Flask, demo_base: None) -> Iterator[Flask]:
    yield app_ctx


def category_name(code: str, lang: str) -> str:
    category = db.session.scalar(sa.select(Category).where(Category.service_code == code))
    assert category is not None
    return category.name(lang)


# --- the figures -------------------------------------------------------------------------


def test_counts_by_status_and_category_leave_out_petitions_and_reports(ctx: Flask) -> None:
    case_in(CaseStatus.NEW)
    case_in(CaseStatus.IN_PROGRESS)
    case_in(CaseStatus.CLOSED, category="bus-stop")
    new_case(kind=CaseKind.PETITION)
    new_case(kind=CaseKind.REPORT, category="bus-stop")
    case_in(CaseStatus.CLOSED, kind=CaseKind.PETITION)

    figures = public_statistics("zh_CN", SHANGHAI)
    by_status = {row.status: row.count for row in figures.by_status}
    assert list(by_status) == list(CaseStatus)  # every status, in lifecycle order
    assert by_status[CaseStatus.NEW] == 1
    assert by_status[CaseStatus.IN_PROGRESS] == 1
    assert by_status[CaseStatus.CLOSED] == 1
    assert sum(by_status.values()) == 3

    assert figures.by_category == [
        CategoryCount(category_name("road-damage", "zh_CN"), 2),
        CategoryCount(category_name("bus-stop", "zh_CN"), 1),
    ]
    in_english = public_statistics("en", SHANGHAI).by_category
    assert [row.name for row in in_english] == [
        category_name("road-damage", "en"),
        category_name("bus-stop", "en"),
    ]


def test_totals(ctx: Flask) -> None:
    case_in(CaseStatus.NEW)
    case_in(CaseStatus.RESOLVED)
    case_in(CaseStatus.CLOSED)
    case_in(CaseStatus.WITHDRAWN)
    new_case(kind=CaseKind.REPORT)

    figures = public_statistics("zh_CN", SHANGHAI)
    assert (figures.filed, figures.open, figures.closed) == (4, 2, 1)


def test_an_empty_city_has_zeros_not_errors(ctx: Flask) -> None:
    figures = public_statistics("en", SHANGHAI)
    assert (figures.filed, figures.open, figures.closed) == (0, 0, 0)
    assert figures.by_category == []
    assert [row.count for row in figures.by_status] == [0] * len(CaseStatus)
    assert [row.count for row in figures.by_month] == [0] * 12


def test_months_are_the_citys_months(ctx: Flask) -> None:
    # 2026-01-31 17:00 UTC is 2026-02-01 01:00 in Shanghai; 15:59 UTC is still January.
    new_case(now=datetime(2026, 1, 31, 17, 0, tzinfo=UTC))
    new_case(now=datetime(2026, 1, 31, 15, 59, tzinfo=UTC))
    new_case(kind=CaseKind.PETITION, now=datetime(2026, 1, 10, tzinfo=UTC))
    now = datetime(2026, 2, 20, 4, 0, tzinfo=UTC)

    in_shanghai = counts_by_month(SHANGHAI, now)
    assert [row.month for row in in_shanghai][-3:] == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert [row.count for row in in_shanghai][-3:] == [0, 1, 1]

    in_utc = counts_by_month(ZoneInfo("UTC"), now)
    assert [row.count for row in in_utc][-3:] == [0, 2, 0]


def test_months_cover_the_last_twelve_only(ctx: Flask) -> None:
    new_case(now=datetime(2025, 2, 28, 15, 59, tzinfo=UTC))  # 2025-02-28 23:59 local
    new_case(now=datetime(2025, 2, 28, 16, 0, tzinfo=UTC))  # 2025-03-01 00:00 local
    new_case(now=datetime(2026, 2, 28, 15, 0, tzinfo=UTC))
    by_month = counts_by_month(SHANGHAI, datetime(2026, 2, 28, 15, 30, tzinfo=UTC))
    assert len(by_month) == 12
    assert (by_month[0].month, by_month[0].count) == (date(2025, 3, 1), 1)
    assert (by_month[-1].month, by_month[-1].count) == (date(2026, 2, 1), 1)
    assert sum(row.count for row in by_month) == 2


def test_the_figures_are_two_aggregate_queries(ctx: Flask) -> None:
    for _ in range(3):
        case_in(CaseStatus.NEW)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        public_statistics("zh_CN", SHANGHAI)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 2
    assert all("count(" in s.lower() and "group by" in s.lower() for s in statements)
    assert not any("citizen_" in s or "title" in s for s in statements)


@pytest.mark.parametrize(
    ("zone", "now", "first", "last"),
    [
        ("Asia/Shanghai", datetime(2026, 1, 15, tzinfo=UTC), "2025-02-01", "2026-02-01"),
        # 2026-12-31 17:00 UTC is already 2027 in Shanghai.
        ("Asia/Shanghai", datetime(2026, 12, 31, 17, tzinfo=UTC), "2026-02-01", "2027-02-01"),
        ("Europe/Berlin", datetime(2026, 7, 1, tzinfo=UTC), "2025-08-01", "2026-08-01"),
    ],
)
def test_month_starts(zone: str, now: datetime, first: str, last: str) -> None:
    starts = month_starts(ZoneInfo(zone), now)
    assert len(starts) == 13
    assert starts[0].date().isoformat() == first
    assert starts[-1].date().isoformat() == last
    assert all((s.day, s.hour, s.minute) == (1, 0, 0) for s in starts)


def test_month_starts_follow_summer_time() -> None:
    starts = month_starts(ZoneInfo("Europe/Berlin"), datetime(2026, 7, 1, tzinfo=UTC))
    as_utc = {s.date().isoformat(): s.astimezone(UTC).hour for s in starts}
    assert as_utc["2026-01-01"] == 23  # CET, UTC+1: the previous day in UTC
    assert as_utc["2026-07-01"] == 22  # CEST, UTC+2


# --- the charts --------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


@pytest.mark.parametrize("chart", [horizontal_bar_chart, column_chart])
def test_charts_are_well_formed_accessible_svg(chart) -> None:  # type: ignore[no-untyped-def]
    hostile = "<script>alert(\"x\")</script> & 'Co'"
    svg = chart([Bar(hostile, 3), Bar("道路破损与井盖", 0), Bar("B", 12345)], title=hostile)
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == hostile
    assert root.find(f"{SVG}title").text == hostile
    assert root.get("viewBox", "").startswith("0 0 ")
    assert "<script" not in svg
    assert root.find(f".//{SVG}script") is None
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "道路破损与井盖" in texts or "道路" in texts


def test_bar_lengths_follow_the_values() -> None:
    root = parse(horizontal_bar_chart([Bar("a", 10), Bar("b", 5), Bar("c", 0)], title="t"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[2] == 0


def test_columns_follow_the_values_and_notes_are_drawn() -> None:
    bars = [Bar("12月", 4, note="2025"), Bar("1月", 8, note="2026"), Bar("2月", 0)]
    root = parse(column_chart(bars, title="t"))
    heights = [float(r.get("height")) for r in root.iter(f"{SVG}rect")]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert heights[2] == 0
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "2025" in texts and "2026" in texts and "8" in texts


def test_an_empty_chart_is_still_valid() -> None:
    parse(horizontal_bar_chart([], title="t"))
    parse(column_chart([], title="t"))


def test_long_labels_are_cut_to_fit() -> None:
    assert fit("short", 400, 14) == "short"
    cut = fit("长" * 60, 400, 14)
    assert cut.endswith("…") and len(cut) < 60
