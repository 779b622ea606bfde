"""The admin console (administrators only)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from caseapp.models.enums import Role

bp = Blueprint("admin", __name__)


@bp.before_request
@login_required
def require_admin() -> None:
    """Every admin page and action is for administrators only."""
    if not current_user.has_role(Role.ADMIN):
        abort(403)


from caseapp.web.admin import (  # noqa: E402,F401
    api_keys,
    audit_log,
    calendar,
    categories,
    departments,
    policies,
    reply_templates,
    routes,
    settings,
    users,
)
