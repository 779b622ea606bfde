from __future__ import annotations

from flask import render_template
from flask_login import current_user

from caseapp.i18n import current_language
from caseapp.services import queue as queue_service
from caseapp.web.staff import bp


@bp.route("/queue")
def queue() -> str:
    rows = queue_service.open_cases_for(current_user, limit=50)
    return render_template("staff/queue.html", rows=rows, lang=current_language())
