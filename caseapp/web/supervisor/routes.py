from __future__ import annotations

from flask import render_template
from flask_login import current_user

from caseapp.services.pages import escalation_board
from caseapp.web.parsing import id_arg
from caseapp.web.supervisor import bp


@bp.route("/escalations")
def escalations() -> str:
    department = id_arg("department")
    approvals = escalation_board.approvals_waiting(current_user)
    return render_template(
        "supervisor/escalations.html",
        department_counts=escalation_board.counts_by_department(current_user),
        late=escalation_board.overdue_cases(current_user, department_id=department),
        approvals=approvals,
        decidable=escalation_board.decidable(current_user, approvals),
        who_decides=escalation_board.who_decides(approvals),
        department=department,
    )
