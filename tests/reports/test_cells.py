"""Text people typed is never a formula in a spreadsheet the app writes (issue 15): the
one helper (``reports.cells``), and through each real exporter."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from caseapp.extensions import db
from caseapp.models.enums import CaseStatus, Role
from caseapp.reports.cells import csv_cell
from caseapp.services.access import accounts
from tests.conftest import _client_as
from tests.factories import case_in, department, user

FORMULAS = ["=1+2", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        *[(text, "'" + text) for text in FORMULAS],
        ("市住房和城乡建设局", "市住房和城乡建设局"),
        ("a=1", "a=1"),
        ("", ""),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_a_csv_field_that_starts_like_a_formula_is_text(value: Any, written: Any) -> None:
    assert csv_cell(value) == written


def _cells(data: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _holding(data: bytes, text: str) -> list[Any]:
    """The cells of the workbook that hold ``text``; none may be a formula."""
    cells = _cells(data)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return [c for c in cells if c.value == text]


@pytest.fixture
def formula_names(app_ctx: Flask, demo_base: None) -> dict[str, str]:
    """Departments and a handler named like formulas, with open and rated cases."""
    names = {"zjj": '=HYPERLINK("http://x","y")', "cgj": "@SUM(1+1)*cmd"}
    for code, name in names.items():
        department(code).name_zh = name
    user("handler").display_name = "-2+3"
    db.session.commit()
    for lead in names:
        case_in(CaseStatus.IN_PROGRESS, lead=lead)
        case_in(CaseStatus.CLOSED, lead=lead)  # rated: on the month's scorecards
    return names


def test_the_scorecards_workbook_writes_department_names_as_text(
    app: Flask, formula_names: dict[str, str]
) -> None:
    client = _client_as(app, "supervisor")
    zjj = department("zjj").id
    response = client.get(f"/supervisor/scorecards.xlsx?department={zjj}")
    assert response.status_code == 200
    for name in formula_names.values():
        found = _holding(response.data, name)
        assert found and all(c.data_type == "s" for c in found), name
    # The weekly trend's heading names the department too.
    trend = load_workbook(io.BytesIO(response.data)).worksheets[1]
    assert trend["B1"].value == formula_names["zjj"] and trend["B1"].data_type == "s"


def test_the_queue_exports_write_names_as_text(app: Flask, formula_names: dict[str, str]) -> None:
    client = _client_as(app, "supervisor")
    workbook = client.get("/staff/queue.xlsx?view=all")
    found = _holding(workbook.data, "-2+3")
    assert found and all(c.data_type == "s" for c in found)
    assert _holding(workbook.data, formula_names["zjj"])
    text = client.get("/staff/queue.csv?view=all").data.decode("utf-8-sig")
    fields = [field for row in csv.reader(io.StringIO(text)) for field in row]
    assert "'-2+3" in fields and "-2+3" not in fields
    assert "'" + formula_names["cgj"] in fields


def test_the_import_template_writes_names_as_text(
    app: Flask, app_ctx: Flask, demo_base: None
) -> None:
    from caseapp.models import Ledger
    from caseapp.models.enums import LedgerKind

    db.session.add(Ledger(code="t", name_zh="测试台账", name_en="Test", kind=LedgerKind.CAMPAIGN))
    accounts.create_user("leader2", "a long pass phrase", "=cmd|' /C calc'!A0", [Role.LEADER])
    db.session.commit()
    client = _client_as(app, "supervisor")
    response = client.get("/supervisor/ledgers/t/import/template.xlsx")
    assert response.status_code == 200
    found = _holding(response.data, "=cmd|' /C calc'!A0")
    assert found and all(c.data_type == "s" for c in found)


def test_a_control_character_in_old_data_does_not_break_an_export(
    app: Flask, formula_names: dict[str, str]
) -> None:
    """Names are checked when they are typed; a row older than the checks still exports
    (the XLSX format cannot hold C0 controls, openpyxl refuses them)."""
    department("zjj").name_zh = "市住建\x07局"
    db.session.commit()
    client = _client_as(app, "supervisor")
    for url in ("/supervisor/scorecards.xlsx", "/staff/queue.xlsx?view=all"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _holding(response.data, "市住建\ufffd局"), url
