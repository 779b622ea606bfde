"""Printable written notices to the citizen (DESIGN §8): the acceptance notice (受理告知书),
the notice of non-acceptance (不予受理告知书), a petition's written decision (处理意见书),
and the decisions on its review (复查意见书) and re-review (复核意见书), which name the
decision they review."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, Department, User
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    EventAction,
    PetitionDecision,
    PolicyTerm,
)
from caseapp.services.access.tracking import ExpectedDates, expected_dates
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework.closing import review_body
from caseapp.services.casework.intake import PETITION_CHANNELS
from caseapp.services.casework.lifecycle import Actor, capacities_of
from caseapp.services.casework.moments import FINAL_REVIEW_LEVEL
from caseapp.services.errors import NotFound
from caseapp.services.filing.validation import mask_name
from caseapp.workflow.deadlines import Period
from caseapp.workflow.visibility import may_see_identity


class NoticeKind(enum.StrEnum):
    ACCEPTANCE = "acceptance"  # 受理告知书
    REJECTION = "rejection"  # 不予受理告知书
    DECISION = "decision"  # 处理意见书
    REVIEW_DECISION = "review_decision"  # 复查意见书
    RE_REVIEW_DECISION = "re_review_decision"  # 复核意见书


# The decision notice of each review level: 0 an original matter, 1 a review, 2 a re-review.
DECISION_NOTICES = (NoticeKind.DECISION, NoticeKind.REVIEW_DECISION, NoticeKind.RE_REVIEW_DECISION)


def decision_notice_kind(case: Case) -> NoticeKind:
    """The decision notice a petition of ``case``'s review level is printed as."""
    return DECISION_NOTICES[min(case.review_level, len(DECISION_NOTICES) - 1)]


@dataclass(frozen=True)
class ReviewedDecision:
    """The decision a review or re-review case reviews, as its notice names it."""

    case: Case
    issuer: Department | None
    decision: PetitionDecision | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ReviewRight:
    """Where and by when the citizen may ask for a review of a petition decision."""

    body: Department | None
    period: Period
    due_at: datetime
    # 0: ask for a review (复查), 1: ask for a re-review (复核); None: the decision is final.
    next_level: int | None


@dataclass(frozen=True)
class WrittenNotice:
    """What one printed notice says; the template only lays it out."""

    kind: NoticeKind
    case: Case
    # The day of the act the notice records, so a reprint carries the same date.
    issued_at: datetime
    issuer: Department | None
    show_identity: bool
    dates: ExpectedDates
    reason: str = ""
    belongs_to: str | None = None
    decision: PetitionDecision | None = None
    answer: str = ""
    review: ReviewRight | None = None
    # For a review or re-review decision: the decision it reviewed.
    reviewed: ReviewedDecision | None = None
    # Shown instead of the name until the clerk reveals it (and the reveal is recorded).
    masked_name: str = ""
    may_reveal: bool = False


def written_notice(case: Case, kind: str, user: User, *, revealed: bool = False) -> WrittenNotice:
    """The notice of ``kind`` on ``case`` as ``user`` prints it; NotFound when that notice
    does not apply to the case (not accepted, not rejected, not a decided petition).

    The caller has checked that ``user`` may see the case. The citizen's name is masked
    unless ``revealed`` (the caller recorded the reveal).
    """
    try:
        notice_kind = NoticeKind(kind)
    except ValueError:
        raise NotFound(f"no notice {kind!r}") from None
    allowed = may_see_identity(case, capacities_of(Actor.staff(user), case))
    show_identity = allowed and revealed
    dates = _promised(case, expected_dates(case))
    if notice_kind is NoticeKind.ACCEPTANCE:
        notice = _acceptance(case, show_identity, dates)
    elif notice_kind is NoticeKind.REJECTION:
        notice = _rejection(case, show_identity, dates)
    else:
        notice = _decision(case, notice_kind, show_identity, dates)
    return replace(
        notice,
        masked_name=mask_name(case.citizen_name) if allowed and not revealed else "",
        may_reveal=allowed and not revealed and bool(case.citizen_name),
    )


