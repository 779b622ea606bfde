from __future__ import annotations

from flask import render_template
from flask_login import current_user

from caseapp.i18n import current_language
from caseapp.services import queue
from caseapp.web.staff import bp


@bp.route("/queue")
def queue_page() -> str:
    rows = queue.open_cases_for(current_user, limit=50)
    return render_template("staff/queue.html", rows=rows, lang=current_language())
