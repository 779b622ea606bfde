"""Ledger reports (DESIGN §5) for supervisors: every ledger by category and department,
the items behind each figure, and the same numbers as XLSX and CSV."""

from __future__ import annotations

from datetime import date, datetime

from flask import Response, abort, render_template, request, send_file, stream_with_context
from flask_login import current_user

from caseapp.extensions import db
from caseapp.i18n import current_language
from caseapp.models.enums import Role
from caseapp.models.types import utcnow
from caseapp.reports import ledger_report, ledger_sheet
from caseapp.services.casework import clocks as deadlines
from caseapp.services.filing.validation import parse_id
from caseapp.services.ledgers import items as ledgers_service
from caseapp.web.parsing import MAX_PAGE, int_arg
from caseapp.web.supervisor import bp

ITEMS_PER_PAGE = 100


def _supervisors_only() -> None:
    if not current_user.has_role(Role.SUPERVISOR):
        abort(403)


def _today(now: datetime) -> date:
    return deadlines.deadline_math().local_date(now)


@bp.route("/ledgers")
def ledgers() -> str:
    _supervisors_only()
    now = utcnow()
    reports = ledger_report.ledger_reports(_today(now), current_language())
    return render_template("supervisor/ledgers.html", reports=reports, now=now)


@bp.route("/ledgers/<code>")
def ledger(code: str) -> str:
    _supervisors_only()
    found = ledgers_service.ledger_by_code(code)
    now = utcnow()
    reports = ledger_report.ledger_reports(_today(now), current_language(), [found])
    return render_template("supervisor/ledger.html", report=reports[0], now=now)


def _filter() -> ledger_report.ItemFilter:
    """The figure asked for: ``category``/``department`` an id or "none", ``state``."""
    category = request.args.get("category", "")
    department = request.args.get("department", "")
    state = request.args.get("state") or None
    if state is not None and state not in ledger_report.ITEM_STATES:
        abort(400)
    category_id, department_id = parse_id(category), parse_id(department)
    for value, parsed in ((category, category_id), (department, department_id)):
        if value not in ("", "none") and parsed is None:
            abort(400)
    return ledger_report.ItemFilter(
        category_id=category_id,
        department_id=department_id,
        state=state,
        no_category=category == "none",
        no_department=department == "none",
    )


@bp.route("/ledgers/<code>/items")
def ledger_items_list(code: str) -> str:
    """The items behind one figure of the report, a page at a time."""
    _supervisors_only()
    found = ledgers_service.ledger_by_code(code)
    chosen = _filter()
    page = int_arg("page", 1, minimum=1, maximum=MAX_PAGE)
    now = utcnow()
    pagination = db.paginate(
        ledger_report.items_query(found, chosen, _today(now)),
        page=page,
        per_page=ITEMS_PER_PAGE,
        error_out=False,
    )
    lang = current_language()
    return render_template(
        "supervisor/ledger_items.html",
        ledger=found,
        chosen=chosen,
        pagination=pagination,
        categories=ledger_report.category_names(found, lang),
        today=_today(now),
        args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.route("/ledgers.xlsx")
def ledgers_xlsx() -> Response:
    _supervisors_only()
    now = utcnow()
    lang = current_language()
    reports = ledger_report.ledger_reports(_today(now), lang)
    return send_file(
        ledger_sheet.write_workbook(reports, lang),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"ledgers-{now:%Y%m%d}.xlsx",
    )


@bp.route("/ledgers.csv")
def ledgers_csv() -> Response:
    _supervisors_only()
    now = utcnow()
    lang = current_language()
    reports = ledger_report.ledger_reports(_today(now), lang)
    response = Response(
        stream_with_context(ledger_sheet.csv_text(reports, lang)),
        mimetype="text/csv; charset=utf-8",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="ledgers-{now:%Y%m%d}.csv"'
    return response
