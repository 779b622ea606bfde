"""Effects on a case that several actions share, each written once: closing a case, and
handing it to a department (dispatch, forward, reassign)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from caseapp.models import Case, CaseAssist, Department, User
from caseapp.models.enums import Clock, CloseReason
from caseapp.services.casework import clocks as deadlines
from caseapp.services.filing.cases import add_participant


def close_case(case: Case, now: datetime, reason: CloseReason | None = None) -> None:
    """The effects of a case's end (closed, rejected, withdrawn): every clock stops, and a
    closed case records why (``reason``: rated, no rating, merged) and when."""
    deadlines.stop_all(case, now)
    if reason is not None:
        case.close_reason = reason
        case.closed_at = now


def keep_resolve_promise(case: Case, now: datetime, math: deadlines.DeadlineMath) -> None:
    """Make sure an accepted case has its one resolve clock. Where none runs (the case
    was rejected after its acceptance, and reinstated), the promise made at acceptance
    runs again with the deadline it had: the resolve deadline does not restart when the
    case comes back (DESIGN §4, "the city's promise to the citizen"), and a wrong
    rejection is the city's error, not a pause for the citizen, so it does not move it.
    The run keeps its extensions (the cap is per resolve period) and its escalation."""
    if deadlines.running(case, Clock.RESOLVE):
        return
    runs = [row for row in case.clocks if row.clock is Clock.RESOLVE]
    if not runs:
        deadlines.start_clock(case, Clock.RESOLVE, now, math)
        return
    last = max(runs, key=lambda row: (row.started_at, row.id or 0))
    last.stopped_at = None
    deadlines.schedule_escalation(last, math)


def leave_department(case: Case, now: datetime) -> None:
    """The department gives the case up: its handler keeps seeing it (a participant), its
    running department clocks stop, and the case has no handler."""
    add_participant(case, case.handler)
    deadlines.stop_clock(case, Clock.SIGN, now)
    deadlines.stop_clock(case, Clock.FIRST_RESPONSE, now)
    case.handler_id = None


def hand_to_department(
    case: Case,
    department: Department,
    now: datetime,
    math: deadlines.DeadlineMath,
    *,
    from_intake: bool = False,
    handler: User | None = None,
    assisting: Sequence[Department] | None = None,
) -> None:
    """Hand the case to ``department`` to lead, with ``handler`` where one is named:
    dispatch (``from_intake``), forward and reassign. The department that held it gives
    it up (``leave_department``); from intake, the hand-over is the acceptance instead:
    the accept clock stops, the first one sets ``accepted_at`` and the resolve promise
    stands. ``assisting`` replaces the assisting departments (None keeps them). The
    department's sign clock starts."""
    if not from_intake:
        leave_department(case, now)
    case.lead_department_id = department.id
    case.handler_id = handler.id if handler else None
    if assisting is not None:
        case.assists = [CaseAssist(department_id=d.id, added_at=now) for d in assisting]
    if from_intake:
        deadlines.stop_clock(case, Clock.ACCEPT, now)
        if case.accepted_at is None:
            case.accepted_at = now
        # The resolve clock starts at the acceptance; a redo sent back to intake started
        # its fresh period already, and a second dispatch never restarts it (DESIGN §4).
        keep_resolve_promise(case, now, math)
    deadlines.start_clock(case, Clock.SIGN, now, math)
