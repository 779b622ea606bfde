"""Supervision (services.casework.supervision): the actions around a case that leave its
status — urge (督办) puts every escalating clock at level 3, the responsible leader must
be an active leader, legacy marking and ledger links write a ledger item, revealing the
citizen's contact is an event each time. Each refusal leaves the case as it was.

Who may take each action in which status: tests/workflow/test_lifecycle_table.py; the
case plan: test_plans.py; escalation after an urge: test_escalation.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, LedgerItem, LedgerItemCase
from caseapp.models.enums import CaseKind, CaseStatus, EventAction, Role
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import intake, supervision
from caseapp.services.errors import NotAllowed, StaleVersion, ValidationFailed
from caseapp.services.ledgers import items as ledgers
from caseapp.workflow.deadlines import ESCALATING_CLOCKS, LEVEL_NONE, LEVEL_SUPERVISED
from caseapp.workflow.lifecycle import rules_for
from tests import factories
from tests.factories import case_in, new_case, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday
NOW = T0 + timedelta(hours=1)
URGEABLE = sorted(s for s in CaseStatus if rules_for(EventAction.URGE, s, CaseKind.HELP))


def actions(case: Case) -> list[EventAction]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def last_event(case: Case) -> CaseEvent:
    return db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()


def levels(case: Case) -> dict[str, int]:
    return {str(row.clock): row.escalation_level for row in deadlines.running(case)}


# --- urge ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", URGEABLE, ids=str)
def test_an_urge_puts_every_running_escalating_clock_at_level_3_and_no_other(
    status: CaseStatus,
) -> None:
    case = case_in(status, now=T0)
    before = levels(case)
    assert before and all(level == LEVEL_NONE for level in before.values())
    supervision.urge_case(
        case, staff("supervisor"), "请本周内办结。", version=case.version, now=NOW
    )
    escalating = {str(c) for c in ESCALATING_CLOCKS}
    assert levels(case) == {
        clock: LEVEL_SUPERVISED if clock in escalating else level for clock, level in before.items()
    }
    assert case.status is status
    event = last_event(case)
    assert (event.action, event.internal_text, event.actor_id) == (
        EventAction.URGE,
        "请本周内办结。",
        user("supervisor").id,
    )


def test_a_paused_clock_is_urged_too_and_stays_paused() -> None:
    case = case_in(CaseStatus.AWAITING_CITIZEN, now=T0, leader=True)
    [resolve] = deadlines.running(case, deadlines.Clock.RESOLVE)
    paused_at = resolve.paused_at
    assert paused_at is not None
    supervision.urge_case(case, staff("leader"), "加快办理", version=None, now=NOW)
    assert resolve.escalation_level == LEVEL_SUPERVISED and resolve.paused_at == paused_at


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t"], ids=["empty", "spaces", "newlines"])
def test_an_urge_without_text_is_refused_and_changes_nothing(text: str) -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=T0)
    version, before, written = case.version, levels(case), actions(case)
    with pytest.raises(ValidationFailed) as refused:
        supervision.urge_case(case, staff("supervisor"), text, version=version, now=NOW)
    assert "text" in refused.value.field_errors
    assert (case.version, levels(case), actions(case)) == (version, before, written)


# --- the responsible leader ------------------------------------------------------------------


def test_the_responsible_leader_is_set_and_named_in_the_event() -> None:
    case = case_in(CaseStatus.DISPATCHED, now=T0)
    version = case.version
    supervision.set_responsible_leader(
        case, staff("supervisor"), user("leader").id, version=version, now=NOW
    )
    db.session.expire_all()
    assert case.responsible_leader_id == user("leader").id
    assert case.version == version + 1
    event = last_event(case)
    assert (event.action, event.data) == (EventAction.SET_LEADER, {"leader": "leader"})


def _inactive_leader() -> int:
    former = create_user("former-leader", "long-enough-pw", "原包联领导", [Role.LEADER])
    former.active = False
    db.session.commit()
    return former.id


NOT_LEADERS = {
    "no such user": lambda: 99999,
    "a supervisor": lambda: user("supervisor").id,
    "a handler": lambda: user("handler").id,
    "an inactive leader": _inactive_leader,
}


@pytest.mark.parametrize("who", list(NOT_LEADERS.values()), ids=list(NOT_LEADERS))
def test_only_an_active_leader_is_named_and_a_refusal_changes_nothing(who) -> None:  # type: ignore[no-untyped-def]
    case = case_in(CaseStatus.IN_PROGRESS, now=T0, leader=True)
    leader_id = user("leader").id
    leader_id_before, version, written = case.responsible_leader_id, case.version, actions(case)
    assert leader_id_before == leader_id
    with pytest.raises(ValidationFailed) as refused:
        supervision.set_responsible_leader(case, staff("supervisor"), who(), version=None, now=NOW)
    assert refused.value.field_errors == {"leader": "Choose a responsible leader."}
    db.session.expire_all()
    assert (case.responsible_leader_id, case.version, actions(case)) == (
        leader_id,
        version,
        written,
    )


def test_a_stale_version_is_refused_before_the_leader_changes() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=T0)
    seen = case.version
    supervision.urge_case(case, staff("supervisor"), "加快办理", version=seen, now=NOW)
    with pytest.raises(StaleVersion):
        supervision.set_responsible_leader(
            case, staff("supervisor"), user("leader").id, version=seen, now=NOW
        )
    db.session.expire_all()
    assert case.responsible_leader_id is None
    assert EventAction.SET_LEADER not in actions(case)


# --- legacy and ledger items -----------------------------------------------------------------


def test_marking_legacy_is_an_event_and_files_the_case_s_item_in_the_legacy_ledger() -> None:
    legacy = factories.legacy_ledger()
    case = case_in(CaseStatus.IN_PROGRESS, now=T0, leader=True)
    item = supervision.mark_legacy(case, staff("intake"), version=case.version, now=NOW)
    assert (item.ledger_id, item.code, item.title) == (legacy.id, case.number, case.title)
    assert item.owner_department_id == case.lead_department_id
    assert item.responsible_leader_id == user("leader").id
    assert last_event(case).action is EventAction.MARK_LEGACY
    assert ledgers.items_of(case) == [item] and case.is_legacy


def test_a_stale_mark_legacy_writes_no_item() -> None:
    factories.legacy_ledger()
    case = case_in(CaseStatus.IN_PROGRESS, now=T0)
    with pytest.raises(StaleVersion):
        supervision.mark_legacy(case, staff("supervisor"), version=case.version - 1, now=NOW)
    db.session.expire_all()
    assert not case.is_legacy
    assert db.session.scalar(sa.select(sa.func.count(LedgerItem.id))) == 0


def _campaign_item() -> LedgerItem:
    ledger = factories.ledger()
    return ledgers.create_item(ledger, user("supervisor"), ledgers.ItemFields(title="修缮人行道"))


def test_linking_a_ledger_item_links_the_case_and_records_both_ids() -> None:
    item = _campaign_item()
    case = case_in(CaseStatus.DISPATCHED, now=T0)
    linked = supervision.link_ledger_item(
        case, staff("supervisor"), item.id, version=case.version, now=NOW
    )
    assert linked.id == item.id and ledgers.items_of(case) == [item]
    event = last_event(case)
    assert event.action is EventAction.LINK_LEDGER_ITEM
    assert event.data == {"item_id": item.id, "ledger_id": item.ledger_id}


def test_linking_an_item_that_does_not_exist_is_refused_and_writes_nothing() -> None:
    case = case_in(CaseStatus.DISPATCHED, now=T0)
    version, written = case.version, actions(case)
    with pytest.raises(ValidationFailed) as refused:
        supervision.link_ledger_item(case, staff("supervisor"), 99999, version=None, now=NOW)
    assert refused.value.field_errors == {"item": "Choose a ledger item."}
    assert (case.version, actions(case)) == (version, written)


def test_linking_a_merged_case_is_refused_and_its_event_is_not_kept() -> None:
    """The table allows a link from closed; the ledger refuses a merged case after the
    event was written: the event must go with the refusal."""
    item = _campaign_item()
    survivor = new_case(now=T0)
    duplicate = new_case(title="红旗西街人行道又坏了", now=T0)
    intake.merge_case(duplicate, staff("intake"), survivor, version=None, now=NOW)
    version, written = duplicate.version, actions(duplicate)
    with pytest.raises(ValidationFailed):
        supervision.link_ledger_item(duplicate, staff("supervisor"), item.id, version=None)
    db.session.expire_all()
    assert (duplicate.version, actions(duplicate)) == (version, written)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerItemCase)) == 0


# --- revealing the citizen's contact ---------------------------------------------------------


def test_the_contact_revealed_is_the_citizen_s_and_every_reveal_is_an_event() -> None:
    case = case_in(
        CaseStatus.IN_PROGRESS,
        now=T0,
        citizen_email="zhang@example.cn",
        citizen_postal_address="运城市盐湖区人民路1号",
    )
    version = case.version
    contact = supervision.reveal_contact(case, staff("lead"), now=NOW)
    assert contact == supervision.Contact(
        "张秀英", "13812345678", "zhang@example.cn", "运城市盐湖区人民路1号"
    )
    supervision.reveal_contact(case, staff("lead"), now=NOW + timedelta(minutes=1))
    assert actions(case)[-2:] == [EventAction.REVEAL_CONTACT] * 2
    assert case.version == version + 2
    assert last_event(case).actor_id == user("lead").id


def test_a_refused_reveal_writes_no_event() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.REPORT, category="fraud", now=T0)
    version, written = case.version, actions(case)
    with pytest.raises(NotAllowed, match="confidential"):
        supervision.reveal_contact(case, staff("lead"), now=NOW)
    assert (case.version, actions(case)) == (version, written)
