"""After the answer (issue 16): a redo or reopen goes where someone can resolve it; only a
petition's written decision is reviewed; a review case is placed with the review body
under its own policy and linked to the decision it reviews."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import current_app

from caseapp.extensions import db
from caseapp.models import Case, DeadlinePolicy, User
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    PetitionDecision,
    PolicyTerm,
    Role,
    Satisfaction,
    TimeUnit,
)
from caseapp.services.access.accounts import create_user
from caseapp.services.admin import policies as admin_policies
from caseapp.services.admin.policies import PolicyFields
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, intake
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, ValidationFailed
from caseapp.workflow.deadlines import Period, snapshot_terms
from tests.factories import case_in, department, new_case, staff, user

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")
UNSATISFIED = Satisfaction.UNSATISFIED


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def due(case: Case, clock: Clock) -> datetime:
    rows = deadlines.running(case, clock)
    assert len(rows) == 1, f"{clock} runs {len(rows)} times"
    return rows[0].due_at.astimezone(TZ)


def consultation(now: datetime) -> Case:
    return new_case(
        kind=CaseKind.CONSULTATION,
        category="veterans",
        title="退役军人养老保险如何接续",
        description="想了解军龄如何计入养老保险缴费年限。",
        now=now,
    )


def handler_of(code: str) -> Actor:
    """A handler of department ``code`` (made the first time)."""
    username = f"handler-{code}"
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
        create_user(username, "long-enough-pw", username, [Role.HANDLER], code)
    return staff(username)


# --- finding 2: a redo after a direct answer ---------------------------------------------------


@pytest.mark.parametrize("returned_first", [False, True], ids=["from-new", "from-returned"])
def test_a_redo_of_a_direct_answer_goes_back_to_intake_with_a_fresh_resolve_period(
    returned_first: bool,
) -> None:
    """Issue 16, finding 2: file → answer directly → unsatisfied left the case in progress
    with no department, handler or acceptance: nobody could resolve it."""
    case = consultation(local(2026, 11, 2, 9, 0))  # Monday
    if returned_first:  # accepted, returned by the department, then answered at intake
        intake.dispatch_case(
            case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 9, 5)
        )
        casework.return_case(
            case, staff("handler"), "非本单位职责", version=None, now=local(2026, 11, 2, 9, 10)
        )
    intake.answer_directly(
        case,
        staff("intake"),
        "请携带退役证到窗口办理。",
        version=None,
        now=local(2026, 11, 2, 10, 0),
    )
    closing.rate_case(
        case, Actor.citizen(), False, UNSATISFIED, "没说清楚", version=None,
        now=local(2026, 11, 3, 9, 0),
    )  # fmt: skip
    assert case.status is CaseStatus.NEW and case.lead_department_id is None
    assert case.reopen_count == 1 and case.resolved_at is None
    # A fresh resolve period from the redo (consultations: 2 working days) and intake's
    # accept clock, so intake is told.
    assert due(case, Clock.RESOLVE) == local(2026, 11, 6)  # end of Thursday
    assert due(case, Clock.ACCEPT) == local(2026, 11, 5)  # end of Wednesday
    intake.dispatch_case(
        case, staff("intake"), department("tyjrj").id, version=None, now=local(2026, 11, 3, 10, 0)
    )
    assert case.status is CaseStatus.DISPATCHED and case.accepted_at is not None
    assert due(case, Clock.RESOLVE) == local(2026, 11, 6)  # the redo's period stands
    assert deadlines.running(case, Clock.ACCEPT) == []


def test_a_reopen_of_a_direct_answer_goes_back_to_intake_which_answers_again() -> None:
    case = consultation(local(2026, 11, 2, 9, 0))
    intake.answer_directly(
        case,
        staff("intake"),
        "请携带退役证到窗口办理。",
        version=None,
        now=local(2026, 11, 2, 10, 0),
    )
    closing.rate_case(
        case, Actor.citizen(), True, Satisfaction.SATISFIED, version=None,
        now=local(2026, 11, 2, 11, 0),
    )  # fmt: skip
    closing.reopen_case(
        case, staff("supervisor"), "政策已调整", version=None, now=local(2026, 11, 4, 9, 0)
    )
    assert case.status is CaseStatus.NEW and case.reopen_count == 1
    assert due(case, Clock.RESOLVE) == local(2026, 11, 7)  # Thursday, Friday
    intake.answer_directly(
        case, staff("intake"), "按新政策办理。", version=None, now=local(2026, 11, 4, 10, 0)
    )
    assert case.status is CaseStatus.RESOLVED
    assert deadlines.running(case, Clock.RESOLVE) == []
    assert [row.clock for row in deadlines.running(case)] == [Clock.FEEDBACK]


def test_a_redo_of_a_case_a_department_resolved_goes_back_to_it() -> None:
    case = case_in(CaseStatus.RESOLVED, now=local(2026, 11, 2, 9, 0))
    closing.rate_case(
        case, Actor.citizen(), False, UNSATISFIED, version=None, now=local(2026, 11, 3, 9, 0)
    )
    assert case.status is CaseStatus.IN_PROGRESS and case.lead_department_id == department("zjj").id
    assert case.handler_id == user("handler").id


def test_a_petition_is_not_answered_directly_and_only_a_written_decision_is_reviewed() -> None:
    """Issue 16, finding 2: a petition answered directly had no written decision and could
    still be taken to review."""
    petition = new_case(kind=CaseKind.PETITION, category="petition")
    with pytest.raises(NotAllowed):
        intake.answer_directly(petition, staff("intake"), "已答复。", version=None)
    assert petition.status is CaseStatus.NEW
    # A petition left without a decision (answered directly before this rule) is not
    # reviewed: there is no decision to review.
    old = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition")
    old.decision = None
    db.session.commit()
    with pytest.raises(NotAllowed, match="written decision"):
        closing.request_review(old, Actor.citizen(), "不服")


# --- finding 4: a second rating while a redo decision waits -----------------------------------


def test_a_second_unsatisfied_rating_while_a_redo_decision_waits_is_refused() -> None:
    """Issue 16, finding 4 (double submit, or a rating taken by phone): refused with a
    domain error, and nothing written."""
    case = case_in(CaseStatus.RESOLVED)
    for _ in range(2):
        closing.rate_case(case, Actor.citizen(), False, UNSATISFIED, version=None)
        casework.resolve_case(case, staff("handler"), "再次处理。", version=None)
    closing.rate_case(case, Actor.citizen(), False, UNSATISFIED, version=None)
    version = case.version
    for actor in (Actor.citizen(), staff("intake"), staff("supervisor")):
        with pytest.raises(NotAllowed, match="supervisor decides"):
            closing.rate_case(case, actor, False, UNSATISFIED, "再评一次", version=None)
    assert case.version == version and len(case.requests) == 1


# --- finding 5: review and re-review cases ---------------------------------------------------


def review_policy() -> DeadlinePolicy:
    code = current_app.config["REVIEW_POLICY_CODE"]
    return db.session.scalar(sa.select(DeadlinePolicy).where(DeadlinePolicy.code == code))


def test_a_review_is_placed_with_the_review_body_under_its_own_policy() -> None:
    """Issue 16, finding 5: a review case got 15 + 60 days and stayed new with no
    department. It is dispatched to the review body (accepted there), with 30 calendar
    days to decide and no extension (信访工作条例 Art. 35–36)."""
    start = local(2026, 9, 1, 9, 0)
    case = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition", now=start)
    asked = local(2026, 9, 11, 9, 0)
    review, _key = closing.request_review(case, Actor.citizen(), "不服，申请复查", now=asked)
    assert review.status is CaseStatus.DISPATCHED
    assert review.lead_department_id == department("xfj").id  # zjj has no parent
    assert review.accepted_at == asked and review.review_of_id == case.id
    assert review.review_level == 1 and not review.repeat_of_final
    assert review.policy_terms == snapshot_terms(review_policy().terms)
    assert due(review, Clock.RESOLVE) == local(2026, 10, 12)  # 30 calendar days: 11 October
    assert deadlines.running(review, Clock.ACCEPT) == []
    bureau = handler_of("xfj")
    casework.sign_for_case(review, bureau, version=None, now=asked + timedelta(hours=1))
    with pytest.raises(NotAllowed, match="no extension"):
        casework.request_extension(
            review, bureau, 5, "需调查", version=None, now=asked + timedelta(hours=2)
        )
    casework.resolve_case(
        review, bureau, "维持原处理意见。", version=None,
        decision=PetitionDecision.NOT_SUPPORTED, now=asked + timedelta(days=20),
    )  # fmt: skip
    re_review, _key = closing.request_review(
        review, Actor.citizen(), "申请复核", now=asked + timedelta(days=25)
    )
    assert re_review.review_of_id == review.id and re_review.review_level == 2
    # The bureau decided the review and has no parent: it never re-reviews its own
    # decision. The re-review waits at intake, under the review policy, to be placed above.
    assert re_review.status is CaseStatus.NEW and re_review.lead_department_id is None
    placed = asked + timedelta(days=26)  # 7 October
    intake.dispatch_case(
        re_review, staff("intake"), department("zfbgs").id, version=None, now=placed
    )
    assert due(re_review, Clock.RESOLVE) == local(2026, 11, 7)  # 30 days: 6 November


def test_a_department_with_a_parent_is_reviewed_by_the_parent() -> None:
    petition = new_case(kind=CaseKind.PETITION, category="petition")
    intake.dispatch_case(petition, staff("intake"), department("yhq-bc").id, version=None)
    street = handler_of("yhq-bc")
    casework.sign_for_case(petition, street, version=None)
    casework.resolve_case(
        petition, street, "予以解释。", version=None, decision=PetitionDecision.EXPLAINED
    )
    review, _key = closing.request_review(petition, Actor.citizen(), "不服")
    assert review.status is CaseStatus.DISPATCHED
    assert review.lead_department_id == department("yhq").id


def test_the_admin_edits_the_review_policy_and_later_reviews_follow_it() -> None:
    policy = review_policy()
    terms = [
        admin_policies.TermFields(
            term=t.term, kind=t.kind, unit=t.unit,
            value=20 if t.term == PolicyTerm.RESOLVE.value else t.value,
            urgent_unit=t.urgent_unit, urgent_value=t.urgent_value,
        )
        for t in admin_policies.term_fields(policy)
    ]  # fmt: skip
    admin_policies.update_policy(
        user("admin"), policy.id, PolicyFields(policy.code, policy.name_zh, policy.name_en, terms)
    )
    start = local(2026, 9, 1, 9, 0)
    case = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition", now=start)
    review, _key = closing.request_review(case, Actor.citizen(), "不服", now=local(2026, 9, 11, 9))
    assert due(review, Clock.RESOLVE) == local(2026, 10, 2)  # 20 calendar days


def test_the_review_policy_is_made_on_first_use_where_an_install_has_none() -> None:
    db.session.delete(review_policy())
    db.session.commit()
    case = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition")
    review, _key = closing.request_review(case, Actor.citizen(), "不服")
    policy = review_policy()
    assert policy is not None
    assert deadlines.case_period(review, PolicyTerm.RESOLVE) == Period(TimeUnit.CALENDAR_DAYS, 30)
    assert deadlines.case_period(review, PolicyTerm.EXTENSION_CAP).value == 0


def test_with_no_review_body_the_review_waits_at_intake_under_the_review_policy() -> None:
    current_app.config["PETITION_BUREAU_CODE"] = "no-such-bureau"
    try:
        case = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition")
        review, _key = closing.request_review(case, Actor.citizen(), "不服")
    finally:
        current_app.config["PETITION_BUREAU_CODE"] = "xfj"
    assert review.status is CaseStatus.NEW and review.lead_department_id is None
    assert deadlines.case_period(review, PolicyTerm.RESOLVE) == Period(TimeUnit.CALENDAR_DAYS, 30)
    intake.dispatch_case(review, staff("intake"), department("xfj").id, version=None)
    assert review.status is CaseStatus.DISPATCHED


def test_a_case_withdrawn_while_awaiting_the_citizen_is_no_longer_paused() -> None:
    """Found by the lifecycle property test: withdrawn while awaiting the citizen, the case
    kept its pause (paused_at, the status it was asked from) with every clock stopped."""
    case = new_case(now=local(2026, 11, 2, 9, 0))
    casework.ask_citizen(
        case, staff("intake"), "请说明具体位置", version=None, now=local(2026, 11, 2, 10, 0)
    )
    closing.withdraw_case(case, Actor.citizen(), "已自行解决", now=local(2026, 11, 3, 9, 0))
    assert case.status is CaseStatus.WITHDRAWN
    assert case.paused_at is None and case.status_before_pause is None
    assert deadlines.running(case) == [] and case.next_deadline_at is None


def test_a_policy_may_allow_no_extension_but_no_other_term_is_zero() -> None:
    """The review policy's extension cap is 0 (信访工作条例 gives review no extension); the
    admin keeps it so when saving the policy, and no other term may be 0."""
    policy = review_policy()

    def fields(term: PolicyTerm, value: int) -> PolicyFields:
        rows = [
            admin_policies.TermFields(
                term=t.term, kind=t.kind, unit=t.unit,
                value=value if t.term == term.value else t.value,
            )
            for t in admin_policies.term_fields(policy)
        ]  # fmt: skip
        return PolicyFields(policy.code, policy.name_zh, policy.name_en, rows)

    admin_policies.update_policy(user("admin"), policy.id, fields(PolicyTerm.EXTENSION_CAP, 0))
    with pytest.raises(ValidationFailed) as refused:
        admin_policies.update_policy(user("admin"), policy.id, fields(PolicyTerm.RESOLVE, 0))
    assert "terms" in refused.value.field_errors
