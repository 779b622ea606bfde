"""After the answer: rating and redo, the feedback window, reopen, withdraw, and the
review of a petition decision."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseRequest, Department
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    CloseReason,
    EventAction,
    PolicyTerm,
    RequestKind,
    Satisfaction,
)
from caseapp.services import deadlines, ledgers, lifecycle, notices, staff_notices
from caseapp.services.cases import NewCase, file_case, now_or
from caseapp.services.errors import NotAllowed
from caseapp.services.intake import _text, optional_text
from caseapp.services.lifecycle import Actor

MAX_REDOS_WITHOUT_APPROVAL = 2
REOPEN_WINDOW = timedelta(days=30)
FINAL_REVIEW_LEVEL = 2  # after re-review (复核) the matter is final


def _actor_id(actor: Actor) -> int | None:
    return actor.user.id if actor.user else None


def _start_redo(case: Case, now: datetime) -> None:
    """A fresh resolve period (redo or reopen), counted in reopen_count."""
    math = deadlines.deadline_math()
    deadlines.stop_clock(case, Clock.FEEDBACK, now)
    case.reopen_count += 1
    case.resolved_at = None
    case.closed_at = None
    case.close_reason = None
    deadlines.start_clock(case, Clock.RESOLVE, now, math)


def _close(case: Case, reason: CloseReason, now: datetime) -> None:
    deadlines.stop_all(case, now)
    case.close_reason = reason
    case.closed_at = now


def handling_departments(case: Case) -> set[int]:
    """The departments that worked the case: lead and assisting, now and before."""
    departments = {a.department_id for a in case.assists}
    departments |= {row.department_id for row in case.clocks if row.department_id is not None}
    if case.lead_department_id is not None:
        departments.add(case.lead_department_id)
    return departments


def check_rate(case: Case, actor: Actor) -> None:
    """Refuse a rating the case cannot take from ``actor`` now: the table's rule, never
    the handling department, and not while a further redo waits for a supervisor (the
    case already has its rating)."""
    lifecycle.check_action(case, EventAction.RATE, actor, None)
    if actor.user is not None and actor.user.department_id in handling_departments(case):
        raise NotAllowed("the handling department never records the follow-up rating")
    if lifecycle.pending_request(case, RequestKind.REDO) is not None:
        raise NotAllowed("the case was rated; a supervisor decides on working it again")


def rate_case(
    case: Case,
    actor: Actor,
    solved: bool,
    satisfaction: Satisfaction,
    comment: str = "",
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """The citizen's rating (or staff recording a follow-up call). Unsatisfied sends the
    case back to the department (redo); past two redos a supervisor decides."""
    now = now_or(now)
    check_rate(case, actor)
    comment = optional_text(comment, "comment", limit=1000)
    unsatisfied = satisfaction is Satisfaction.UNSATISFIED
    needs_approval = unsatisfied and case.reopen_count >= MAX_REDOS_WITHOUT_APPROVAL
    if not unsatisfied:
        target = CaseStatus.CLOSED
    elif needs_approval:
        target = CaseStatus.RESOLVED
    else:
        target = CaseStatus.IN_PROGRESS

    def effects() -> None:
        case.rating_solved = solved
        case.rating_satisfaction = satisfaction
        case.rating_excluded = False
        if target is CaseStatus.CLOSED:
            _close(case, CloseReason.RATED, now)
        elif target is CaseStatus.IN_PROGRESS:
            _start_redo(case, now)
        else:
            deadlines.stop_clock(case, Clock.FEEDBACK, now)
            case.requests.append(
                CaseRequest(
                    kind=RequestKind.REDO,
                    case_status=CaseStatus.RESOLVED,
                    reason=comment,
                    requested_by_id=_actor_id(actor),
                    requested_at=now,
                )
            )

    outcome = lifecycle.apply_action(
        case,
        EventAction.RATE,
        actor,
        now,
        expected_version=version,
        to_status=target,
        public_text=comment if actor.kind == "citizen" else "",
        internal_text=comment if actor.kind != "citizen" else "",
        data={
            "solved": solved,
            "satisfaction": str(satisfaction),
            "redo": target is CaseStatus.IN_PROGRESS,
        },
        effects=effects,
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    if target is CaseStatus.CLOSED:
        notices.notify_citizens(case, outcome.event, "closing")
    elif target is CaseStatus.IN_PROGRESS:
        notices.notify_citizens(case, outcome.event, "redo")
    else:
        redo = lifecycle.pending_request(case, RequestKind.REDO)
        assert redo is not None
        staff_notices.approval_waiting(case, redo, actor, now)
    lifecycle.commit()
    return case


def decide_redo(
    case: Case,
    actor: Actor,
    approve: bool,
    note: str = "",
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """A supervisor decides whether a further redo (past the second) is justified."""
    now = now_or(now)
    note = optional_text(note, "note")
    request = lifecycle.pending_request(case, RequestKind.REDO)
    if request is None:
        raise NotAllowed("no redo is waiting for a decision")

    def effects() -> None:
        lifecycle.settle_request(request, actor, approve, note, now)
        if approve:
            _start_redo(case, now)
        else:
            _close(case, CloseReason.RATED, now)

    outcome = lifecycle.apply_action(
        case,
        EventAction.DECIDE_REDO,
        actor,
        now,
        expected_version=version,
        to_status=CaseStatus.IN_PROGRESS if approve else CaseStatus.CLOSED,
        internal_text=note,
        data={"approved": approve},
        effects=effects,
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    if approve:
        notices.notify_citizens(case, outcome.event, "redo")
    else:
        notices.notify_citizens(case, outcome.event, "closing")
    staff_notices.approval_decided(case, request, actor, now)
    lifecycle.commit()
    return case


def feedback_window_passes(case: Case, now: datetime | None = None) -> Case:
    """The sweep: no rating within the feedback window; the case closes unrated."""
    now = now_or(now)
    outcome = lifecycle.apply_action(
        case,
        EventAction.FEEDBACK_WINDOW_PASSES,
        Actor.system(),
        now,
        expected_version=None,
        effects=lambda: _close(case, CloseReason.NO_RATING, now),
    )
    ledgers.reevaluate_items_of(case, now, None)
    notices.notify_citizens(case, outcome.event, "closing")
    lifecycle.commit()
    return case


def reopen_case(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """A supervisor reopens a closed case within 30 days of its close (counts as a redo)."""
    now = now_or(now)
    reason = _text(reason, "reason")
    lifecycle.check_action(case, EventAction.REOPEN, actor, version)
    if case.close_reason is CloseReason.MERGED:
        raise NotAllowed("a merged case is not reopened; reopen the case it was merged into")
    if case.closed_at is None or now - case.closed_at > REOPEN_WINDOW:
        raise NotAllowed("a case can be reopened within 30 days of its close")
    outcome = lifecycle.apply_action(
        case,
        EventAction.REOPEN,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        effects=lambda: _start_redo(case, now),
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    notices.notify_citizens(case, outcome.event, "redo")
    lifecycle.commit()
    return case


def withdraw_case(
    case: Case,
    actor: Actor,
    reason: str,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """The citizen withdraws the request."""
    now = now_or(now)
    reason = _text(reason, "reason", limit=1000)
    lifecycle.apply_action(
        case,
        EventAction.WITHDRAW,
        actor,
        now,
        expected_version=version,
        public_text=reason,
        effects=lambda: deadlines.stop_all(case, now),
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    lifecycle.commit()
    return case


def review_body(case: Case) -> Department | None:
    """Who reviews a department's petition decision: its parent, or the petition bureau."""
    from flask import current_app

    department = case.lead_department
    if department is not None and department.parent is not None:
        return department.parent
    return db.session.scalar(
        sa.select(Department).where(Department.code == current_app.config["PETITION_BUREAU_CODE"])
    )


