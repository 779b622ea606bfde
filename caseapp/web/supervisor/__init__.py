"""The supervisor's view: escalations, scorecards and ledgers."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from caseapp.models.enums import Role

bp = Blueprint("supervisor", __name__)


@bp.before_request
@login_required
def require_supervisor() -> None:
    """Supervisors and responsible leaders only."""
    if not current_user.has_role(Role.SUPERVISOR, Role.LEADER):
        abort(403)


from caseapp.web.supervisor import (  # noqa: E402,F401
    ledger_import,
    ledger_items,
    ledgers,
    routes,
    scorecards,
)
