"""Spreadsheet cells from text people typed (citizens' titles, staff and department
names, ledger items): written so that no spreadsheet program evaluates them.

Every XLSX and CSV the app writes goes through here:

- CSV: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe, which Excel, LibreOffice and WPS read as "this is text";
- XLSX: text is an explicit string cell (never a formula, whatever it starts with), and
  characters the XLSX format cannot hold (C0 controls) are replaced, so an old row
  written before the input checks cannot break an export.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A cell starting with one of these is a formula (or becomes one) to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | float | None | Any


def csv_cell(value: Value) -> Value:
    """A CSV field: text a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[Value]) -> list[Value]:
    """A CSV row of ``csv_cell`` fields."""
    return [csv_cell(value) for value in values]


def _xlsx_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def append_row(sheet: Any, values: Iterable[Value]) -> list[Any]:
    """Append a row to an XLSX sheet (write-only or not) with every text an explicit
    string cell; returns the cells (to style them)."""
    values = list(values)
    if isinstance(sheet, WriteOnlyWorksheet):
        cells = [xlsx_cell(sheet, value) for value in values]
        sheet.append(cells)
        return cells
    sheet.append([_xlsx_text(v) if isinstance(v, str) else v for v in values])
    cells = list(sheet[sheet.max_row]) if values else []
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
    return cells


def xlsx_cell(sheet: Any, value: Value) -> WriteOnlyCell:
    """A cell of a write-only sheet; text is a string cell, never a formula."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(sheet, value=value)


def put(sheet: Any, row: int, column: int, value: Value) -> Any:
    """Set one cell of a (not write-only) sheet; text stays text."""
    cell = sheet.cell(
        row=row, column=column, value=_xlsx_text(value) if isinstance(value, str) else value
    )
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
