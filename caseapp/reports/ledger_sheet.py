"""Ledger reports as spreadsheets, with the same numbers as the page: XLSX with a sheet
per ledger (government ledgers live in Excel) and one CSV of every ledger."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from caseapp.reports import cells
from caseapp.reports.ledger_report import LedgerReport, Tally, TallyRow

# (heading, width in characters) after the first column, in order.
FIGURES = (
    (_l("Items"), 10),
    (_l("Written off"), 10),
    (_l("In progress"), 10),
    (_l("Overdue"), 10),
    (_l("Share written off"), 12),
)
FIRST_WIDTH = 34

Cell = str | int | float | None


def figures(tally: Tally) -> list[Cell]:
    return [tally.total, tally.written_off, tally.in_progress, tally.overdue, tally.percent]


def row_name(row: TallyRow) -> str:
    return row.name or _("None given")


def sheet_title(report: LedgerReport, lang: str, taken: set[str]) -> str:
    """The ledger's name cut to Excel's 31 characters, without the characters Excel
    refuses, and unique in the workbook."""
    name = report.ledger.name(lang)
    for char in "[]:*?/\\":
        name = name.replace(char, " ")
    title = name[:31].strip() or report.ledger.code[:31]
    number = 2
    while title in taken:
        suffix = f" ({number})"
        title = name[: 31 - len(suffix)].strip() + suffix
        number += 1
    taken.add(title)
    return title


def _append(sheet: Any, values: list[Cell], bold: Font | None = None) -> None:
    """A row whose text is always text: a name starting with "=" is not a formula."""
    for cell in cells.append_row(sheet, values):
        if bold is not None:
            cell.font = bold


def write_workbook(reports: Sequence[LedgerReport], lang: str) -> IO[bytes]:
    """A sheet per ledger: by category with a totals row, then by department with one."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    taken: set[str] = set()
    for report in reports:
        sheet = workbook.create_sheet(sheet_title(report, lang, taken))
        sheet.column_dimensions["A"].width = FIRST_WIDTH
        for index, (_heading, width) in enumerate(FIGURES, start=2):
            sheet.column_dimensions[get_column_letter(index)].width = width
        headings: list[Cell] = [str(heading) for heading, _width in FIGURES]
        _append(sheet, [_("Category"), *headings], bold)
        sheet.freeze_panes = "A2"
        for row in report.by_category:
            _append(sheet, [row_name(row), *figures(row.tally)])
        _append(sheet, [_("Total"), *figures(report.total)], bold)
        sheet.append([])
        _append(sheet, [_("Department"), *headings], bold)
        for row in report.by_department:
            _append(sheet, [row_name(row), *figures(row.tally)])
        _append(sheet, [_("Total"), *figures(report.total)], bold)
        for row in sheet.iter_rows(min_col=6, max_col=6, min_row=2):
            for cell in row:
                cell.number_format = "0.0"
    if not reports:
        # A workbook needs a sheet: with no ledger yet, one that says so (was a 500).
        workbook.create_sheet(str(_("Ledgers"))).append([str(_("No ledger yet."))])
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    workbook.save(out)
    out.seek(0)
    return out


CSV_HEADINGS = (
    _l("Ledger"),
    _l("By"),
    _l("Name"),
    *(heading for heading, _width in FIGURES),
)


def csv_text(reports: Sequence[LedgerReport], lang: str) -> Iterator[str]:
    """Every ledger's rows (by category, by department, the total) as CSV, with a BOM so
    that Excel reads the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([str(heading) for heading in CSV_HEADINGS])
    for report in reports:
        name = report.ledger.name(lang)
        for row in report.by_category:
            writer.writerow(
                cells.csv_row([name, _("Category"), row_name(row), *figures(row.tally)])
            )
        for row in report.by_department:
            writer.writerow(
                cells.csv_row([name, _("Department"), row_name(row), *figures(row.tally)])
            )
        writer.writerow(cells.csv_row([name, _("Total"), "", *figures(report.total)]))
    yield buffer.getvalue()