def _promised(case: Case, dates: ExpectedDates) -> ExpectedDates:
    """A notice states the answer deadline the case was given (its latest resolve
    period, extensions included), also when it is printed after the answer came."""
    runs = [row for row in case.clocks if row.clock is Clock.RESOLVE]
    if not runs:
        return dates
    return replace(dates, resolve_by=max(runs, key=lambda row: row.started_at).due_at)


def _latest_event(case: Case, action: EventAction) -> CaseEvent | None:
    return db.session.scalar(
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == action)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )


def _department(department_id: int | None) -> Department | None:
    return db.session.get(Department, department_id) if department_id else None


def _acceptance(case: Case, show_identity: bool, dates: ExpectedDates) -> WrittenNotice:
    if case.accepted_at is None:
        raise NotFound("the case has not been accepted")
    issuer = case.lead_department
    if issuer is None:
        # Returned to intake since: name the department it was accepted for.
        accepted = db.session.scalar(
            sa.select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.action == EventAction.DISPATCH)
            .order_by(CaseEvent.id)
            .limit(1)
        )
        issuer = _department(accepted.department_id) if accepted else None
    return WrittenNotice(
        NoticeKind.ACCEPTANCE, case, case.accepted_at, issuer, show_identity, dates
    )


def _rejection(case: Case, show_identity: bool, dates: ExpectedDates) -> WrittenNotice:
    event = _latest_event(case, EventAction.REJECT)
    if case.status is not CaseStatus.REJECTED or event is None:
        raise NotFound("the case is not rejected")
    # Intake refuses on behalf of its office (e.g. 市政府办公室).
    issuer = event.actor.department if event.actor is not None else None
    belongs_to = event.data.get("belongs_to") if case.kind is CaseKind.PETITION else None
    if belongs_to not in PETITION_CHANNELS:
        belongs_to = None
    return WrittenNotice(
        NoticeKind.REJECTION,
        case,
        event.at,
        issuer,
        show_identity,
        dates,
        reason=event.public_text,
        belongs_to=belongs_to,
    )


def _decider(case: Case) -> Department | None:
    """The department that took the case's decision: its lead department, or the one that
    resolved it (the department may have given the case up since)."""
    if case.lead_department is not None:
        return case.lead_department
    resolved = _latest_event(case, EventAction.RESOLVE)
    return _department(resolved.department_id) if resolved else None


def reviewed_decision(case: Case) -> ReviewedDecision | None:
    """The decision a review or re-review case reviews (None for an original matter)."""
    original = case.review_of
    if original is None:
        return None
    return ReviewedDecision(original, _decider(original), original.decision, original.resolved_at)


def _decision(
    case: Case, kind: NoticeKind, show_identity: bool, dates: ExpectedDates
) -> WrittenNotice:
    # A decision that a redo or reopen set aside (resolved_at cleared) is not printed.
    if case.kind is not CaseKind.PETITION or case.decision is None or case.resolved_at is None:
        raise NotFound("the case has no petition decision")
    if decision_notice_kind(case) is not kind:
        raise NotFound(f"the decision of {case.number} is printed as {decision_notice_kind(case)}")
    issuer = _decider(case)
    period = deadlines.case_period(case, PolicyTerm.REVIEW_WINDOW)
    review = ReviewRight(
        body=review_body(case),
        period=period,
        due_at=deadlines.deadline_math().due_at(case.resolved_at, period),
        next_level=case.review_level if case.review_level < FINAL_REVIEW_LEVEL else None,
    )
    return WrittenNotice(
        kind,
        case,
        case.resolved_at,
        issuer,
        show_identity,
        dates,
        decision=case.decision,
        answer=case.public_answer,
        review=review,
        reviewed=reviewed_decision(case),
    )
