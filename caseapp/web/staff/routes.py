"""The staff queues, their exports, and the counts in the navigation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    # A case number in the search opens that case, whatever its status and queue.
    named = queue_service.case_named(current_user, request.args.get("q", ""))
    if named is not None:
        return redirect(url_for("staff.case_page", number=named))
    view = queue_service.choose_view(current_user, request.args.get("view"))
    after = request.args.get("after")
    cursor = queue_service.Cursor.decode(after) if after else None
    form = _filter_form()
    now = utcnow()
    page = None
    if form.validate():
        page = queue_service.queue_page(current_user, view, form.to_filters(), cursor, now=now)
    args = _queue_args(view)
    return render_template(
        "staff/queue.html",
        view=view,
        views=[(v, VIEW_LABELS[v]) for v in queue_service.offered_views(current_user)],
        form=form,
        page=page,
        first_page=cursor is None,
        args=args,
        now=now,
        deadline_state=queue_service.deadline_state,
    )


def _export_rows(now: datetime) -> tuple[QueueView, Any]:
    view, filters, _form = _view_and_filters()
    user = current_user._get_current_object()
    lang = current_language()
    cases = queue_service.iter_queue(user, view, filters, now=now)
    return view, (case_list.case_cells(case, lang) for case in cases)


def _download_name(view: QueueView, now: datetime, extension: str) -> str:
    return f"cases-{view.value}-{now:%Y%m%d-%H%M%S}.{extension}"


@bp.route("/queue.csv")
def queue_csv() -> Response:
    """Every row of the filtered queue as CSV, streamed in keyset batches."""
    now = utcnow()
    view, rows = _export_rows(now)
    response = Response(
        stream_with_context(case_list.csv_chunks(rows)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(view, now, "csv")}"'
    )
    return response


@bp.route("/queue.xlsx")
def queue_xlsx() -> Response:
    """Every row of the filtered queue as an XLSX workbook (one sheet)."""
    now = utcnow()
    view, rows = _export_rows(now)
    workbook = case_list.write_xlsx(rows, str(VIEW_LABELS[view]))
    return send_file(
        workbook,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_download_name(view, now, "xlsx"),
    )


def _navigation_counts() -> NavigationCounts | None:
    if not current_user.is_authenticated:
        return None
    try:
        return queue_service.navigation_counts(current_user)
    except SQLAlchemyError:
        # The navigation must not break the page around it (the error pages included).
        current_app.logger.warning("navigation counts unavailable", exc_info=True)
        return None


@bp.app_context_processor
def navigation_context() -> dict[str, object]:
    """``navigation_counts()`` for base.html: computed only where a page asks for it."""
    return {"navigation_counts": _navigation_counts}
