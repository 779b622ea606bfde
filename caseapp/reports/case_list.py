"""A list of cases as a spreadsheet: XLSX and CSV with the same columns and cells.

No personal data of citizens: no names, phones, emails or addresses (DESIGN §8).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from caseapp.i18n import local_datetime, local_deadline
from caseapp.labels import CHANNEL_LABELS, escalation_label, kind_label, status_label
from caseapp.models import Case
from caseapp.reports import cells

# (heading, width in characters) of each column, in order.
COLUMNS = (
    (_l("Case number"), 16),
    (_l("Title"), 40),
    (_l("Kind"), 12),
    (_l("Category"), 22),
    (_l("Status"), 18),
    (_l("Department"), 24),
    (_l("Handler"), 16),
    (_l("Channel"), 12),
    (_l("Received"), 18),
    (_l("Next deadline"), 18),
    (_l("Escalation level"), 12),
    (_l("Legacy issue"), 10),
)


def headings() -> list[str]:
    return [str(heading) for heading, _width in COLUMNS]


def case_cells(case: Case, lang: str) -> list[str | int]:
    """One row: the case's columns in the reader's language, times in the city's zone.

    Needs ``category``, ``lead_department`` and ``handler`` loaded (the queue does).
    """
    return [
        case.number,
        case.title,
        kind_label(case.kind),
        case.category.name(lang),
        status_label(case.status),
        case.lead_department.name(lang) if case.lead_department else "",
        case.handler.display_name if case.handler else "",
        str(CHANNEL_LABELS[case.channel]),
        local_datetime(case.received_at),
        local_deadline(case.next_deadline_at),
        escalation_label(case.escalation_level),
        _("Yes") if case.is_legacy else _("No"),
    ]


def csv_chunks(rows: Iterable[list[str | int]]) -> Iterator[str]:
    """The CSV text in chunks: a BOM first, so Excel reads the UTF-8 (Chinese) right; a
    title that starts like a formula is text (``cells.csv_row``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headings())
    for i, row in enumerate(rows, start=1):
        writer.writerow(cells.csv_row(row))
        if i % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(rows: Iterable[list[str | int]], title: str) -> IO[bytes]:
    """One sheet with a frozen heading row and set column widths, in a temporary file
    (write-only mode: memory stays flat however many rows there are)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, (_heading, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    cells.append_row(sheet, headings())
    for row in rows:
        cells.append_row(sheet, row)
    # The caller sends it and closes it (send_file does).
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(out)
    out.seek(0)
    return out
