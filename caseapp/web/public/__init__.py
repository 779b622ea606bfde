"""The public face: home, the request form, tracking and the citizen's case page,
public statistics, and the health check."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from caseapp.web.public import citizen_case, requests, routes, stats, track  # noqa: E402,F401
