"""The public statistics page (DESIGN §7): counts by category, status and month, each
drawn as a chart on the server beside the table it repeats; no personal data."""

from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from flask import render_template
from flask_babel import format_number, format_percent, get_locale
from flask_babel import gettext as _

from caseapp.i18n import current_language
from caseapp.labels import status_label
from caseapp.reports import public_stats
from caseapp.reports.svg import Bar, column_chart, horizontal_bar_chart
from caseapp.services.casework import clocks as deadlines
from caseapp.web.public import bp

# The category chart shows the largest ones; the table beside it lists them all.
CHART_CATEGORIES = 15


def year_starts_here(index: int, month: date) -> bool:
    """Whether the month chart shows the year under this month: under each January,
    and under the first month unless a January follows right after it (the two years
    would overlap)."""
    return month.month == 1 or (index == 0 and month.month != 12)


@bp.route("/stats")
def stats() -> str:
    """The figures the worker last counted (caseapp.reports.daily_totals): a visit
    reads a few hundred kept rows and never starts a count of its own."""
    kept = public_stats.kept_figures(current_language(), deadlines.deadline_math())
    if kept is None:
        return render_template("public/stats.html", figures=None)
    figures = kept.statistics
    locale = get_locale()
    months = [
        Bar(
            format_skeleton("MMM", row.month, locale=locale),
            row.count,
            note=str(row.month.year) if year_starts_here(i, row.month) else "",
        )
        for i, row in enumerate(figures.by_month)
    ]
    charts = {
        "category": horizontal_bar_chart(
            [Bar(row.name, row.count) for row in figures.by_category[:CHART_CATEGORIES]],
            title=_("Chart: requests by category"),
        ),
        "status": horizontal_bar_chart(
            [Bar(status_label(row.status), row.count) for row in figures.by_status],
            title=_("Chart: requests by status"),
        ),
        "month": column_chart(months, title=_("Chart: requests received per month")),
    }
    return render_template(
        "public/stats.html",
        figures=figures,
        scorecards=kept.scorecards,
        charts=charts,
        chart_categories=CHART_CATEGORIES,
        month_name=lambda day: format_skeleton("yMMM", day, locale=locale),
        number=format_number,
        percent=lambda part, whole: format_percent(part / whole if whole else 0, "#,##0.0%"),
    )
