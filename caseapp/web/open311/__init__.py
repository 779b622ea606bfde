"""The Open311 GeoReport v2 API (DESIGN §9) under ``/open311/v2/``: JSON and XML in the
specification's shapes, errors as its error list, an OpenAPI document beside it."""

from __future__ import annotations

from flask import Blueprint

PREFIX = "/open311/v2"

bp = Blueprint("open311", __name__)


def is_api_path(path: str) -> bool:
    """Whether a request's path is the API's, so its errors answer in the API's formats."""
    return path == PREFIX or path.startswith(PREFIX + "/")


from caseapp.web.open311 import routes  # noqa: E402,F401
