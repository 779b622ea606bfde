"""Staff notices of urging and approvals (DESIGN §8): who is told, in the inbox and by
email where they have one, in the transaction of the action that causes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, InboxMessage, OutboxMessage, User
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Clock,
    OutboxChannel,
    RequestKind,
    Satisfaction,
)
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, decisions, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, StaleVersion, ValidationFailed
from caseapp.services.notices import staff as staff_notices
from tests.factories import case_in, department, new_case, staff, user

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def inbox(kind: str) -> dict[str, dict]:
    """username → params of the notices of ``kind``."""
    rows = db.session.scalars(sa.select(InboxMessage).where(InboxMessage.kind == kind)).all()
    return {db.session.get(User, row.user_id).username: row.params for row in rows}


def emails(template_prefix: str = "staff_") -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template.startswith(template_prefix))
            .order_by(OutboxMessage.id)
        )
    )


def give_email(username: str) -> str:
    address = f"{username}@example.cn"
    user(username).email = address
    db.session.commit()
    return address


def test_an_urge_tells_the_handler_and_the_department_leads() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    address = give_email("handler")
    supervision.urge_case(case, staff("supervisor"), "请于本周内办结", version=case.version)
    told = inbox("urged")
    assert set(told) == {"handler", "lead"}
    assert told["handler"] == {"number": case.number, "title": case.title, "text": "请于本周内办结"}
    [mail] = emails()  # the lead has no email address
    assert (mail.recipient, mail.template, mail.channel) == (
        address,
        "staff_urged",
        OutboxChannel.EMAIL,
    )


def test_an_extension_request_tells_the_supervisors() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    address = give_email("supervisor")
    casework.request_extension(case, staff("handler"), 3, "需要联合勘查", version=None)
    told = inbox("approval_waiting")
    assert set(told) == {"supervisor"}
    assert told["supervisor"] == {
        "kind": "extension",
        "number": case.number,
        "title": case.title,
        "days": 3,
    }
    [mail] = emails()
    assert (mail.recipient, mail.template) == (address, "staff_extension_waiting")


def test_a_petition_extension_tells_the_department_leads_not_the_supervisors() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION, category="petition")
    casework.request_extension(case, staff("handler"), 10, "需调取档案", version=None)
    assert set(inbox("approval_waiting")) == {"lead"}


def test_a_late_return_request_tells_the_supervisors_and_the_decision_the_asker() -> None:
    case = new_case(now=local(2026, 11, 2, 9, 0))
    intake.dispatch_case(
        case, staff("intake"), department("zjj").id, version=None, now=local(2026, 11, 2, 10, 0)
    )
    late = local(2026, 11, 5, 9, 0)  # past the 2 working days
    casework.request_return(case, staff("lead"), "不属于本单位", version=None, now=late)
    assert inbox("approval_waiting") == {
        "supervisor": {"kind": "return", "number": case.number, "title": case.title}
    }
    decisions.decide_request(
        RequestKind.RETURN,
        case,
        staff("supervisor"),
        False,
        "属于本单位职责",
        version=None,
        now=late,
    )
    assert inbox("approval_decided") == {
        "lead": {"kind": "return", "approved": False, "number": case.number, "title": case.title}
    }


def test_an_approved_return_tells_the_handler_it_took_the_case_from() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    late = local(2026, 11, 9, 9, 0)
    casework.request_return(case, staff("lead"), "不属于本单位", version=None, now=late)
    decisions.decide_request(
        RequestKind.RETURN, case, staff("supervisor"), True, "同意", version=None, now=late
    )
    assert case.status is CaseStatus.RETURNED and case.handler_id is None
    assert set(inbox("approval_decided")) == {"lead", "handler"}


def test_a_redo_past_the_second_tells_the_supervisors_and_the_decision_the_handler() -> None:
    case = case_in(CaseStatus.RESOLVED, now=local(2026, 11, 2, 9, 0))
    case.reopen_count = 2  # two redos already
    db.session.commit()
    closing.rate_case(
        case, staff("intake"), False, Satisfaction.UNSATISFIED, "仍未修好", version=None
    )
    assert inbox("approval_waiting") == {
        "supervisor": {"kind": "redo", "number": case.number, "title": case.title}
    }
    decisions.decide_request(
        RequestKind.REDO, case, staff("supervisor"), True, "再次重办", version=None
    )
    told = inbox("approval_decided")
    assert set(told) == {"intake", "handler"}  # who recorded the call, and the handler
    assert told["handler"]["approved"] is True and "due" not in told["handler"]


def test_an_approved_extension_tells_the_asker_the_new_deadline() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    address = give_email("handler")
    casework.request_extension(
        case, staff("handler"), 4, "需要联合勘查", version=None, now=local(2026, 11, 3, 9, 0)
    )
    decisions.decide_request(
        RequestKind.EXTENSION,
        case,
        staff("supervisor"),
        True,
        "同意",
        version=None,
        now=local(2026, 11, 3, 11, 0),
    )
    new_due = deadlines.running(case, Clock.RESOLVE)[0].due_at
    assert new_due == local(2026, 11, 12)
    told = inbox("approval_decided")
    assert set(told) == {"handler"}  # the asker is the handler: told once
    assert told["handler"] == {
        "kind": "extension",
        "approved": True,
        "number": case.number,
        "title": case.title,
        "due": new_due.isoformat(),
    }
    [mail] = emails()
    assert (mail.recipient, mail.template) == (address, "staff_extension_approved")


def test_a_denied_extension_names_no_deadline() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    give_email("handler")
    casework.request_extension(case, staff("handler"), 2, "需要时间", version=None)
    decisions.decide_request(
        RequestKind.EXTENSION, case, staff("supervisor"), False, "可按期办结", version=None
    )
    told = inbox("approval_decided")
    assert told["handler"]["approved"] is False and "due" not in told["handler"]
    [mail] = emails()
    assert mail.template == "staff_approval_decided"


@pytest.mark.parametrize(
    ("act", "error"),
    [
        (
            lambda case: supervision.urge_case(
                case, staff("supervisor"), "请加快", version=case.version - 1
            ),
            StaleVersion,
        ),
        (
            lambda case: casework.request_extension(
                case, staff("handler"), 2, "需要时间", version=case.version - 1
            ),
            StaleVersion,
        ),
        (
            lambda case: casework.request_extension(
                case, staff("handler"), 30, "需要时间", version=case.version
            ),
            ValidationFailed,  # over the cap
        ),
        (
            lambda case: supervision.urge_case(case, staff("handler"), "请加快", version=None),
            NotAllowed,
        ),
    ],
    ids=["urge-stale", "extension-stale", "extension-over-cap", "urge-not-allowed"],
)
def test_nothing_is_told_when_the_action_fails(
    act: Callable[[Case], object], error: type[Exception]
) -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    give_email("handler")
    give_email("supervisor")
    with pytest.raises(error):
        act(case)
    db.session.commit()  # whatever the failed action left in the session
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == 0
    assert emails() == []


def test_a_decision_on_a_stale_version_tells_no_one() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    casework.request_extension(case, staff("handler"), 2, "需要时间", version=None)
    stale = case.version - 1
    with pytest.raises(StaleVersion):
        decisions.decide_request(
            RequestKind.EXTENSION, case, staff("supervisor"), True, version=stale
        )
    db.session.rollback()
    assert inbox("approval_decided") == {}


def test_an_inactive_user_and_the_actor_are_not_told() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    user("lead").active = False
    db.session.commit()
    supervision.urge_case(case, staff("supervisor"), "请加快", version=None)
    assert set(inbox("urged")) == {"handler"}


def test_an_unknown_kind_of_notice_is_refused() -> None:
    case = case_in(CaseStatus.NEW)
    with pytest.raises(ValueError, match="unknown staff notice"):
        staff_notices.notify_staff([user("handler")], case, "gossip", "k", {}, case.received_at)


def test_the_sweep_writes_its_notices_through_the_same_builder() -> None:
    from caseapp.services.casework.sweep import run_sweep

    case = case_in(CaseStatus.IN_PROGRESS, now=local(2026, 11, 2, 9, 0))
    address = give_email("lead")
    run_sweep(now=local(2026, 11, 9, 9, 0))
    rows = db.session.scalars(
        sa.select(InboxMessage).where(InboxMessage.user_id == user("lead").id)
    ).all()
    assert {row.kind for row in rows} == {"escalation_2"}
    assert all(row.dedupe_key.endswith(f":{user('lead').id}") for row in rows)
    mails = [m for m in emails() if m.recipient == address]
    assert mails and {m.template for m in mails} == {"staff_escalation"}
    assert case.id == rows[0].case_id


# --- notices both ways (issue 18) -----------------------------------------------------------


def test_a_handler_is_told_when_a_case_is_given_to_them_not_when_they_take_it() -> None:
    named = new_case()
    intake.dispatch_case(
        named, staff("intake"), department("zjj").id, version=None, handler_id=user("handler").id
    )
    assert set(inbox("assigned")) == {"handler"}
    assert inbox("assigned")["handler"]["number"] == named.number
    db.session.execute(sa.delete(InboxMessage))
    db.session.commit()
    taken = case_in(CaseStatus.DISPATCHED)
    casework.sign_for_case(taken, staff("handler"), version=None)
    assert inbox("assigned") == {}
    by_lead = case_in(CaseStatus.DISPATCHED)
    casework.sign_for_case(by_lead, staff("lead"), version=None, handler_id=user("handler").id)
    assert set(inbox("assigned")) == {"handler"}


def test_the_handler_is_told_when_the_citizen_answers_or_adds_information() -> None:
    asked = case_in(CaseStatus.AWAITING_CITIZEN)
    casework.citizen_replies(asked, Actor.citizen(), "在人民路中段。", version=None)
    assert inbox("citizen_answered") == {
        "handler": {"number": asked.number, "title": asked.title, "text": "在人民路中段。"}
    }
    db.session.execute(sa.delete(InboxMessage))
    db.session.commit()
    new = new_case()  # no department yet: intake is told
    casework.add_information(new, Actor.citizen(), "补充照片一张。")
    assert set(inbox("citizen_answered")) == {"intake"}


def test_an_unsatisfied_rating_tells_the_handler_and_the_leads() -> None:
    case = case_in(CaseStatus.RESOLVED)
    closing.rate_case(case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None)
    assert set(inbox("rated_unsatisfied")) == {"handler", "lead"}
    other = case_in(CaseStatus.RESOLVED)
    closing.rate_case(other, Actor.citizen(), True, Satisfaction.SATISFIED, version=None)
    assert {p["number"] for p in inbox("rated_unsatisfied").values()} == {case.number}


def test_the_citizen_is_told_of_an_approved_extension_and_its_new_date() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    casework.request_extension(case, staff("handler"), 3, "需要协调。", version=None)
    before = {m.id for m in db.session.scalars(sa.select(OutboxMessage))}
    decisions.decide_request(RequestKind.EXTENSION, case, staff("supervisor"), True, version=None)
    sent = [
        m
        for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        if m.id not in before and m.template == "extension"
    ]
    due = deadlines.running(case, Clock.RESOLVE)[0].due_at
    assert len(sent) == 1 and sent[0].params["resolve_by"] == due.isoformat()
    denied = case_in(CaseStatus.IN_PROGRESS)
    casework.request_extension(denied, staff("handler"), 3, "需要协调。", version=None)
    decisions.decide_request(
        RequestKind.EXTENSION, denied, staff("supervisor"), False, "可按期办结", version=None
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                OutboxMessage.template == "extension", OutboxMessage.case_id == denied.id
            )
        )
        == 0
    )
