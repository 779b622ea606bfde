"""The staff queues, their exports, and the counts in the navigation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from caseapp.i18n import current_language
from caseapp.models.types import utcnow
from caseapp.reports import case_list
from caseapp.services.errors import ValidationFailed
from caseapp.services.pages import queue as queue_service
from caseapp.services.pages.queue import NavigationCounts, QueueFilters, QueueView
from caseapp.web.staff import bp
from caseapp.web.staff.queue_form import QueueFilterForm

VIEW_LABELS = {
    QueueView.INTAKE: _l("Intake"),
    QueueView.MINE: _l("My cases"),
    QueueView.DEPARTMENT: _l("My department"),
    QueueView.ALL: _l("All open"),
    QueueView.FINISHED: _l("Closed and withdrawn"),
    QueueView.APPROVALS: _l("Waiting for your decision"),
}


def _filter_form() -> QueueFilterForm:
    return QueueFilterForm(
        request.args, queue_service.filter_options(current_user), current_language()
    )


def _queue_args(view: QueueView) -> dict[str, str]:
    """The queue's address parameters as given: its view and the filters that are set."""
    args = {"view": view.value}
    for name in QueueFilterForm.PARAMETERS:
        value = request.args.get(name, "")
        if value:
            args[name] = value
    return args


def _view_and_filters() -> tuple[QueueView, QueueFilters, QueueFilterForm]:
    view = queue_service.choose_view(current_user, request.args.get("view"))
    form = _filter_form()
    if not form.validate():
        raise ValidationFailed("invalid queue filters", dict(form.errors))
    return view, form.to_filters(), form


@bp.route("/queue")
def queue() -> str | Response:
    query = request.args.get("q", "")
    # A case number in the search opens that case, whatever its status and queue.
    named = queue_service.case_named(current_user, query)
    if named is not None:
        return redirect(url_for("staff.case_page", number=named))
    view = queue_service.choose_view(current_user, request.args.get("view"))
    after = request.args.get("after")
    cursor = queue_service.Cursor.decode(after) if after else None
    form = _filter_form()
    now = utcnow()
    page = None
    masked_phone = None
    phone = queue_service.phone_named(query)
    if phone is not None:
        # A mobile number lists that citizen's cases in every status (one opens):
        # neither the tab nor the filters apply.
        found = queue_service.cases_of_phone(current_user, phone, cursor, now=now)
        only = found.only_case(first_page=cursor is None)
        if only is not None:
            return redirect(url_for("staff.case_page", number=only))
        page, masked_phone = found.page, found.masked_phone
    elif form.validate():
        page = queue_service.queue_page(current_user, view, form.to_filters(), cursor, now=now)
    args = _queue_args(view)
    return render_template(
        "staff/queue.html",
        view=view,
        views=[(v, VIEW_LABELS[v]) for v in queue_service.offered_views(current_user)],
        form=form,
        page=page,
        masked_phone=masked_phone,
        first_page=cursor is None,
        args=args,
        now=now,
        deadline_state=queue_service.deadline_state,
    )


@dataclass(frozen=True)
class _Export:
    rows: Iterator[list[str | int]]
    sheet_title: str
    name: str  # what the file is called before its time and extension


def _export(now: datetime) -> _Export:
    """The rows the queue page lists for the same address: a phone number's cases
    when the search is one, else the filtered queue."""
    view, filters, _form = _view_and_filters()
    user = current_user._get_current_object()
    lang = current_language()
    phone = queue_service.phone_named(filters.q)
    if phone is not None:
        queue_service.record_phone_export(user, phone, now)
        cases = queue_service.iter_phone_cases(user, phone)
        # Not the masked number: a sheet's name may not hold "*".
        title, name = _("Cases of a phone number"), "cases-phone"
    else:
        cases = queue_service.iter_queue(user, view, filters, now=now)
        title, name = str(VIEW_LABELS[view]), f"cases-{view.value}"
    return _Export((case_list.case_cells(case, lang) for case in cases), title, name)


def _download_name(export: _Export, now: datetime, extension: str) -> str:
    return f"{export.name}-{now:%Y%m%d-%H%M%S}.{extension}"


@bp.route("/queue.csv")
def queue_csv() -> Response:
    """Every row of the filtered queue as CSV, streamed in keyset batches."""
    now = utcnow()
    export = _export(now)
    response = Response(
        stream_with_context(case_list.csv_chunks(export.rows)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(export, now, "csv")}"'
    )
    return response


@bp.route("/queue.xlsx")
def queue_xlsx() -> Response:
    """Every row of the filtered queue as an XLSX workbook (one sheet)."""
    now = utcnow()
    export = _export(now)
    workbook = case_list.write_xlsx(export.rows, export.sheet_title)
    return send_file(
        workbook,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_download_name(export, now, "xlsx"),
    )


def _navigation_counts() -> NavigationCounts | None:
    if not current_user.is_authenticated:
        return None
    try:
        return queue_service.navigation_counts(
            current_user, max_age_seconds=current_app.config["NAVIGATION_COUNTS_MAX_AGE_SECONDS"]
        )
    except SQLAlchemyError:
        # The navigation must not break the page around it (the error pages included).
        current_app.logger.warning("navigation counts unavailable", exc_info=True)
        return None


@bp.app_context_processor
def navigation_context() -> dict[str, object]:
    """``navigation_counts()`` for base.html: computed only where a page asks for it."""
    return {"navigation_counts": _navigation_counts}
