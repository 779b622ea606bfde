"""Ledger reports (DESIGN §5) on the demo city: the page, the XLSX and the CSV hold the
same numbers — 1,106 campaign items in six categories, 32 legacy items of which 19 are
written off — and the figures follow the items' statuses and target dates."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from caseapp.extensions import db
from caseapp.models import Ledger, LedgerCategory, LedgerItem
from caseapp.models.enums import LedgerItemStatus, LedgerKind
from caseapp.reports import ledger_report
from caseapp.reports.ledger_report import Tally
from tests.factories import department

CAMPAIGN = {
    "解民忧暖民心": 473,
    "关爱老区关心英烈后代": 41,
    "党员志愿活动": 239,
    "政策惠民": 108,
    "项目建设服务": 209,
    "历史遗留问题及信访积案化解": 36,
}


def test_the_page_the_xlsx_and_the_csv_hold_the_demo_figures(
    supervisor_client: FlaskClient, demo_city: None
) -> None:
    page = supervisor_client.get("/supervisor/ledgers?lang=zh_CN").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "共1106件，已化解" in text
    assert "共32件，已化解19件，正在推进13件" in text
    for name, count in CAMPAIGN.items():
        assert re.search(rf"{name} {count} ", text), name

    legacy = supervisor_client.get("/supervisor/ledgers/legacy?lang=zh_CN").get_data(as_text=True)
    assert "共32件，已化解19件，正在推进13件" in re.sub(r"<[^>]+>", "", legacy)

    book = load_workbook(
        io.BytesIO(supervisor_client.get("/supervisor/ledgers.xlsx?lang=zh_CN").data)
    )
    assert len(book.worksheets) == 2  # a sheet per ledger
    campaign_sheet, legacy_sheet = book.worksheets
    assert campaign_sheet.freeze_panes == "A2"
    rows = [r for r in campaign_sheet.iter_rows(values_only=True)]
    by_name = {row[0]: row for row in rows[1:8]}
    assert {name: by_name[name][1] for name in CAMPAIGN} == CAMPAIGN
    assert by_name["合计"][1] == 1106
    legacy_rows = list(legacy_sheet.iter_rows(values_only=True))
    total = next(row for row in legacy_rows if row[0] == "合计")
    assert total[1:4] == (32, 19, 13)

    body = supervisor_client.get("/supervisor/ledgers.csv?lang=zh_CN").data.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(body)))
    totals = {row[0]: row[3:6] for row in records[1:] if row[1] == "合计"}
    campaign_total = [str(value) for value in by_name["合计"][1:4]]
    assert sorted(totals.values()) == sorted([campaign_total, ["32", "19", "13"]])
    categories = {row[2]: int(row[3]) for row in records[1:] if row[1] == "事项分类"}
    assert {name: categories[name] for name in CAMPAIGN} == CAMPAIGN


def test_each_figure_links_to_its_items(supervisor_client: FlaskClient, demo_city: None) -> None:
    page = supervisor_client.get("/supervisor/ledgers/legacy?lang=en").get_data(as_text=True)
    link = re.search(r'href="(/supervisor/ledgers/legacy/items\?state=written_off)"', page)
    assert link is not None
    items = supervisor_client.get(link.group(1) + "&lang=en").get_data(as_text=True)
    assert "Items found: 19" in items
    assert len(re.findall(r"/supervisor/ledger-items/\d+", items)) == 19


@pytest.fixture
def small_ledger(app_ctx: Flask, demo_base: None) -> Ledger:
    ledger = Ledger(code="t", name_zh="测试台账", name_en="Test ledger", kind=LedgerKind.CAMPAIGN)
    ledger.categories = [
        LedgerCategory(code="a", name_zh="甲", name_en="A", sort_order=1),
        LedgerCategory(code="b", name_zh="乙", name_en="B", sort_order=2),
    ]
    db.session.add(ledger)
    db.session.flush()
    a, b = ledger.categories
    zjj, cgj = department("zjj").id, department("cgj").id
    rows = [
        # (category, department, status, target date)
        (a, zjj, LedgerItemStatus.WRITTEN_OFF, date(2026, 1, 1)),  # done, never overdue
        (a, zjj, LedgerItemStatus.IN_PROGRESS, date(2026, 1, 1)),  # overdue
        (a, cgj, LedgerItemStatus.OPEN, date(2027, 1, 1)),
        (b, cgj, LedgerItemStatus.OPEN, None),  # no target date: never overdue
        (None, None, LedgerItemStatus.WRITTEN_OFF, None),
    ]
    for i, (category, owner, status, target) in enumerate(rows):
        db.session.add(
            LedgerItem(
                ledger_id=ledger.id,
                code=f"T{i}",
                title=f"事项{i}",
                category_id=category.id if category else None,
                owner_department_id=owner,
                status=status,
                target_date=target,
            )
        )
    db.session.commit()
    return ledger


def test_figures_by_category_and_department(small_ledger: Ledger) -> None:
    (report,) = ledger_report.ledger_reports(date(2026, 6, 1), "zh_CN", [small_ledger])
    assert report.total == Tally(total=5, written_off=2, overdue=1)
    assert report.total.in_progress == 3 and report.total.percent == 40.0
    assert [(r.name, r.tally) for r in report.by_category] == [
        ("甲", Tally(3, 1, 1)),
        ("乙", Tally(1, 0, 0)),
        ("", Tally(1, 1, 0)),  # the item without a category
    ]
    by_department = {r.name: r.tally for r in report.by_department}
    assert by_department == {
        "市住房和城乡建设局": Tally(2, 1, 1),
        "市城市管理局": Tally(2, 0, 0),
        "": Tally(1, 1, 0),
    }


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("state=overdue", ["T1"]),
        ("state=written_off", ["T0", "T4"]),
        ("state=in_progress&category=none", []),
        ("department=none", ["T4"]),
    ],
)
def test_the_items_behind_a_figure(
    supervisor_client: FlaskClient, small_ledger: Ledger, query: str, codes: list[str]
) -> None:
    page = supervisor_client.get(f"/supervisor/ledgers/t/items?{query}").get_data(as_text=True)
    assert re.findall(r"<td>(T\d)</td>", page) == codes


@pytest.mark.parametrize("query", ["state=nonsense", "category=x", "page=0"])
def test_a_bad_figure_is_a_400(
    supervisor_client: FlaskClient, small_ledger: Ledger, query: str
) -> None:
    assert supervisor_client.get(f"/supervisor/ledgers/t/items?{query}").status_code == 400


def test_ledgers_are_for_supervisors(handler_client: FlaskClient, small_ledger: Ledger) -> None:
    for url in ("/supervisor/ledgers", "/supervisor/ledgers/t", "/supervisor/ledgers.xlsx"):
        assert handler_client.get(url).status_code == 403


def test_an_unknown_ledger_is_a_404(supervisor_client: FlaskClient, demo_base: None) -> None:
    assert supervisor_client.get("/supervisor/ledgers/nope").status_code == 404


def test_a_name_that_looks_like_a_formula_stays_text(
    supervisor_client: FlaskClient, small_ledger: Ledger
) -> None:
    small_ledger.name_zh = "=HYPERLINK(1)"
    db.session.commit()
    book = load_workbook(io.BytesIO(supervisor_client.get("/supervisor/ledgers.xlsx").data))
    assert book.sheetnames == ["=HYPERLINK(1)"]
    assert all(c.data_type != "f" for row in book.worksheets[0].iter_rows() for c in row)
    body = supervisor_client.get("/supervisor/ledgers.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerItem)) == 5


@pytest.mark.parametrize("days_later", [0, 60, 400])
def test_the_report_counts_as_late_exactly_the_items_the_department_page_marks_late(
    app_ctx: Flask, demo_city: None, days_later: int
) -> None:
    """One rule of lateness (``workflow.ledger_items.item_is_late``): the report's SQL and
    the pages' Python agree on every item of the demo city, on several days."""
    from datetime import timedelta

    import sqlalchemy as sa

    from caseapp.extensions import db
    from caseapp.models import LedgerItem
    from caseapp.reports.ledger_report import overdue_condition
    from caseapp.services.pages.ledger_item import item_milestones, local_today
    from caseapp.workflow.ledger_items import item_is_late

    today = local_today() + timedelta(days=days_later)
    by_sql = set(db.session.scalars(sa.select(LedgerItem.id).where(overdue_condition(today))))
    by_rule = set()
    for item in db.session.scalars(sa.select(LedgerItem)):
        steps = item_milestones(item, today)
        if item_is_late(item.status, item.target_date, steps, today):
            by_rule.add(item.id)
    assert by_sql == by_rule
    assert by_rule or days_later == 0


def test_the_workbook_of_a_city_with_no_ledger_says_so(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ledger)) == 0
    answer = supervisor_client.get("/supervisor/ledgers.xlsx?lang=en")
    assert answer.status_code == 200  # was a 500: a workbook needs a sheet
    book = load_workbook(io.BytesIO(answer.data))
    assert [[c.value for c in row] for row in book.active.iter_rows()] == [["No ledger yet."]]
