"""Translatable names of the domain's words (DESIGN §2) for the UI."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from caseapp.models.enums import CaseKind, CaseStatus, Channel, Role

STATUS_LABELS = {
    CaseStatus.NEW: _l("Awaiting acceptance"),
    CaseStatus.REJECTED: _l("Not accepted"),
    CaseStatus.DISPATCHED: _l("Awaiting sign-for"),
    CaseStatus.RETURNED: _l("Returned"),
    CaseStatus.IN_PROGRESS: _l("In progress"),
    CaseStatus.AWAITING_CITIZEN: _l("Awaiting the citizen"),
    CaseStatus.RESOLVED: _l("Resolved (awaiting follow-up)"),
    CaseStatus.CLOSED: _l("Closed"),
    CaseStatus.WITHDRAWN: _l("Withdrawn"),
}

KIND_LABELS = {
    CaseKind.CONSULTATION: _l("Consultation"),
    CaseKind.HELP: _l("Request for help"),
    CaseKind.COMPLAINT: _l("Complaint"),
    CaseKind.REPORT: _l("Report"),
    CaseKind.SUGGESTION: _l("Suggestion"),
    CaseKind.PRAISE: _l("Praise"),
    CaseKind.PETITION: _l("Petition"),
}

CHANNEL_LABELS = {
    Channel.WEB: _l("Web form"),
    Channel.WINDOW: _l("Service window"),
    Channel.PHONE: _l("Phone"),
    Channel.LETTER: _l("Letter"),
    Channel.VISIT: _l("Visit"),
    Channel.API: _l("API"),
}

ROLE_LABELS = {
    Role.INTAKE: _l("Intake clerk"),
    Role.HANDLER: _l("Handler"),
    Role.LEAD: _l("Department lead"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.LEADER: _l("Responsible leader"),
    Role.ADMIN: _l("Administrator"),
}


def status_label(status: CaseStatus) -> str:
    return str(STATUS_LABELS[status])


def kind_label(kind: CaseKind) -> str:
    return str(KIND_LABELS[kind])
