"""Filing a request for a citizen (帮办代办): received at the window, by phone, by letter
or on a visit, and filed by an intake clerk or a supervisor."""

from __future__ import annotations

from urllib.parse import quote

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from caseapp.i18n import current_language
from caseapp.models import Case
from caseapp.models.enums import Role
from caseapp.services.casework import supervision
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError, ValidationFailed
from caseapp.services.filing.cases import submit_case
from caseapp.services.ledgers import items as ledgers
from caseapp.web.forms import apply_field_errors
from caseapp.web.staff import bp
from caseapp.web.staff.forms import IntakeOnBehalfForm, category_choices, local_today


def case_path(number: str) -> str:
    """The staff case page of ``number`` (its endpoint lives in the case-page module)."""
    return f"/staff/cases/{quote(number)}"


@bp.route("/cases/new", methods=["GET", "POST"])
def new_case() -> Response | str | tuple[str, int]:
    """The intake form; on success the new case's page, else the form with its errors."""
    if not current_user.has_role(Role.INTAKE, Role.SUPERVISOR):
        abort(403)
    form = IntakeOnBehalfForm()
    form.category.choices = category_choices(current_language())
    today = local_today()
    # The date picker offers no future day; the service refuses one all the same.
    form.received_at.render_kw = {"max": today.isoformat()}
    if request.method == "GET":
        form.received_at.data = today
    elif form.validate_on_submit():
        actor = Actor.staff(current_user)
        try:
            if form.legacy.data:
                ledgers.check_legacy_ledger()
            # The service records the clerk as the first-responsible person (首问责任人).
            case, _key = submit_case(form.new_case(), actor)
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("The request was filed as %(number)s.", number=case.number), "success")
            if form.legacy.data:
                _mark_legacy(case, actor)
            return redirect(case_path(case.number))
    page = render_template("staff/new_case.html", form=form)
    return (page, 400) if request.method == "POST" else page


def _mark_legacy(case: Case, actor: Actor) -> None:
    """Mark the case just filed legacy (历史遗留). The filing stands if this fails; the
    clerk is told to mark it on the case page."""
    try:
        supervision.mark_legacy(case, actor, version=case.version)
    except DomainError:
        flash(
            _("The request was filed but not marked as a legacy issue: mark it on its page."),
            "error",
        )
    else:
        flash(_("The case was marked as a legacy issue."), "success")
