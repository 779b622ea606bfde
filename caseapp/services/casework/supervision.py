"""Supervision (督办) and the actions around a case that change no status: urge, the
responsible leader and case plan, legacy marking and ledger links, revealing contact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

from caseapp.extensions import db
from caseapp.models import Case, CaseMilestone, LedgerItem, User
from caseapp.models.enums import EventAction, Role
from caseapp.services.admin import audit
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import lifecycle
from caseapp.services.casework.intake import required_text
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.casework.plans import Milestone, checked_milestones
from caseapp.services.errors import NotAllowed, ValidationFailed
from caseapp.services.filing.cases import now_or
from caseapp.services.ledgers import items as ledgers
from caseapp.services.messages import N_
from caseapp.services.notices import staff as staff_notices
from caseapp.services.transactions import one_transaction
from caseapp.workflow.deadlines import ESCALATING_CLOCKS, LEVEL_SUPERVISED
from caseapp.workflow.visibility import may_see_identity


@one_transaction
def urge_case(
    case: Case, actor: Actor, text: str, *, version: int | None, now: datetime | None = None
) -> Case:
    """督办: a supervisor or the responsible leader presses on the case: its running
    clocks, paused ones included, go to level 3 and keep it until they stop (through
    pauses and extensions); the people of each clock at level 3 are told."""
    now = now_or(now)
    text = required_text(text, "text")

    def effects() -> None:
        for row in deadlines.running(case):
            if row.clock in ESCALATING_CLOCKS:
                row.escalation_level = LEVEL_SUPERVISED
                row.next_escalation_at = None  # 督办 is the last level

    outcome = lifecycle.apply_action(
        case,
        EventAction.URGE,
        actor,
        now,
        expected_version=version,
        internal_text=text,
        effects=effects,
    )
    staff_notices.case_urged(case, outcome.event, text, actor)
    lifecycle.commit()
    return case


@one_transaction
def set_responsible_leader(
    case: Case, actor: Actor, leader_id: int, *, version: int | None, now: datetime | None = None
) -> Case:
    """Name the leader responsible for the case (包联领导)."""
    now = now_or(now)
    leader = db.session.get(User, leader_id)
    if leader is None or not leader.active or not leader.has_role(Role.LEADER):
        raise ValidationFailed("not a leader", {"leader": N_("Choose a responsible leader.")})

    def effects() -> None:
        case.responsible_leader_id = leader.id

    lifecycle.apply_action(
        case,
        EventAction.SET_LEADER,
        actor,
        now,
        expected_version=version,
        data={"leader": leader.username},
        effects=effects,
    )
    lifecycle.commit()
    return case


def _milestone_rows(case: Case, milestones: list[Milestone], today: date) -> list[CaseMilestone]:
    """New rows for the plan's milestones. A milestone already done (the same day and
    text) keeps the day it was done; one newly done is done ``today``."""
    done_before: dict[tuple[date, str], list[date]] = {}
    for row in case.milestones:
        if row.done_on is not None:
            done_before.setdefault((row.due_on, row.text), []).append(row.done_on)
    rows = []
    for position, milestone in enumerate(milestones):
        assert milestone.due_on is not None  # checked
        done_on = None
        if milestone.done:
            earlier = done_before.get((milestone.due_on, milestone.text))
            done_on = earlier.pop(0) if earlier else today
        rows.append(
            CaseMilestone(
                position=position, due_on=milestone.due_on, text=milestone.text, done_on=done_on
            )
        )
    return sorted(rows, key=lambda row: (row.due_on, row.position))


@one_transaction
def set_case_plan(
    case: Case,
    actor: Actor,
    plan: str,
    milestones: Sequence[Milestone],
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """Write the case plan (一案一策) and put ``milestones`` in place of its dated steps."""
    now = now_or(now)
    plan = required_text(plan, "plan")
    checked = checked_milestones(milestones)
    rows = _milestone_rows(case, checked, deadlines.deadline_math().local_date(now))

    def effects() -> None:
        case.case_plan = plan
        case.milestones = rows

    lifecycle.apply_action(
        case,
        EventAction.SET_CASE_PLAN,
        actor,
        now,
        expected_version=version,
        internal_text=plan,
        data={
            "milestones": [
                {"due": row.due_on.isoformat(), "text": row.text, "done": row.done_on is not None}
                for row in rows
            ]
        },
        effects=effects,
    )
    lifecycle.commit()
    return case


@one_transaction
def mark_legacy(
    case: Case,
    actor: Actor,
    *,
    version: int | None,
    entry: ledgers.LegacyEntry | None = None,
    now: datetime | None = None,
) -> LedgerItem:
    """Mark a case legacy (历史遗留): it gets a new item in the legacy ledger (its
    category and target date in ``entry``), or joins the item ``entry`` names."""
    now = now_or(now)
    lifecycle.apply_action(case, EventAction.MARK_LEGACY, actor, now, expected_version=version)
    item = ledgers.mark_legacy(case, now, actor.user.id if actor.user else None, entry)
    lifecycle.commit()
    return item


@one_transaction
def link_ledger_item(
    case: Case, actor: Actor, item_id: int, *, version: int | None, now: datetime | None = None
) -> LedgerItem:
    """Link the case to an item of a ledger."""
    now = now_or(now)
    item = db.session.get(LedgerItem, item_id)
    if item is None:
        raise ValidationFailed("no such item", {"item": N_("Choose a ledger item.")})
    lifecycle.apply_action(
        case,
        EventAction.LINK_LEDGER_ITEM,
        actor,
        now,
        expected_version=version,
        data={"item_id": item.id, "ledger_id": item.ledger_id},
    )
    ledgers.link_case(item, case, now, actor.user.id if actor.user else None)
    lifecycle.commit()
    return item


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str
    postal_address: str


@one_transaction
def reveal_contact(case: Case, actor: Actor, now: datetime | None = None) -> Contact:
    """Show the citizen's name and contact; every reveal is an event."""
    now = now_or(now)
    capacities = lifecycle.capacities_of(actor, case)
    if not may_see_identity(case, capacities):
        raise NotAllowed("the citizen's identity is confidential for this case")
    lifecycle.apply_action(case, EventAction.REVEAL_CONTACT, actor, now, expected_version=None)
    contact = Contact(
        case.citizen_name, case.citizen_phone, case.citizen_email, case.citizen_postal_address
    )
    # The audit log keeps who saw which kinds of data of which case, from where and
    # when, in the reveal's own transaction; never the data itself.
    audit.security_event(
        "reveal_contact",
        entity=audit.PERSONAL_DATA,
        actor=actor.user,
        subject=case.number,
        detail={"fields": [name for name, value in asdict(contact).items() if value]},
        now=now,
    )
    lifecycle.commit()
    return contact
