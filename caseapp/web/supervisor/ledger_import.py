"""Importing an existing ledger from XLSX (DESIGN §5), for supervisors: upload, a
preview with every row's errors, then a confirmation that imports all rows or none."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import DataRequired

from caseapp.i18n import current_language
from caseapp.models import Ledger
from caseapp.models.enums import Role
from caseapp.models.types import utcnow
from caseapp.services.errors import NotFound
from caseapp.services.ledgers import importing
from caseapp.services.ledgers import items as ledgers_service
from caseapp.web.forms import translated
from caseapp.web.supervisor import bp

# Rows shown on the preview; the count says how many more the file holds.
PREVIEW_ROWS = 50
# Errors shown at most: a file wrong throughout would otherwise make a page of megabytes.
ERRORS_SHOWN = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class LedgerUploadForm(FlaskForm):
    """The XLSX file to preview."""

    workbook = FileField(
        _l("Workbook (.xlsx)"),
        validators=[FileRequired(_l("Choose the .xlsx file to import."))],
        description=_l(
            "The first sheet is read: one item a row, under the headings of the template. "
            "Nothing is imported before you have seen the preview and confirmed it."
        ),
        render_kw={"accept": ".xlsx," + XLSX},
    )


class ConfirmImportForm(FlaskForm):
    """Confirms the preview of a kept upload."""

    token = HiddenField(validators=[DataRequired()])


def _supervisors_only() -> None:
    if not current_user.has_role(Role.SUPERVISOR):
        abort(403)


def _upload_page(ledger: Ledger, form: LedgerUploadForm, problem: str | None = None) -> str:
    return render_template(
        "supervisor/ledger_import.html",
        ledger=ledger,
        form=form,
        problem=problem,
        columns=importing.COLUMNS,
        category_names=[c.name(current_language()) for c in ledger.categories],
    )


def _preview_page(ledger: Ledger, preview: importing.ImportPreview, token: str | None) -> str:
    confirm = ConfirmImportForm(formdata=None, token=token) if token else None
    return render_template(
        "supervisor/ledger_import_preview.html",
        ledger=ledger,
        preview=preview,
        rows=preview.rows[:PREVIEW_ROWS],
        errors=preview.errors[:ERRORS_SHOWN],
        confirm=confirm,
        columns=importing.COLUMNS,
        translated=translated,
    )


@bp.route("/ledgers/<code>/import", methods=["GET", "POST"])
def ledger_import(code: str) -> Response | str | tuple[str, int]:
    """The upload form; on upload, the preview (with a confirm button when no row is
    wrong)."""
    _supervisors_only()
    ledger = ledgers_service.ledger_by_code(code)
    form = LedgerUploadForm()
    if not form.validate_on_submit():
        page = _upload_page(ledger, form)
        return (page, 400) if request.method == "POST" else page
    # One byte over the limit is enough for the service to refuse the file.
    data = form.workbook.data.read(importing.MAX_FILE_BYTES + 1)
    staged = importing.stage_import(ledger, data, current_user.id, utcnow())
    page = _preview_page(ledger, staged.preview, staged.token)
    return page if staged.token else (page, 400)


@bp.route("/ledgers/<code>/import/confirm", methods=["POST"])
def ledger_import_confirm(code: str) -> Response | tuple[str, int]:
    """Import the previewed file; back to the preview if a row has gone wrong since."""
    _supervisors_only()
    ledger = ledgers_service.ledger_by_code(code)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        # A token of the wrong shape is a ValidationFailed: the 400 page.
        items = importing.confirm_import(ledger, form.token.data, current_user.id, utcnow())
    except importing.ImportHasErrors as refused:
        return _preview_page(ledger, refused.preview, None), 409
    except NotFound:
        problem = _("This import has expired or was done already. Upload the file again.")
        return _upload_page(ledger, LedgerUploadForm(formdata=None), problem), 404
    name = ledger.name(current_language())
    flash(
        _("%(count)s items were imported into %(ledger)s.", count=len(items), ledger=name),
        "success",
    )
    return redirect(url_for("supervisor.ledger", code=ledger.code))


@bp.route("/ledgers/<code>/import/template.xlsx")
def ledger_import_template(code: str) -> Response:
    """A workbook to fill in: the headings, an example row and the values offered."""
    _supervisors_only()
    ledger = ledgers_service.ledger_by_code(code)
    return send_file(
        importing.template_workbook(ledger, current_language()),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"ledger-import-{ledger.code}.xlsx",
    )
