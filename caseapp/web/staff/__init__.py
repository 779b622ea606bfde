"""The staff case queue and case pages."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("staff", __name__)


@bp.before_request
@login_required
def require_sign_in() -> None:
    """Every staff page needs a signed-in user."""


from caseapp.web.staff import case, inbox, intake, ledger_items, notices, routes  # noqa: E402,F401
