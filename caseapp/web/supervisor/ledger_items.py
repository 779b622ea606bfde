"""A ledger item's page for supervisors: its plan, cases and timeline, and the forms to
edit it, write it off (销号), reopen it and unlink a case; and the form that adds an item
without cases to a ledger.

Each form posts to its own route; the view parses it, calls one service and redirects,
or shows the page again with the service's reasons on the fields (400), or with the item
as it is now and the typed text kept when someone changed it meanwhile (409).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from caseapp.extensions import db
from caseapp.i18n import current_language
from caseapp.labels import item_event_label
from caseapp.models import Case, Ledger, LedgerItem
from caseapp.models.enums import LedgerItemStatus
from caseapp.services import directory
from caseapp.services.errors import NotFound, StaleVersion, ValidationFailed
from caseapp.services.ledgers import items as ledgers
from caseapp.services.pages import ledger_item as ledger_item_page
from caseapp.web.forms import apply_field_errors
from caseapp.web.public.forms import choice_list
from caseapp.web.supervisor import bp
from caseapp.web.supervisor.ledger_item_forms import (
    LedgerItemForm,
    NewLedgerItemForm,
    NoteForm,
    item_form_data,
)

WRITE_OFF = "write-off"
REOPEN = "reopen"
EDIT = "edit"


def ledger_path(code: str) -> str:
    """The ledger's report page (its endpoint lives in the ledgers module)."""
    return f"/supervisor/ledgers/{quote(code)}"


def unlink_slug(case_id: int) -> str:
    return f"unlink-{case_id}"


def _fill_choices(form: LedgerItemForm, ledger: Ledger) -> None:
    lang = current_language()
    form.category_id.choices = choice_list(
        [("", "—")] + [(str(c.id), c.name(lang)) for c in ledger_item_page.categories(ledger)]
    )
    form.owner_department_id.choices = choice_list(
        [("", "—")] + [(str(d.id), d.name(lang)) for d in directory.departments()]
    )
    form.responsible_leader_id.choices = choice_list(
        [("", "—")] + [(str(u.id), u.display_name) for u in ledger_item_page.leaders()]
    )


def _forms_for(item: LedgerItem, cases: list[Case]) -> dict[str, FlaskForm]:
    """A fresh form for everything that can be done to the item now."""
    edit = LedgerItemForm(formdata=None, **item_form_data(item))
    _fill_choices(edit, item.ledger)
    built: dict[str, FlaskForm] = {EDIT: edit}
    if item.status is LedgerItemStatus.WRITTEN_OFF:
        built[REOPEN] = NoteForm(formdata=None, prefix=REOPEN)
    else:
        built[WRITE_OFF] = NoteForm(formdata=None, prefix=WRITE_OFF)
    for case in cases:
        built[unlink_slug(case.id)] = NoteForm(formdata=None, prefix=unlink_slug(case.id))
    return built


def render_item(
    item: LedgerItem,
    *,
    open_slug: str | None = None,
    open_form: FlaskForm | None = None,
    conflict: bool = False,
) -> str:
    page = ledger_item_page.item_page(item)
    forms = _forms_for(item, list(page.cases))
    if open_slug and open_form is not None:
        if isinstance(open_form, LedgerItemForm):
            _fill_choices(open_form, item.ledger)
            if conflict:
                open_form.seen.data = item.updated_at.isoformat()
        forms[open_slug] = open_form
    return render_template(
        "supervisor/ledger_item.html",
        page=page,
        item=item,
        forms=forms,
        open_slug=open_slug,
        conflict=conflict,
        ledger_url=ledger_path(item.ledger.code),
        unlink_slug=unlink_slug,
        item_event_label=item_event_label,
    )


def _item(item_id: int) -> LedgerItem:
    return ledger_item_page.item_for(current_user, item_id)


def _act(
    item_id: int,
    slug: str,
    form: FlaskForm,
    run: Callable[[LedgerItem], Any],
    done: str,
) -> Response | tuple[str, int]:
    """Validate ``form``, run the one service call, and redirect back to the item; or
    show the item again with the reasons (400) or as it is now (409)."""
    item = _item(item_id)
    if isinstance(form, LedgerItemForm):
        _fill_choices(form, item.ledger)
    if not form.validate_on_submit():
        return render_item(item, open_slug=slug, open_form=form), 400
    try:
        run(item)
    except StaleVersion:
        return render_item(_item(item_id), open_slug=slug, open_form=form, conflict=True), 409
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return render_item(_item(item_id), open_slug=slug, open_form=form), 400
    flash(done, "success")
    return redirect(url_for("supervisor.ledger_item", item_id=item_id))


def _seen(value: str | None) -> datetime | None:
    """When the item last changed as the form showed it (None if the form has no time)."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/ledger-items/<int:item_id>")
def ledger_item(item_id: int) -> str:
    return render_item(_item(item_id))


@bp.route("/ledger-items/<int:item_id>/edit", methods=["POST"])
def edit_ledger_item(item_id: int) -> Response | tuple[str, int]:
    form = LedgerItemForm()

    def run(item: LedgerItem) -> Any:
        fields = form.fields()
        return ledgers.update_item(
            item,
            current_user,
            fields.title,
            fields.category_id,
            fields.owner_department_id,
            fields.responsible_leader_id,
            fields.target_date,
            fields.plan_text,
            fields.milestones,
            seen=_seen(form.seen.data),
        )

    return _act(item_id, EDIT, form, run, _("The ledger item was saved."))


@bp.route("/ledger-items/<int:item_id>/write-off", methods=["POST"])
def write_off_ledger_item(item_id: int) -> Response | tuple[str, int]:
    form = NoteForm(prefix=WRITE_OFF)
    return _act(
        item_id,
        WRITE_OFF,
        form,
        lambda item: ledgers.write_off_item(item, current_user, form.note.data or ""),
        _("The ledger item was written off."),
    )


@bp.route("/ledger-items/<int:item_id>/reopen", methods=["POST"])
def reopen_ledger_item(item_id: int) -> Response | tuple[str, int]:
    form = NoteForm(prefix=REOPEN)
    return _act(
        item_id,
        REOPEN,
        form,
        lambda item: ledgers.reopen_item(item, current_user, form.note.data or ""),
        _("The ledger item is in progress again."),
    )


@bp.route("/ledger-items/<int:item_id>/cases/<int:case_id>/unlink", methods=["POST"])
def unlink_ledger_item_case(item_id: int, case_id: int) -> Response | tuple[str, int]:
    form = NoteForm(prefix=unlink_slug(case_id))

    def run(item: LedgerItem) -> Any:
        case = db.session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return ledgers.unlink_case(item, case, current_user, form.note.data or "")

    return _act(
        item_id, unlink_slug(case_id), form, run, _("The case was unlinked from the ledger item.")
    )


@bp.route("/ledgers/<code>/items/new", methods=["GET", "POST"])
def new_ledger_item(code: str) -> Response | str | tuple[str, int]:
    """Add an item without cases to a ledger (a campaign commitment)."""
    ledger = ledger_item_page.ledger_for(current_user, code)
    form = NewLedgerItemForm()
    _fill_choices(form, ledger)
    if request.method == "POST" and form.validate_on_submit():
        try:
            item = ledgers.create_item(
                ledger, current_user, form.fields(), code=form.code.data or ""
            )
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("The ledger item was added."), "success")
            return redirect(url_for("supervisor.ledger_item", item_id=item.id))
    page = render_template(
        "supervisor/new_ledger_item.html", ledger=ledger, form=form, ledger_url=ledger_path(code)
    )
    return (page, 400) if request.method == "POST" else page
