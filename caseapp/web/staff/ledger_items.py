"""Department view of ledger items: a lead sees the items their department (and the
departments below it) owns, by ledger, the late ones first."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from caseapp.services.pages import ledger_item as ledger_item_page
from caseapp.web.staff import bp
from caseapp.workflow.ledger_items import may_manage_items


@bp.route("/ledger-items")
def department_ledger_items() -> str:
    """The lead's department's items (403 for anyone who is not a lead)."""
    groups = ledger_item_page.department_items(current_user)
    return render_template(
        "staff/ledger_items.html",
        groups=groups,
        department=current_user.department,
        item_pages=may_manage_items(current_user.roles),
    )
