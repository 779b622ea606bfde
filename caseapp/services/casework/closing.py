"""After the answer: rating and redo, the feedback window, reopen, withdraw, and the
review of a petition decision."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from caseapp.extensions import db
from caseapp.models import Case, CaseRequest, DeadlinePolicy, DeadlineTerm, Department
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    CloseReason,
    EventAction,
    PolicyTerm,
    RequestKind,
    Satisfaction,
    TimeUnit,
)
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import intake, lifecycle
from caseapp.services.casework.effects import close_case
from caseapp.services.casework.intake import optional_text, required_text
from caseapp.services.casework.lifecycle import Actor, Decision
from caseapp.services.filing.cases import NewCase, file_case, now_or
from caseapp.services.ledgers import items as ledgers
from caseapp.services.notices import citizen as notices
from caseapp.services.notices import staff as staff_notices
from caseapp.services.transactions import one_transaction

MAX_REDOS_WITHOUT_APPROVAL = 2


def _actor_id(actor: Actor) -> int | None:
    return actor.user.id if actor.user else None


def redo_status(case: Case) -> CaseStatus:
    """Where a redo or a reopen sends the case: back to the department that resolved it
    (in_progress), or — for a case answered directly at intake, which no department
    holds — back to intake (new), where it is dispatched or answered again. In progress
    with no department, nobody could resolve it (issue 16, finding 2)."""
    return CaseStatus.IN_PROGRESS if case.lead_department_id is not None else CaseStatus.NEW


def _start_redo(case: Case, now: datetime) -> None:
    """A fresh resolve period (redo or reopen), counted in reopen_count. Back at intake
    (see ``redo_status``) the accept clock runs again as well: intake is to act on it."""
    math = deadlines.deadline_math()
    deadlines.stop_clock(case, Clock.FEEDBACK, now)
    case.reopen_count += 1
    case.resolved_at = None
    case.closed_at = None
    case.close_reason = None
    deadlines.start_clock(case, Clock.RESOLVE, now, math)
    if case.lead_department_id is None:
        deadlines.start_clock(case, Clock.ACCEPT, now, math)


def check_rate(case: Case, actor: Actor, now: datetime | None = None) -> None:
    """Refuse a rating the case cannot take from ``actor`` now (``workflow.offers``)."""
    lifecycle.check_action(case, EventAction.RATE, actor, None, now)


@one_transaction
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
    check_rate(case, actor, now)
    comment = optional_text(comment, "comment", limit=1000)
    unsatisfied = satisfaction is Satisfaction.UNSATISFIED
    needs_approval = unsatisfied and case.reopen_count >= MAX_REDOS_WITHOUT_APPROVAL
    if not unsatisfied:
        target = CaseStatus.CLOSED
    elif needs_approval:
        target = CaseStatus.RESOLVED
    else:
        target = redo_status(case)
    redo = target not in (CaseStatus.CLOSED, CaseStatus.RESOLVED)

    def effects() -> None:
        case.rating_solved = solved
        case.rating_satisfaction = satisfaction
        case.rating_excluded = False
        if target is CaseStatus.CLOSED:
            close_case(case, now, CloseReason.RATED)
        elif redo:
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
            "redo": redo,
        },
        effects=effects,
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    if target is CaseStatus.CLOSED:
        notices.notify_citizens(case, outcome.event, "closing")
    elif redo:
        notices.notify_citizens(case, outcome.event, "redo")
    else:
        redo = lifecycle.pending_request(case, RequestKind.REDO)
        assert redo is not None
        staff_notices.approval_waiting(case, redo, actor, now)
    if unsatisfied:
        staff_notices.rated_unsatisfied(case, outcome.event, actor)
    lifecycle.commit()
    return case


def decide_redo(decision: Decision) -> None:
    """A further redo (past the second): approved, the case is worked again; denied, it
    closes on the rating."""
    case, now = decision.case, decision.now
    outcome = lifecycle.apply_decision(
        decision,
        to_status=redo_status(case) if decision.approve else CaseStatus.CLOSED,
        on_approve=lambda: _start_redo(case, now),
        on_deny=lambda: close_case(case, now, CloseReason.RATED),
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(decision.actor))
    notices.notify_citizens(case, outcome.event, "redo" if decision.approve else "closing")
    staff_notices.approval_decided(case, decision.request, decision.actor, now)


@one_transaction
def feedback_window_passes(case: Case, now: datetime | None = None) -> Case:
    """The sweep: no rating within the feedback window; the case closes unrated."""
    now = now_or(now)
    outcome = lifecycle.apply_action(
        case,
        EventAction.FEEDBACK_WINDOW_PASSES,
        Actor.system(),
        now,
        expected_version=None,
        effects=lambda: close_case(case, now, CloseReason.NO_RATING),
    )
    ledgers.reevaluate_items_of(case, now, None)
    notices.notify_citizens(case, outcome.event, "closing")
    lifecycle.commit()
    return case


@one_transaction
def reopen_case(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """A supervisor reopens a closed case within 30 days of its close (counts as a redo)."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    lifecycle.check_action(case, EventAction.REOPEN, actor, version, now)
    outcome = lifecycle.apply_action(
        case,
        EventAction.REOPEN,
        actor,
        now,
        expected_version=version,
        to_status=redo_status(case),
        internal_text=reason,
        effects=lambda: _start_redo(case, now),
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    notices.notify_citizens(case, outcome.event, "redo")
    lifecycle.commit()
    return case


@one_transaction
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
    reason = required_text(reason, "reason", limit=1000)

    def effects() -> None:
        close_case(case, now)
        # Withdrawn while awaiting the citizen: the pause ends with the case.
        case.paused_at = None
        case.status_before_pause = None

    lifecycle.apply_action(
        case,
        EventAction.WITHDRAW,
        actor,
        now,
        expected_version=version,
        public_text=reason,
        effects=effects,
    )
    ledgers.reevaluate_items_of(case, now, _actor_id(actor))
    lifecycle.commit()
    return case


# The review policy's terms where the city has not set its own (信访工作条例 Art. 35–36):
# the review body decides within 30 days, a review decision can be taken to re-review
# within 30 days, and the law gives no extension (0: none; the admin may allow some).
# The other clocks run as for any case: the accept clock only while a review case waits at
# intake for want of a review body.
REVIEW_POLICY_NAMES = ("信访复查复核", "Petition review and re-review")
REVIEW_POLICY_TERMS: tuple[tuple[PolicyTerm, TimeUnit, int], ...] = (
    (PolicyTerm.ACCEPT, TimeUnit.WORKING_DAYS, 1),
    (PolicyTerm.SIGN, TimeUnit.WORKING_DAYS, 1),
    (PolicyTerm.FIRST_RESPONSE, TimeUnit.WORKING_DAYS, 1),
    (PolicyTerm.RESOLVE, TimeUnit.CALENDAR_DAYS, 30),
    (PolicyTerm.REPLY_WINDOW, TimeUnit.WORKING_DAYS, 10),
    (PolicyTerm.FEEDBACK, TimeUnit.CALENDAR_DAYS, 7),
    (PolicyTerm.EXTENSION_CAP, TimeUnit.CALENDAR_DAYS, 0),
    (PolicyTerm.RETURN_WINDOW, TimeUnit.WORKING_DAYS, 2),
    (PolicyTerm.REVIEW_WINDOW, TimeUnit.CALENDAR_DAYS, 30),
)


def review_policy() -> DeadlinePolicy:
    """The deadline policy review and re-review cases are filed under: the one named by
    ``REVIEW_POLICY_CODE``, which the admin edits like any other in /admin/policies. The
    demo base creates it; on any other install it is created with the statutory defaults
    the first time it is needed (a savepoint, so two first reviews at once find one)."""
    code = current_app.config["REVIEW_POLICY_CODE"]
    found = db.session.scalar(sa.select(DeadlinePolicy).where(DeadlinePolicy.code == code))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            policy = DeadlinePolicy(
                code=code,
                name_zh=REVIEW_POLICY_NAMES[0],
                name_en=REVIEW_POLICY_NAMES[1],
                terms=[
                    DeadlineTerm(term=term, kind=None, unit=unit, value=value)
                    for term, unit, value in REVIEW_POLICY_TERMS
                ],
            )
            db.session.add(policy)
    except IntegrityError:
        found = db.session.scalar(sa.select(DeadlinePolicy).where(DeadlinePolicy.code == code))
        assert found is not None
        return found
    return policy


def review_body(case: Case) -> Department | None:
    """Who reviews a department's petition decision: its parent, or the petition bureau.
    None where that would be the deciding department itself (the bureau decided, as it
    does a review): nobody reviews their own decision (信访工作条例 Art. 35–36: the body
    above does), so intake places such a review by hand."""
    department = case.lead_department
    if department is not None and department.parent is not None:
        return department.parent
    bureau = db.session.scalar(
        sa.select(Department).where(Department.code == current_app.config["PETITION_BUREAU_CODE"])
    )
    if bureau is not None and department is not None and bureau.id == department.id:
        return None
    return bureau


def check_review(case: Case, actor: Actor, now: datetime) -> None:
    """Refuse a request for review the decision cannot take now (``workflow.offers``:
    only the petitioner, of a petition decision, once, within its window, never after
    re-review)."""
    lifecycle.check_action(case, EventAction.REQUEST_REVIEW, actor, None, now)


@one_transaction
def request_review(
    case: Case, actor: Actor, reason: str, now: datetime | None = None
) -> tuple[Case, str]:
    """The citizen asks for review (复查) of a petition decision, or re-review (复核) of a
    review decision, within 30 days. A new case is filed, linked to the decision it
    reviews, under the review policy (30 calendar days to decide), and placed with the
    review body at once: dispatched there, which accepts it (DESIGN §4). Only where no
    review body can be found (no parent, and no department has the petition bureau's
    code) does it wait at intake, to be dispatched by hand. After re-review the matter
    is final."""
    now = now_or(now)
    reason = required_text(reason, "reason")
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
        policy=review_policy(),
        review_of=case,
    )
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
    if body is not None:
        intake.dispatch(review, Actor.system(), body, now, version=None)
    lifecycle.commit()
    return review, key


@one_transaction
def exclude_rating(
    case: Case, actor: Actor, reason: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """甄别: a supervisor leaves an unjustified rating out of the scorecards."""
    now = now_or(now)
    reason = required_text(reason, "reason")
    lifecycle.check_action(case, EventAction.EXCLUDE_RATING, actor, version, now)

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
