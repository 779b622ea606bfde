"""The staff inbox page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.services.pages import inbox
from caseapp.web.staff import bp
from caseapp.web.staff.case_forms import EmptyForm


@bp.route("/inbox")
def inbox_page() -> str:
    messages = inbox.messages_for(current_user)
    numbers = _numbers([m.case_id for m in messages if m.case_id])
    return render_template("staff/inbox.html", messages=messages, numbers=numbers)


def _numbers(case_ids: list[int]) -> dict[int, str]:
    """Case numbers for the notices' links (numbers only: no visibility needed to show a
    number the user was told of; the case page checks visibility again)."""
    if not case_ids:
        return {}
    rows = db.session.execute(sa.select(Case.id, Case.number).where(Case.id.in_(case_ids))).all()
    return dict(rows)


@bp.route("/inbox/<int:message_id>/read", methods=["POST"])
def mark_read(message_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    inbox.mark_read(current_user, message_id)
    return redirect(url_for("staff.inbox_page"))
