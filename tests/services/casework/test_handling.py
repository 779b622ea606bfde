"""The case services end to end: clocks, pauses, extensions, redo, returns, notices,
confidentiality and petition reviews — with real dates in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseRequest, DeadlineTerm, OutboxMessage
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    EventAction,
    PetitionDecision,
    PolicyTerm,
    Priority,
    RequestKind,
    RequestStatus,
    Role,
    Satisfaction,
)
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, decisions, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, StaleVersion, ValidationFailed
from caseapp.workflow.visibility import public_cases
from tests.factories import case_in, department, new_case, staff, user

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def due(case: Case, clock: Clock) -> datetime:
    rows = deadlines.running(case, clock)
    assert len(rows) == 1, f"{clock} runs {len(rows)} times"
    return rows[0].due_at.astimezone(TZ)


def events(case: Case) -> list[EventAction]:
    return [e.action for e in db.session.scalars(case.events.select().order_by(CaseEvent.id))]


def test_accept_clock_by_kind_and_priority() -> None:
    help_case = new_case(now=local(2026, 11, 26, 10, 0))  # Thursday
    assert due(help_case, Clock.ACCEPT) == local(2026, 11, 28)  # end of Friday
    petition = new_case(kind=CaseKind.PETITION, category="petition", now=local(2026, 11, 26, 10, 0))
    assert due(petition, Clock.ACCEPT) == local(2026, 12, 12)  # 15 calendar days
    urgent = new_case(priority=Priority.URGENT, now=local(2026, 11, 26, 10, 0))
    assert due(urgent, Clock.ACCEPT) == local(2026, 11, 26, 12, 0)  # 2 hours
    assert urgent.next_deadline_at == local(2026, 11, 26, 12, 0)


def test_a_case_keeps_the_policy_it_was_filed_under() -> None:
    before = new_case(now=local(2026, 11, 2, 9, 0))
    term = db.session.scalar(
        sa.select(DeadlineTerm).where(
            DeadlineTerm.policy_id == before.category.policy_id,
            DeadlineTerm.term == PolicyTerm.RESOLVE,
            DeadlineTerm.kind.is_(None),
        )
    )
    term.value = 20
    db.session.commit()
    after = new_case(now=local(2026, 11, 2, 9, 0))
    for case in (before, after):
        intake.dispatch_case(
            case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 10, 0)
        )
    assert due(before, Clock.RESOLVE) == local(2026, 11, 6)  # 3 working days: end of 5 Nov
    assert due(after, Clock.RESOLVE) == local(2026, 12, 1)  # 20 working days


def test_the_resolve_deadline_survives_a_return_and_a_second_dispatch() -> None:
    case = new_case(now=local(2026, 11, 2, 9, 0))
    intake.dispatch_case(
        case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 10, 0)
    )
    promised = due(case, Clock.RESOLVE)
    casework.return_case(
        case, staff("handler"), "不属于本单位", version=None, now=local(2026, 11, 3, 9, 0)
    )
    assert case.status is CaseStatus.RETURNED and case.lead_department_id is None
    intake.dispatch_case(
        case, staff("intake"), department("cgj").id, version=None, now=local(2026, 11, 3, 10, 0)
    )
    assert due(case, Clock.RESOLVE) == promised
    assert due(case, Clock.SIGN) == local(2026, 11, 5)  # a fresh sign clock


def test_a_pause_moves_the_resolve_deadline_by_the_paused_working_days() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))  # Monday
    resolve_due = due(case, Clock.RESOLVE)
    assert resolve_due == local(2026, 11, 6)  # quick-repair policy: 3 working days
    casework.ask_citizen(
        case, staff("handler"), "请补充照片", version=None, now=local(2026, 11, 3, 10, 0)
    )
    assert case.status is CaseStatus.AWAITING_CITIZEN
    assert case.next_deadline_at == due(case, Clock.REPLY_WINDOW)  # only the reply window runs
    casework.citizen_replies(
        case, Actor.citizen(), "照片已上传", version=None, now=local(2026, 11, 6, 15, 0)
    )
    assert case.status is CaseStatus.IN_PROGRESS
    assert due(case, Clock.RESOLVE) == local(2026, 11, 11)  # Wed, Thu, Fri began in the pause
    assert deadlines.running(case, Clock.REPLY_WINDOW) == []


def test_the_reply_window_passing_resumes_the_clocks() -> None:
    case = case_in(CaseStatus.NEW, now=local(2026, 11, 2, 9, 0))
    # Asked from "new", by intake, before any dispatch.
    casework.ask_citizen(
        case, staff("intake"), "请说明具体位置", version=None, now=local(2026, 11, 2, 10, 0)
    )
    window = due(case, Clock.REPLY_WINDOW)
    assert window == local(2026, 11, 17)  # 10 working days
    casework.reply_window_passes(case, now=window)
    assert case.status is CaseStatus.NEW
    assert events(case)[-1] is EventAction.REPLY_WINDOW_PASSES


@pytest.mark.parametrize("ended_by", ["reply", "reassign", "late sweep"])
def test_the_reply_window_bounds_a_pause_that_ends_late(ended_by: str) -> None:
    """A pause ended after its window closed — nobody swept in time — moves the deadline
    only by the window (DESIGN §4: the reply window bounds every pause); found by the
    workflow state machine, where a reassignment three months on moved it by three."""
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    casework.ask_citizen(
        case, staff("handler"), "请补充照片", version=None, now=local(2026, 11, 3, 10, 0)
    )
    window = due(case, Clock.REPLY_WINDOW)
    late = window + timedelta(days=40)
    if ended_by == "reply":
        casework.citizen_replies(case, Actor.citizen(), "照片已上传", version=None, now=late)
    elif ended_by == "reassign":
        casework.reassign_case(
            case, staff("supervisor"), department("cgj").id, "职责调整", version=None, now=late
        )
    else:
        casework.reply_window_passes(case, now=late)
    on_time = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    casework.ask_citizen(
        on_time, staff("handler"), "请补充照片", version=None, now=local(2026, 11, 3, 10, 0)
    )
    casework.reply_window_passes(on_time, now=window)
    assert due(case, Clock.RESOLVE) == due(on_time, Clock.RESOLVE) > local(2026, 11, 6)


def test_extension_within_the_cap_moves_the_deadline() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    before = due(case, Clock.RESOLVE)
    with pytest.raises(ValidationFailed):
        casework.request_extension(
            case, staff("handler"), 11, "太多", version=None, now=local(2026, 11, 3, 9, 0)
        )
    casework.request_extension(
        case, staff("handler"), 4, "需要联合勘查", version=None, now=local(2026, 11, 3, 9, 0)
    )
    with pytest.raises(NotAllowed, match="already waiting"):
        casework.request_extension(
            case, staff("handler"), 2, "再申请", version=None, now=local(2026, 11, 3, 9, 5)
        )
    with pytest.raises(NotAllowed):  # the handler does not decide
        decisions.decide_request(RequestKind.EXTENSION, case, staff("handler"), True, version=None)
    decisions.decide_request(
        RequestKind.EXTENSION,
        case,
        staff("supervisor"),
        True,
        "同意",
        version=None,
        now=local(2026, 11, 3, 11, 0),
    )
    assert before == local(2026, 11, 6)  # end of Thursday 5 November
    assert due(case, Clock.RESOLVE) == local(2026, 11, 12)  # + Fri, Mon, Tue, Wed
    casework.request_extension(
        case, staff("handler"), 6, "仍需时间", version=None, now=local(2026, 11, 4, 9, 0)
    )
    decisions.decide_request(
        RequestKind.EXTENSION,
        case,
        staff("supervisor"),
        True,
        version=None,
        now=local(2026, 11, 4, 10, 0),
    )
    with pytest.raises(ValidationFailed):  # 10 working days used: the cap
        casework.request_extension(
            case, staff("handler"), 1, "再延", version=None, now=local(2026, 11, 4, 11, 0)
        )


def test_a_petition_extension_is_decided_by_the_department_lead() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION, category="petition")
    casework.request_extension(case, staff("handler"), 30, "需调取档案", version=None)
    with pytest.raises(NotAllowed):
        decisions.decide_request(
            RequestKind.EXTENSION, case, staff("supervisor"), True, version=None
        )
    decisions.decide_request(RequestKind.EXTENSION, case, staff("lead"), True, version=None)
    assert case.requests[0].status is RequestStatus.APPROVED


def test_a_pending_request_is_cancelled_when_the_case_leaves_its_status() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    casework.request_extension(case, staff("handler"), 2, "需要时间", version=None)
    casework.resolve_case(case, staff("handler"), "已处理", version=None)
    request = db.session.scalar(sa.select(CaseRequest).where(CaseRequest.case_id == case.id))
    assert request.status is RequestStatus.CANCELLED
    assert EventAction.CANCEL_REQUEST in events(case)


def test_direct_return_only_within_two_working_days_then_by_request() -> None:
    case = new_case(now=local(2026, 11, 2, 9, 0))
    intake.dispatch_case(
        case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 10, 0)
    )
    late = local(2026, 11, 5, 9, 0)  # past the end of Wednesday 4 November
    with pytest.raises(NotAllowed, match="ask for a return instead"):
        casework.return_case(case, staff("handler"), "不属于本单位", version=None, now=late)
    casework.request_return(case, staff("handler"), "不属于本单位", version=None, now=late)
    assert case.status is CaseStatus.DISPATCHED
    decisions.decide_request(
        RequestKind.RETURN,
        case,
        staff("supervisor"),
        True,
        "同意退回",
        version=None,
        now=late + timedelta(hours=1),
    )
    assert case.status is CaseStatus.RETURNED


def test_redo_gives_a_fresh_period_and_past_two_redos_a_supervisor_decides() -> None:
    case = case_in(CaseStatus.RESOLVED, now=local(2026, 11, 2, 9, 0))
    for round_, day in ((1, 9), (2, 16)):
        closing.rate_case(
            case,
            Actor.citizen(),
            False,
            Satisfaction.UNSATISFIED,
            version=None,
            now=local(2026, 11, day, 9, 0),
        )
        assert case.status is CaseStatus.IN_PROGRESS and case.reopen_count == round_
        # A fresh resolve period from the redo: 3 working days.
        assert due(case, Clock.RESOLVE) == local(2026, 11, day + 4)
        casework.resolve_case(
            case, staff("handler"), "再次处理", version=None, now=local(2026, 11, day, 15, 0)
        )
    closing.rate_case(
        case,
        Actor.citizen(),
        False,
        Satisfaction.UNSATISFIED,
        version=None,
        now=local(2026, 11, 23, 9, 0),
    )
    assert case.status is CaseStatus.RESOLVED and case.reopen_count == 2
    assert deadlines.running(case) == []  # no clock closes it meanwhile
    decisions.decide_request(
        RequestKind.REDO,
        case,
        staff("supervisor"),
        False,
        "已依法依规处理到位",
        version=None,
        now=local(2026, 11, 24, 9, 0),
    )
    assert case.status is CaseStatus.CLOSED


def test_only_the_filer_rates_and_staff_of_the_department_never_do() -> None:
    case = case_in(CaseStatus.RESOLVED)
    with pytest.raises(NotAllowed):
        closing.rate_case(case, staff("handler"), True, Satisfaction.SATISFIED, version=None)
    with pytest.raises(NotAllowed):
        closing.rate_case(
            case, Actor.citizen(follower_id=1), True, Satisfaction.SATISFIED, version=None
        )
    closing.rate_case(
        case, staff("intake"), True, Satisfaction.BASICALLY_SATISFIED, "回访电话记录", version=None
    )
    assert case.status is CaseStatus.CLOSED


def test_reopen_only_within_30_days_of_the_close() -> None:
    case = case_in(CaseStatus.CLOSED, now=local(2026, 10, 1, 9, 0))
    with pytest.raises(NotAllowed, match="30 days"):
        closing.reopen_case(
            case, staff("supervisor"), "复发", version=None, now=case.closed_at + timedelta(days=31)
        )
    closing.reopen_case(
        case, staff("supervisor"), "复发", version=None, now=case.closed_at + timedelta(days=29)
    )
    assert case.status is CaseStatus.IN_PROGRESS and case.close_reason is None


def test_a_stale_version_is_refused_and_changes_nothing() -> None:
    case = new_case()
    seen = case.version
    intake.dispatch_case(case, staff("intake"), department("zjj").id, version=seen)
    with pytest.raises(StaleVersion):
        supervision.urge_case(case, staff("supervisor"), "加快办理", version=seen)
    assert EventAction.URGE not in events(case)


def test_every_action_writes_one_event_with_the_snapshot() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    assert events(case) == [EventAction.SUBMIT, EventAction.DISPATCH, EventAction.SIGN_FOR]
    sign = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()
    assert sign.department_id == department("zjj").id
    assert sign.handler_id == user("handler").id
    assert sign.category_id == case.category_id
    assert sign.deadline_at == case.next_deadline_at
    assert (sign.from_status, sign.to_status) == (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS)


def test_citizen_notices_are_queued_once_each_with_an_idempotency_key() -> None:
    case = case_in(CaseStatus.CLOSED)
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)
    ).all()
    assert [r.template for r in rows] == ["receipt", "acceptance", "answer", "closing"]
    assert all(r.recipient == "13812345678" and r.channel == "sms" for r in rows)
    assert len({r.idempotency_key for r in rows}) == len(rows)


def test_a_citizen_who_filed_twice_gets_one_notice_per_step() -> None:
    """The same phone filed a case and its duplicate: once merged, it is told once."""
    survivor = case_in(CaseStatus.IN_PROGRESS)
    duplicate = new_case(title="红旗西街人行道又坏了")
    intake.merge_case(duplicate, staff("intake"), survivor, version=None)
    casework.resolve_case(survivor, staff("handler"), "已修复。", version=None)
    answers = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.case_id == survivor.id, OutboxMessage.template == "answer"
        )
    ).all()
    assert [r.recipient for r in answers] == ["13812345678"]


def test_no_notice_for_a_citizen_who_wants_none() -> None:
    from caseapp.models.enums import NotifyBy

    case = new_case(notify_by=NotifyBy.NONE)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.case_id == case.id)
        )
        == 0
    )


@pytest.mark.parametrize("kind", [CaseKind.REPORT, CaseKind.PETITION])
def test_identity_is_hidden_from_departments_for_reports_and_petitions(kind: CaseKind) -> None:
    case = case_in(
        CaseStatus.IN_PROGRESS,
        kind=kind,
        category="fraud" if kind is CaseKind.REPORT else "petition",
    )
    with pytest.raises(NotAllowed):
        supervision.reveal_contact(case, staff("handler"))
    contact = supervision.reveal_contact(case, staff("intake"))
    assert contact.phone == "13812345678"
    assert events(case)[-1] is EventAction.REVEAL_CONTACT


def test_a_department_may_reveal_an_ordinary_case_and_the_reveal_is_recorded() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    assert supervision.reveal_contact(case, staff("handler")).name == "张秀英"
    with pytest.raises(NotAllowed):
        supervision.reveal_contact(case, staff("handler2"))
    reveal = [
        e
        for e in db.session.scalars(case.events.select())
        if e.action is EventAction.REVEAL_CONTACT
    ]
    assert len(reveal) == 1 and reveal[0].actor_id == user("handler").id


def test_petition_review_then_re_review_then_final() -> None:
    start = local(2026, 9, 1, 9, 0)
    case = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition", now=start)
    assert case.decision is PetitionDecision.SUPPORTED
    review, _key = closing.request_review(
        case, Actor.citizen(), "不服，申请复查", now=start + timedelta(days=10)
    )
    assert (
        review.review_of_id == case.id
        and review.review_level == 1
        and review.kind is CaseKind.PETITION
    )
    request = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()
    assert request.data["review_body"] == "xfj"  # 住建局 has no parent: the petition bureau
    with pytest.raises(NotAllowed, match="already"):
        closing.request_review(case, Actor.citizen(), "再次申请", now=start + timedelta(days=11))
    later = start + timedelta(days=12)
    # Placed with the review body as it was filed (issue 16, finding 5).
    assert (
        review.status is CaseStatus.DISPATCHED and review.lead_department_id == department("xfj").id
    )
    bureau = Actor.staff(
        create_user("xfj-handler", "long-enough-pw", "信访局承办人", [Role.HANDLER], "xfj")
    )
    casework.sign_for_case(review, bureau, version=None, now=later)
    casework.resolve_case(
        review,
        bureau,
        "维持原意见",
        version=None,
        decision=PetitionDecision.NOT_SUPPORTED,
        now=later,
    )
    re_review, _ = closing.request_review(
        review, Actor.citizen(), "申请复核", now=later + timedelta(days=1)
    )
    assert re_review.review_level == 2 and re_review.title.startswith("复核")
    # The bureau decided the review and has no parent: it does not re-review its own
    # decision; intake places the re-review with the body above by hand.
    assert re_review.status is CaseStatus.NEW and re_review.lead_department_id is None
    intake.dispatch_case(
        re_review, staff("intake"), department("zfbgs").id, version=None, now=later
    )
    above = Actor.staff(
        create_user(
            "zfbgs-handler", "long-enough-pw", "市政府办公室承办人", [Role.HANDLER], "zfbgs"
        )
    )
    casework.sign_for_case(re_review, above, version=None, now=later)
    casework.resolve_case(
        re_review,
        above,
        "复核维持",
        version=None,
        decision=PetitionDecision.NOT_SUPPORTED,
        now=later,
    )
    with pytest.raises(NotAllowed, match="final"):
        closing.request_review(re_review, Actor.citizen(), "还不服", now=later + timedelta(days=2))
    # Filing the same matter again is flagged and cannot be accepted.
    again = new_case(kind=CaseKind.PETITION, category="petition", now=later + timedelta(days=3))
    assert again.repeat_of_final
    with pytest.raises(NotAllowed, match="re-review"):
        intake.dispatch_case(again, staff("intake"), department("zjj").id, version=None)


def test_a_review_must_be_asked_within_30_days() -> None:
    case = case_in(
        CaseStatus.RESOLVED,
        kind=CaseKind.PETITION,
        category="petition",
        now=local(2026, 9, 1, 9, 0),
    )
    with pytest.raises(NotAllowed, match="30 days"):
        closing.request_review(case, Actor.citizen(), "申请复查", now=local(2026, 10, 15, 9, 0))


def test_the_public_rule_never_lists_petitions_or_reports() -> None:
    ordinary = new_case()
    case_in(CaseStatus.NEW, kind=CaseKind.PETITION, category="petition")
    case_in(CaseStatus.NEW, kind=CaseKind.REPORT, category="fraud")
    assert db.session.scalars(public_cases()).all() == [ordinary]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "坏\x00标题"}, "title"),
        ({"description": "x" * 4001}, "description"),
        ({"citizen_phone": "12345"}, "citizen_phone"),
        ({"citizen_phone": "0359-2345678"}, "citizen_phone"),  # a landline: the web needs a mobile
        ({"citizen_name": ""}, "citizen_name"),
        ({"citizen_email": "not-an-address"}, "citizen_email"),
        ({"consent_privacy": False}, "consent_privacy"),
        ({"category": "no-such-category"}, "category"),
        ({"anonymous": True}, "anonymous"),  # road damage does not take anonymous requests
        ({"latitude": 95.0, "longitude": 110.0}, "latitude"),
        ({"received_at": datetime(2026, 1, 1, tzinfo=UTC)}, "received_at"),  # only staff set it
    ],
)
def test_a_bad_filing_is_refused_by_field_and_saves_nothing(fields: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        new_case(**fields)
    assert field in error.value.field_errors
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_staff_file_for_a_citizen_with_a_landline_or_a_postal_address() -> None:
    from caseapp.models.enums import Channel
    from caseapp.services.filing.cases import NewCase, submit_case

    letter_day = local(2026, 11, 20, 0, 0)
    case, _ = submit_case(
        NewCase(
            kind=CaseKind.HELP,
            category_code="water",
            title="来信反映停水",
            description="来信内容",
            channel=Channel.LETTER,
            citizen_name="李建华",
            citizen_phone="",
            citizen_postal_address="运城市盐湖区人民路1号",
            received_at=letter_day,
        ),
        staff("intake"),
    )
    assert case.received_at == letter_day and case.first_responsible_id == user("intake").id
    phoned, _ = submit_case(
        NewCase(
            kind=CaseKind.HELP,
            category_code="water",
            title="电话反映停水",
            description="电话内容",
            channel=Channel.PHONE,
            citizen_name="王桂兰",
            citizen_phone="0359-2345678",
        ),
        staff("intake"),
    )
    assert phoned.citizen_phone == "03592345678"
    with pytest.raises(NotAllowed):
        submit_case(
            NewCase(
                kind=CaseKind.HELP,
                category_code="water",
                title="t",
                description="d",
                channel=Channel.PHONE,
                citizen_name="x",
                citizen_phone="13812345678",
            ),
            staff("handler"),
        )


def test_every_action_moves_the_version_even_when_the_row_would_not_change() -> None:
    """Two notes at the same instant write identical case columns; the second must still
    move the version, or a concurrent writer's check would pass (found by the
    concurrent-sweep test on PostgreSQL)."""
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    moment = local(2026, 11, 2, 10, 0)
    casework.add_note(case, staff("handler"), "第一条", version=case.version, now=moment)
    before = case.version
    casework.add_note(case, staff("handler"), "第二条", version=case.version, now=moment)
    assert case.version == before + 1


# --- issue 16: every case with its holder and its clocks ------------------------------------


def test_a_case_asked_about_at_intake_is_not_reassigned_before_its_dispatch() -> None:
    """Issue 16, finding 1: file → intake asks the citizen → a supervisor reassigns left
    the case dispatched with no acceptance, the accept clock running and no resolve
    clock. Reassign is for cases a department holds; the first dispatch accepts."""
    case = new_case(now=local(2026, 11, 2, 9, 0))  # Monday
    casework.ask_citizen(
        case, staff("intake"), "请说明具体位置", version=None, now=local(2026, 11, 2, 10, 0)
    )
    with pytest.raises(NotAllowed, match="dispatch"):
        casework.reassign_case(
            case,
            staff("supervisor"),
            department("cgj").id,
            "职责调整",
            version=None,
            now=local(2026, 11, 2, 11, 0),
        )
    assert case.status is CaseStatus.AWAITING_CITIZEN and case.lead_department_id is None
    assert EventAction.REASSIGN not in events(case)
    casework.citizen_replies(
        case, Actor.citizen(), "红旗西街12号门前", version=None, now=local(2026, 11, 3, 9, 0)
    )
    intake.dispatch_case(
        case, staff("supervisor"), department("cgj").id, version=None, now=local(2026, 11, 3, 10, 0)
    )
    assert case.status is CaseStatus.DISPATCHED and case.accepted_at == local(2026, 11, 3, 10, 0)
    assert deadlines.running(case, Clock.ACCEPT) == []
    assert due(case, Clock.RESOLVE) == local(2026, 11, 7)  # 3 working days: end of Friday


def test_a_case_held_by_a_department_and_awaiting_the_citizen_is_reassigned() -> None:
    case = case_in(CaseStatus.AWAITING_CITIZEN, now=local(2026, 11, 2, 9, 0))
    promised = deadlines.running(case, Clock.RESOLVE)[0].due_at
    casework.reassign_case(
        case, staff("supervisor"), department("cgj").id, "职责调整", version=None,
        now=local(2026, 11, 3, 9, 0),
    )  # fmt: skip
    assert case.status is CaseStatus.DISPATCHED and case.lead_department_id == department("cgj").id
    # The pause ended: the resolve deadline moved by the one working day begun in it.
    assert promised.astimezone(TZ) == local(2026, 11, 6)  # end of Thursday
    assert due(case, Clock.RESOLVE) == local(2026, 11, 7)  # end of Friday


def test_dispatch_after_a_reinstated_rejection_keeps_the_resolve_promise() -> None:
    """Issue 16, finding 3: dispatch → return → reject → reinstate → dispatch left no
    resolve clock (no deadline, no extension). The promise of the first dispatch stands:
    it neither restarts nor goes missing."""
    case = new_case(now=local(2026, 11, 2, 9, 0))
    intake.dispatch_case(
        case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 10, 0)
    )
    promised = due(case, Clock.RESOLVE)
    assert promised == local(2026, 11, 6)
    casework.return_case(
        case, staff("handler"), "不属于本单位", version=None, now=local(2026, 11, 3, 9, 0)
    )
    intake.reject_case(
        case, staff("intake"), "不属于受理范围", version=None, now=local(2026, 11, 3, 10, 0)
    )
    assert deadlines.running(case) == []
    intake.reinstate_case(
        case, staff("supervisor"), "误驳回", version=None, now=local(2026, 11, 3, 11, 0)
    )
    assert case.status is CaseStatus.NEW
    assert due(case, Clock.RESOLVE) == promised  # the accepted case keeps its one promise
    intake.dispatch_case(
        case, staff("intake"), department("cgj").id, version=None, now=local(2026, 11, 3, 14, 0)
    )
    assert due(case, Clock.RESOLVE) == promised
    assert case.next_deadline_at is not None
    casework.sign_for_case(case, staff("handler2"), version=None, now=local(2026, 11, 3, 15, 0))
    casework.request_extension(
        case, staff("handler2"), 2, "需要现场勘查", version=None, now=local(2026, 11, 4, 9, 0)
    )
    decisions.decide_request(
        RequestKind.EXTENSION,
        case,
        staff("supervisor"),
        True,
        "同意",
        version=None,
        now=local(2026, 11, 4, 10, 0),
    )
    assert due(case, Clock.RESOLVE) == local(2026, 11, 10)  # + Friday and Monday


def test_a_lead_does_not_approve_the_petition_extension_they_asked_for() -> None:
    """Issue 16, finding 7: nobody decides their own request."""
    case = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION, category="petition")
    casework.request_extension(case, staff("lead"), 10, "需调取档案", version=None)
    with pytest.raises(NotAllowed, match="own request"):
        decisions.decide_request(RequestKind.EXTENSION, case, staff("lead"), True, version=None)
    assert case.requests[0].status is RequestStatus.PENDING
    other_lead = Actor.staff(
        create_user("lead-b", "long-enough-pw", "住建局副局长", [Role.LEAD], "zjj")
    )
    decisions.decide_request(RequestKind.EXTENSION, case, other_lead, True, version=None)
    assert case.requests[0].status is RequestStatus.APPROVED


def test_a_supervisor_who_is_also_a_lead_does_not_approve_their_own_return() -> None:
    both = Actor.staff(
        create_user("sup-lead", "long-enough-pw", "兼任负责人", [Role.SUPERVISOR, Role.LEAD], "zjj")
    )
    case = new_case(now=local(2026, 11, 2, 9, 0))
    intake.dispatch_case(
        case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 10, 0)
    )
    late = local(2026, 11, 5, 9, 0)
    casework.request_return(case, both, "不属于本单位", version=None, now=late)
    with pytest.raises(NotAllowed, match="own request"):
        decisions.decide_request(
            RequestKind.RETURN, case, both, True, "同意", version=None, now=late
        )
    decisions.decide_request(
        RequestKind.RETURN, case, staff("supervisor"), True, "同意", version=None, now=late
    )
    assert case.status is CaseStatus.RETURNED


def test_a_supervisor_who_recorded_the_rating_does_not_decide_the_further_redo() -> None:
    case = case_in(CaseStatus.RESOLVED, now=local(2026, 11, 2, 9, 0))
    for day in (9, 16):
        closing.rate_case(
            case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None,
            now=local(2026, 11, day, 9, 0),
        )  # fmt: skip
        casework.resolve_case(
            case, staff("handler"), "再次处理", version=None, now=local(2026, 11, day, 15, 0)
        )
    closing.rate_case(
        case, staff("supervisor"), False, Satisfaction.UNSATISFIED, "回访电话记录", version=None,
        now=local(2026, 11, 23, 9, 0),
    )  # fmt: skip
    with pytest.raises(NotAllowed, match="own request"):
        decisions.decide_request(
            RequestKind.REDO, case, staff("supervisor"), False, "不再重办", version=None
        )
    other = Actor.staff(create_user("sup-b", "long-enough-pw", "督办二", [Role.SUPERVISOR], None))
    decisions.decide_request(RequestKind.REDO, case, other, False, "不再重办", version=None)
    assert case.status is CaseStatus.CLOSED
