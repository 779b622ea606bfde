"""Scorecards (DESIGN §6): per department and period, a weekly trend, the cases behind
each figure, and the same figures as XLSX. Supervisors only."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_skeleton
from flask import abort, current_app, render_template, request, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from caseapp.extensions import db
from caseapp.i18n import current_language
from caseapp.kept import Keeper
from caseapp.models import Department
from caseapp.models.enums import Role
from caseapp.models.types import utcnow
from caseapp.reports import scorecard_sheet
from caseapp.reports import scorecards as cards
from caseapp.reports.svg import Bar, column_chart
from caseapp.services import directory
from caseapp.services.casework import clocks as deadlines
from caseapp.web.parsing import id_arg
from caseapp.web.supervisor import bp
from caseapp.web.supervisor.forms import ScorecardPeriodForm
from caseapp.workflow.deadlines import DeadlineMath
from caseapp.workflow.visibility import staff_can_see


def _supervisors_only() -> None:
    if not current_user.has_role(Role.SUPERVISOR):
        abort(403)


def _form() -> ScorecardPeriodForm:
    return ScorecardPeriodForm(request.args, list(directory.departments()), current_language())


def _trend_chart(trend: list[cards.TrendPoint]) -> object:
    locale = get_locale()
    bars = [
        Bar(
            format_skeleton("Md", point.week.first, locale=locale),
            point.card.composite or 0,
            shown="—" if point.card.composite is None else None,
        )
        for point in trend
    ]
    return column_chart(bars, title=_("Chart: composite score per week"), width=480)


# The month's cards and the 12-week trend take a second or more on a large city: each
# process keeps them SCORECARDS_MAX_AGE_SECONDS for the page, its sheet and a reload.
_KEPT: Keeper[tuple[cards.ScorecardReport, list[cards.TrendPoint], datetime]] = Keeper()


def _computed(
    form: ScorecardPeriodForm, now: datetime, math: DeadlineMath
) -> tuple[cards.ScorecardReport, list[cards.TrendPoint], datetime]:
    """The report and trend of the form's period, and the moment they were computed."""
    period = form.to_period(math.local_date(now))
    department = form.department_id()

    def compute() -> tuple[cards.ScorecardReport, list[cards.TrendPoint], datetime]:
        return (
            cards.report(period, now, math),
            cards.weekly_trend(period, now, math, department),
            now,
        )

    key = (db.engine.url.render_as_string(hide_password=True), period, department)
    return _KEPT.get(key, current_app.config["SCORECARDS_MAX_AGE_SECONDS"], compute)


@bp.route("/scorecards")
def scorecards() -> tuple[str, int] | str:
    _supervisors_only()
    form = _form()
    if not form.validate():
        return render_template("supervisor/scorecards.html", form=form, result=None), 400
    result, trend, now = _computed(form, utcnow(), deadlines.deadline_math())
    return render_template(
        "supervisor/scorecards.html",
        form=form,
        result=result,
        trend=trend,
        chart=_trend_chart(trend),
        args=form.args(),
        now=now,
    )


@bp.route("/scorecards.xlsx")
def scorecards_xlsx() -> Response:
    _supervisors_only()
    form = _form()
    if not form.validate():
        abort(400)
    result, trend, _now = _computed(form, utcnow(), deadlines.deadline_math())
    lang = current_language()
    trend_of = next(
        (str(c.label) for c in form.department.choices if c.value == (form.department.data or "")),  # type: ignore[union-attr]
        "",
    )
    workbook = scorecard_sheet.write_workbook(result, trend, lang, str(trend_of))
    return send_file(
        workbook,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"scorecards-{result.period.first:%Y%m%d}-{result.period.last:%Y%m%d}.xlsx",
    )


@bp.route("/scorecards/cases")
def scorecard_cases() -> tuple[str, int] | str:
    """The cases one figure of one department (or of all) was counted from."""
    _supervisors_only()
    form = _form()
    try:
        figure = cards.Figure(request.args.get("figure", ""))
    except ValueError:
        abort(404)
    if not form.validate():
        return render_template("supervisor/scorecards.html", form=form, result=None), 400
    of = id_arg("of")
    now = utcnow()
    math = deadlines.deadline_math()
    period = form.to_period(math.local_date(now))
    start, end = period.bounds(math)
    outcomes = cards.collect(start, end, now, math).of_department(of)
    rows = cards.cases_behind(
        cards.rows_behind(outcomes, figure),
        staff_can_see(current_user),
        cards.figure_cases(figure, start, end, of),
    )
    department = db.session.get(Department, of) if of else None
    return render_template(
        "supervisor/scorecard_cases.html",
        figure=figure,
        rows=rows,
        period=period,
        department=department,
        args=form.args(),
    )
