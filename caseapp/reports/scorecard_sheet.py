"""The scorecards as an XLSX workbook: the same figures as the page, one row per
department, and the weekly trend on a second sheet. Rates are percentages to one
place (83.3), exactly as the page prints them."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from caseapp.reports.cells import append_row
from caseapp.reports.scorecards import Scorecard, ScorecardReport, TrendPoint

COLUMNS = (
    (_l("Department"), 26),
    (_l("Composite score"), 12),
    (_l("Response rate (%)"), 12),
    (_l("Responded on time"), 12),
    (_l("First responses due"), 12),
    (_l("Resolution rate (%)"), 12),
    (_l("Rated solved"), 10),
    (_l("Rated cases"), 10),
    (_l("Satisfaction rate (%)"), 12),
    (_l("Weighted satisfaction rate (%)"), 14),
    (_l("On-time resolution rate (%)"), 14),
    (_l("Answered on time"), 12),
    (_l("Answered"), 10),
    (_l("Mean working days to resolve"), 14),
    (_l("Overdue now"), 10),
    (_l("Redos"), 8),
    (_l("Excluded ratings"), 10),
)

TREND_COLUMNS = (
    (_l("Week from"), 12),
    (_l("Week to"), 12),
    (_l("Composite score"), 12),
    (_l("Response rate (%)"), 12),
    (_l("Resolution rate (%)"), 12),
    (_l("Satisfaction rate (%)"), 12),
    (_l("Rated cases"), 10),
)

Cell = str | int | float | None


def card_cells(card: Scorecard, name: str) -> list[Cell]:
    """One department's row, in the order of COLUMNS."""
    return [
        name,
        card.composite,
        card.response.percent,
        int(card.response.part),
        card.response.whole,
        card.resolution.percent,
        int(card.resolution.part),
        card.resolution.whole,
        card.satisfaction.percent,
        card.weighted_satisfaction.percent,
        card.on_time.percent,
        int(card.on_time.part),
        card.on_time.whole,
        card.mean_working_days,
        card.overdue_now,
        card.redos,
        card.excluded,
    ]


def _sheet(workbook: Workbook, title: str, columns: Sequence[tuple[object, int]]) -> Any:
    sheet = workbook.create_sheet(title[:31])
    for index, (_heading, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return sheet


def write_workbook(
    result: ScorecardReport, trend: list[TrendPoint], lang: str, trend_of: str
) -> IO[bytes]:
    """The scorecards and the weekly trend, in a temporary file the caller sends."""
    workbook = Workbook(write_only=True)
    period = f"{result.period.first.isoformat()} – {result.period.last.isoformat()}"
    weights = result.weights
    sheet = _sheet(workbook, _("Scorecards"), COLUMNS)
    append_row(sheet, [_("Scorecards"), period])
    append_row(
        sheet,
        [
            _("Weights (%)"),
            _("Response"),
            weights.response,
            _("Resolution"),
            weights.resolution,
            _("Satisfaction"),
            weights.satisfaction,
        ],
    )
    append_row(sheet, [str(heading) for heading, _width in COLUMNS])
    append_row(sheet, card_cells(result.total, _("All departments")))
    for card in result.departments:
        assert card.department is not None
        # Department names are the admins' text: a string cell, never a formula.
        append_row(sheet, card_cells(card, card.department.name(lang)))

    weekly = _sheet(workbook, _("Weekly trend"), TREND_COLUMNS)
    append_row(weekly, [_("Weekly trend"), trend_of])
    append_row(weekly, [str(heading) for heading, _width in TREND_COLUMNS])
    for point in trend:
        append_row(
            weekly,
            [
                point.week.first.isoformat(),
                point.week.last.isoformat(),
                point.card.composite,
                point.card.response.percent,
                point.card.resolution.percent,
                point.card.satisfaction.percent,
                point.card.rated,
            ],
        )
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    workbook.save(out)
    out.seek(0)
    return out
