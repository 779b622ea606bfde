"""Admin: the working-day calendar's overrides (holidays and make-up workdays by date),
and recomputing the open cases' deadlines with the calendar as it is now."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import DateField, RadioField, StringField
from wtforms.validators import Length, Optional

from caseapp.models.enums import CalendarDayKind
from caseapp.models.types import utcnow
from caseapp.services import admin_policies, deadlines
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import date_range, parse_int
from caseapp.web.public.forms import choice_list

DAY_KIND_LABELS = {
    CalendarDayKind.HOLIDAY: _l("Holiday (a day off)"),
    CalendarDayKind.WORKDAY: _l("Make-up workday (调休)"),
}


class OverrideForm(FlaskForm):
    day = DateField(
        _l("Date"),
        validators=[Optional(), date_range()],
        description=_l("YYYY-MM-DD, e.g. 2026-12-01."),
    )
    kind = RadioField(
        _l("The day is"),
        choices=choice_list((k.value, label) for k, label in DAY_KIND_LABELS.items()),
        validate_choice=False,
        validators=[Optional()],
    )
    note = StringField(_l("Note (optional)"), validators=[Length(max=200)])


def _year() -> int:
    year = parse_int(request.args.get("year", ""), minimum=1990, maximum=2199)
    if year is not None:
        return year
    zone = ZoneInfo(current_app.config["CITY_TIMEZONE"])
    return utcnow().astimezone(zone).year


def _render(form: OverrideForm, year: int, status: int = 200) -> tuple[str, int]:
    years = sorted({*admin_policies.override_years(), year, year + 1})
    return (
        render_template(
            "admin/calendar.html",
            form=form,
            year=year,
            years=years,
            overrides=admin_policies.overrides_for_year(year),
            day_kind_labels=DAY_KIND_LABELS,
            package_knows=deadlines.load_calendar().has_data_for(year),
        ),
        status,
    )


def _calendar_warning_years() -> list[int]:
    """The uncovered years to warn about, once per request; none if it cannot be told
    (the warning must not break the page around it, the error pages included)."""
    if "calendar_warning_years" not in g:
        try:
            g.calendar_warning_years = deadlines.calendar_warning()
        except SQLAlchemyError:
            current_app.logger.warning("calendar warning unavailable", exc_info=True)
            g.calendar_warning_years = []
    return list(g.calendar_warning_years)


@bp.app_context_processor
def calendar_warning_context() -> dict[str, object]:
    """``calendar_warning_years()`` for base.html, shown on every staff page (DESIGN §4)."""
    return {"calendar_warning_years": _calendar_warning_years}


@bp.route("/calendar")
def calendar() -> tuple[str, int]:
    return _render(OverrideForm(formdata=None), _year())


@bp.route("/calendar", methods=["POST"])
def add_calendar_override() -> Response | tuple[str, int]:
    form = OverrideForm()
    if form.validate():
        try:
            row = admin_policies.add_override(
                current_user, form.day.data, form.kind.data or "", form.note.data or ""
            )
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("%(day)s was saved.", day=row.day.isoformat()), "success")
            return redirect(url_for("admin.calendar", year=row.day.year))
    elif form.day.errors and form.day.raw_data and form.day.raw_data[0]:
        form.day.errors = [_("Enter a date as YYYY-MM-DD.")]
    day = form.day.data
    return _render(form, day.year if isinstance(day, date) else _year(), status=400)


@bp.route("/calendar/<int:override_id>/remove", methods=["POST"])
def remove_calendar_override(override_id: int) -> Response:
    day = admin_policies.remove_override(current_user, override_id)
    flash(_("%(day)s was removed.", day=day.isoformat()), "success")
    return redirect(url_for("admin.calendar", year=day.year))


@bp.route("/calendar/recompute", methods=["POST"])
def recompute_deadlines() -> Response:
    result = admin_policies.recompute_open_deadlines(current_user)
    flash(
        _(
            "Deadlines recomputed: %(changed)s changed, %(unchanged)s unchanged, "
            "%(skipped)s left as they were (paused or extended).",
            changed=result.changed,
            unchanged=result.unchanged,
            skipped=result.skipped,
        ),
        "success",
    )
    return redirect(url_for("admin.calendar"))
