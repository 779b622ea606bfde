"""The public face: home page, health check (the form and tracking come next)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from caseapp.web.public import routes  # noqa: E402,F401
