"""Effects on a case that several actions share, each written once: closing a case."""

from __future__ import annotations

from datetime import datetime

from caseapp.models import Case
from caseapp.models.enums import CloseReason
from caseapp.services.casework import clocks as deadlines


def close_case(case: Case, now: datetime, reason: CloseReason | None = None) -> None:
    """The effects of a case's end (closed, rejected, withdrawn): every clock stops, and a
    closed case records why (``reason``: rated, no rating, merged) and when."""
    deadlines.stop_all(case, now)
    if reason is not None:
        case.close_reason = reason
        case.closed_at = now
