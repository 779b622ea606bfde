"""Admin: the working-day calendar (DESIGN §4): each year's coverage, importing a year's
official holiday schedule (upload, preview, confirm), the overrides (holidays and
make-up workdays by date), the deadlines counted on the Monday–Friday fallback, and
recomputing every running clock with the calendar as it is now."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import DateField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from caseapp.models.enums import CalendarDayKind
from caseapp.models.types import utcnow
from caseapp.services.admin import policies as admin_policies
from caseapp.services.casework import calendar_years
from caseapp.services.casework import clocks as deadlines
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors, translated
from caseapp.web.parsing import date_range, parse_int
from caseapp.web.public.forms import choice_list

DAY_KIND_LABELS = {
    CalendarDayKind.HOLIDAY: _l("Holiday (a day off)"),
    CalendarDayKind.WORKDAY: _l("Make-up workday"),
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


class ScheduleUploadForm(FlaskForm):
    """A year's official holiday schedule, to preview."""

    schedule = FileField(
        _l("Schedule file (.txt)"),
        validators=[FileRequired(_l("Choose the schedule file to import."))],
        description=_l(
            "One year's official holiday schedule (the State Council General Office's notice on "
            "public holidays), written in the format of the examples. Nothing is imported "
            "before you have seen the preview and confirmed it."
        ),
        render_kw={"accept": ".txt,text/plain"},
    )


class ScheduleConfirmForm(FlaskForm):
    """Confirms the previewed file: its bytes travel back with the form."""

    content = HiddenField(validators=[DataRequired()])
    filename = HiddenField()


def _render(form: OverrideForm, year: int, status: int = 200) -> tuple[str, int]:
    imported = deadlines.imported_years()
    years = sorted({*admin_policies.override_years(), *imported, year, year + 1})
    fallback, fallback_total = calendar_years.fallback_clocks()
    return (
        render_template(
            "admin/calendar.html",
            form=form,
            upload=ScheduleUploadForm(formdata=None),
            year=year,
            years=years,
            coverage=calendar_years.coverage([year])[0],
            overrides=admin_policies.overrides_for_year(year),
            day_kind_labels=DAY_KIND_LABELS,
            fallback=fallback,
            fallback_total=fallback_total,
            schedule_examples=calendar_years.example_names(),
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
def remove_calendar_override(override_id: int) -> Response | tuple[str, int]:
    try:
        day = admin_policies.remove_override(current_user, override_id)
    except ValidationFailed as error:
        flash(translated(error.message), "error")
        return _render(OverrideForm(formdata=None), _year(), status=400)
    flash(_("%(day)s was removed.", day=day.isoformat()), "success")
    return redirect(url_for("admin.calendar", year=day.year))


@bp.route("/calendar/examples/<name>")
def calendar_schedule_example(name: str) -> Response:
    """One of the shipped schedule files, to copy the format from."""
    return send_file(
        calendar_years.example_path(name),
        mimetype="text/plain; charset=utf-8",
        as_attachment=True,
        download_name=name,
    )


def _preview_page(
    preview: calendar_years.SchedulePreview, data: bytes, filename: str, status: int = 200
) -> tuple[str, int]:
    confirm = None
    if preview.ready:
        confirm = ScheduleConfirmForm(
            formdata=None, content=base64.b64encode(data).decode("ascii"), filename=filename
        )
    return (
        render_template(
            "admin/calendar_import.html",
            preview=preview,
            schedule=preview.schedule,
            confirm=confirm,
            day_kind_labels=DAY_KIND_LABELS,
            translated=translated,
        ),
        status,
    )


@bp.route("/calendar/import", methods=["POST"])
def preview_calendar_schedule() -> tuple[str, int]:
    """The preview of an uploaded schedule, with a confirm button when it is complete."""
    form = ScheduleUploadForm()
    if not form.validate():
        flash(_("Choose the schedule file to import."), "error")
        return _render(OverrideForm(formdata=None), _year(), status=400)
    # One byte over the limit is enough for the service to refuse the file.
    data = form.schedule.data.read(calendar_years.MAX_SCHEDULE_BYTES + 1)
    filename = form.schedule.data.filename or ""
    preview = calendar_years.preview_schedule(data, filename)
    return _preview_page(preview, data, filename, 200 if preview.ready else 400)


@bp.route("/calendar/import/confirm", methods=["POST"])
def import_calendar_schedule() -> Response | tuple[str, int]:
    """Import the previewed schedule and recompute every running clock."""
    form = ScheduleConfirmForm()
    if not form.validate():
        abort(400)
    try:
        data = base64.b64decode(form.content.data, validate=True)
    except (binascii.Error, ValueError):
        abort(400)
    filename = form.filename.data or ""
    try:
        result = calendar_years.import_schedule(current_user, data, filename)
    except calendar_years.ScheduleRefused as refused:
        return _preview_page(refused.preview, data, filename, status=400)
    flash(
        _(
            "The holiday schedule of %(year)s was imported: %(holidays)s days off and "
            "%(workdays)s make-up working days.",
            year=result.year.year,
            holidays=result.year.holidays,
            workdays=result.year.workdays,
        ),
        "success",
    )
    _flash_recompute(result.recomputed)
    return redirect(url_for("admin.calendar", year=result.year.year))


def _flash_recompute(result: calendar_years.RecomputeResult) -> None:
    flash(
        _(
            "Deadlines recomputed: %(changed)s moved, %(unchanged)s unchanged; "
            "%(notices)s citizen notices queued.",
            changed=result.changed,
            unchanged=result.unchanged,
            notices=result.notices,
        ),
        "success",
    )
    if result.left:
        flash(
            _(
                "Left as they were, to check by hand (their record of pauses and "
                "extensions does not add up, or they kept changing): %(cases)s.",
                cases=", ".join(result.left[:50]),
            ),
            "error",
        )


@bp.route("/calendar/recompute", methods=["POST"])
def recompute_deadlines() -> Response:
    _flash_recompute(calendar_years.recompute_deadlines(current_user))
    return redirect(url_for("admin.calendar"))