def check_review(case: Case, actor: Actor, now: datetime) -> None:
    """Refuse a request for review the decision cannot take now: only the petitioner, of
    a petition decision, once, within its window, and never after re-review."""
    lifecycle.check_action(case, EventAction.REQUEST_REVIEW, actor, None)
    if case.kind is not CaseKind.PETITION or case.resolved_at is None:
        raise NotAllowed("only a petition decision can be reviewed")
    if case.review_level >= FINAL_REVIEW_LEVEL:
        raise NotAllowed("the re-review decision is final")
    if db.session.scalar(sa.select(Case.id).where(Case.review_of_id == case.id)):
        raise NotAllowed("a review has already been asked for")
    window = deadlines.case_period(case, PolicyTerm.REVIEW_WINDOW)
    if now >= deadlines.deadline_math().due_at(case.resolved_at, window):
        raise NotAllowed("the 30 days to ask for a review have passed")


def request_review(
    case: Case, actor: Actor, reason: str, now: datetime | None = None
) -> tuple[Case, str]:
    """The citizen asks for review (复查) of a petition decision, or re-review (复核) of a
    review decision, within 30 days; a new linked case is filed. After re-review the
    matter is final."""
    now = now_or(now)
    reason = _text(reason, "reason")
    check_review(case, actor, now)
    body = review_body(case)
    label = "复查" if case.review_level == 0 else "复核"
    review, key = file_case(
        NewCase(
            kind=CaseKind.PETITION,
            category_code=case.category.service_code,
            title=f"{label}：{case.title}"[:200],
            description=reason,
            address=case.address,
            public_location=case.public_location,
            citizen_name=case.citizen_name,
            citizen_phone=case.citizen_phone,
            citizen_email=case.citizen_email,
            citizen_postal_address=case.citizen_postal_address,
            notify_by=case.notify_by,
            consent_privacy=True,
            language=case.language,
        ),
        Actor.citizen(),
        now,
    )
    review.review_of_id = case.id
    review.review_level = case.review_level + 1
    outcome = lifecycle.apply_action(
        case,
        EventAction.REQUEST_REVIEW,
        actor,
        now,
        expected_version=None,
        public_text=reason,
        data={
            "review_case": review.number,
            "review_body": body.code if body else None,
            "level": review.review_level,
        },
    )
    notices.notify_citizens(case, outcome.event, "review", {"review_number": review.number})
    lifecycle.commit()
    return review, key


def exclude_rating(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """甄别: a supervisor leaves an unjustified rating out of the scorecards."""
    now = now_or(now)
    reason = _text(reason, "reason")
    if case.rating_satisfaction is not Satisfaction.UNSATISFIED:
        raise NotAllowed("only an unsatisfied rating can be excluded (甄别)")
    if case.rating_excluded:
        raise NotAllowed("the rating is already excluded")

    def effects() -> None:
        case.rating_excluded = True

    lifecycle.apply_action(
        case,
        EventAction.EXCLUDE_RATING,
        actor,
        now,
        expected_version=version,
        internal_text=reason,
        effects=effects,
    )
    lifecycle.commit()
    return case
