"""Translatable names of the domain's words (DESIGN §2) for the UI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    CloseReason,
    EventAction,
    LedgerItemAction,
    LedgerItemStatus,
    PetitionDecision,
    Role,
    Satisfaction,
)

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


A = EventAction
EVENT_LABELS = {
    A.SUBMIT: _l("Request received"),
    A.ANSWER_DIRECTLY: _l("Answered"),
    A.REJECT: _l("Not accepted"),
    A.REINSTATE: _l("Accepted for handling again"),
    A.MERGE: _l("Joined with a request about the same matter"),
    A.DISPATCH: _l("Accepted and sent to the responsible department"),
    A.FORWARD: _l("Sent on to the department that handles it"),
    A.REASSIGN: _l("Moved to another department"),
    A.RETURN: _l("Returned to intake"),
    A.REQUEST_RETURN: _l("Return requested"),
    A.DECIDE_RETURN: _l("Return decided"),
    A.SIGN_FOR: _l("The department is working on it"),
    A.ASK_CITIZEN: _l("We asked you a question"),
    A.CITIZEN_REPLIES: _l("Your answer"),
    A.REPLY_WINDOW_PASSES: _l("No answer came in time; work went on"),
    A.RESOLVE: _l("Answered"),
    A.RATE: _l("Rated"),
    A.FEEDBACK_WINDOW_PASSES: _l("Closed without a rating"),
    A.REOPEN: _l("Reopened"),
    A.WITHDRAW: _l("Withdrawn"),
    A.REQUEST_REVIEW: _l("Review requested"),
    A.NOTE: _l("Reply"),
    A.ADD_INFORMATION: _l("Information added"),
    A.RECORD_CONTACT: _l("Contact recorded"),
    A.REQUEST_EXTENSION: _l("Extension requested"),
    A.DECIDE_EXTENSION: _l("Deadline extended or kept"),
    A.URGE: _l("Urged by a supervisor"),
    A.SET_LEADER: _l("Responsible leader named"),
    A.SET_CASE_PLAN: _l("Case plan set"),
    A.MARK_LEGACY: _l("Marked as a legacy issue"),
    A.LINK_LEDGER_ITEM: _l("Linked to a ledger item"),
    A.REVEAL_CONTACT: _l("Contact details viewed"),
    A.FOLLOW: _l("Someone else follows this request"),
    A.UNFOLLOW: _l("Someone stopped following this request"),
    A.EXCLUDE_RATING: _l("Rating left out of the scorecards"),
    A.ESCALATE: _l("Escalated"),
    A.CANCEL_REQUEST: _l("Request cancelled"),
    A.DECIDE_REDO: _l("Decision on working it again"),
    A.RECOMPUTE_DEADLINES: _l("Deadline recounted with the holiday schedule"),
}


CLOCK_LABELS = {
    "accept": _l("Accept"),
    "sign": _l("Sign for"),
    "first_response": _l("First response"),
    "resolve": _l("Resolve"),
    "reply_window": _l("Citizen's reply"),
    "feedback": _l("Feedback"),
}


# A case's escalation level (DESIGN §4) in words; 0 is none.
ESCALATION_LABELS = {
    1: _l("Due soon"),
    2: _l("Overdue"),
    3: _l("Supervised"),
}


def escalation_label(level: int) -> str:
    return str(ESCALATION_LABELS[level]) if level in ESCALATION_LABELS else ""


INBOX_LABELS = {
    "escalation_1": _l("Due soon"),
    "escalation_2": _l("Overdue"),
    "escalation_3": _l("Supervised"),
    "urged": _l("Urged by a supervisor"),
    "approval_waiting": _l("Waiting for your decision"),
    "approval_decided": _l("Request decided"),
    "assigned": _l("Assigned to you"),
    "citizen_answered": _l("The citizen answered"),
    "rated_unsatisfied": _l("Rated unsatisfied: to be worked on again"),
}

# The requests that wait for a decision (RequestKind values).
REQUEST_LABELS = {
    "extension": _l("Extension"),
    "return": _l("Late return"),
    "redo": _l("Further redo"),
}


LEDGER_STATUS_LABELS = {
    LedgerItemStatus.OPEN: _l("Not started"),
    LedgerItemStatus.IN_PROGRESS: _l("In progress"),
    LedgerItemStatus.WRITTEN_OFF: _l("Written off"),
}


def ledger_status_label(status: LedgerItemStatus) -> str:
    return str(LEDGER_STATUS_LABELS[status])


# The changes in a ledger item's timeline.
LEDGER_ITEM_ACTION_LABELS = {
    LedgerItemAction.CREATED: _l("Item created"),
    LedgerItemAction.CREATED_FROM_CASE: _l("Item created for a legacy case"),
    LedgerItemAction.IMPORTED: _l("Imported"),
    LedgerItemAction.UPDATE: _l("Item edited"),
    LedgerItemAction.LINK_CASE: _l("Case linked"),
    LedgerItemAction.UNLINK_CASE: _l("Case unlinked"),
    LedgerItemAction.IN_PROGRESS: _l("Work started"),
    LedgerItemAction.WRITE_OFF: _l("Written off"),
    LedgerItemAction.UNDO_WRITE_OFF: _l("Write-off undone: its cases changed"),
    LedgerItemAction.REOPEN: _l("Reopened"),
}


def item_event_label(action: str) -> str:
    """The name of a ledger item event's action; one not known is shown as stored."""
    try:
        return str(LEDGER_ITEM_ACTION_LABELS[LedgerItemAction(action)])
    except ValueError:
        return action


SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: _l("Satisfied"),
    Satisfaction.BASICALLY_SATISFIED: _l("Basically satisfied"),
    Satisfaction.UNSATISFIED: _l("Unsatisfied"),
}


DECISION_LABELS = {
    PetitionDecision.SUPPORTED: _l("Supported"),
    PetitionDecision.EXPLAINED: _l("Explained"),
    PetitionDecision.NOT_SUPPORTED: _l("Not supported"),
}


def decision_label(value: PetitionDecision) -> str:
    return str(DECISION_LABELS[value])


def satisfaction_label(value: Satisfaction) -> str:
    return str(SATISFACTION_LABELS[value])


CLOSE_REASON_LABELS = {
    CloseReason.RATED: _l("rated"),
    CloseReason.NO_RATING: _l("no rating in time"),
    CloseReason.MERGED: _l("merged into another case"),
}


def close_reason_label(value: CloseReason) -> str:
    return str(CLOSE_REASON_LABELS[value])


_DECIDING = frozenset({A.DECIDE_RETURN, A.DECIDE_EXTENSION, A.DECIDE_REDO})


def _detailed(action: EventAction, detail: str) -> str:
    return str(_l("%(what)s: %(detail)s", what=event_label(action), detail=detail))


_STAFF_WORDS = {
    A.ASK_CITIZEN: _l("Question to the citizen"),
    A.CITIZEN_REPLIES: _l("The citizen answered"),
}


def staff_event_label(action: EventAction, data: Mapping[str, Any], public: bool) -> str:
    """How the staff timeline names an event: its label, said more exactly by what it
    holds — a note public or internal, the rating given, a decision's outcome."""
    if action is A.NOTE:
        return str(_l("Public reply") if public else _l("Internal note"))
    if action in _STAFF_WORDS:  # what the citizen's page says to "you", said of them
        return str(_STAFF_WORDS[action])
    if action is A.RATE and data.get("satisfaction"):
        solved = _l("Solved") if data.get("solved") else _l("Not solved")
        words = satisfaction_label(Satisfaction(data["satisfaction"]))
        return _detailed(action, f"{words} · {solved}")
    if action is A.FOLLOW and data.get("merged_from"):
        merged = _l(
            "its citizen's request %(number)s was joined with it", number=data["merged_from"]
        )
        return _detailed(action, str(merged))
    if action in _DECIDING and "approved" in data:
        outcome = _l("Approved") if data["approved"] else _l("Denied")
        return _detailed(action, str(outcome))
    return event_label(action)


def inbox_label(kind: str) -> str:
    return str(INBOX_LABELS.get(kind, kind))


def request_label(kind: str) -> str:
    return str(REQUEST_LABELS.get(str(kind), kind))


def clock_label(clock: str) -> str:
    return str(CLOCK_LABELS.get(clock, clock))


def event_label(action: EventAction) -> str:
    return str(EVENT_LABELS[action])


def status_label(status: CaseStatus) -> str:
    return str(STATUS_LABELS[status])


def channel_label(channel: Channel) -> str:
    return str(CHANNEL_LABELS[channel])


def kind_label(kind: CaseKind) -> str:
    return str(KIND_LABELS[kind])
