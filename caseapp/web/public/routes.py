from __future__ import annotations

from flask import jsonify, render_template
from werkzeug.wrappers import Response

from caseapp.extensions import limiter
from caseapp.i18n import current_language
from caseapp.services import health
from caseapp.services.filing import catalog
from caseapp.web.public import bp


@bp.route("/")
def home() -> str:
    groups = catalog.public_category_groups(current_language())
    return render_template("public/home.html", groups=groups)


@bp.route("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int]:
    ok, detail = health.database_reachable()
    body = {"status": "ok" if ok else "error", "database": "ok" if ok else detail}
    return jsonify(body), (200 if ok else 503)
