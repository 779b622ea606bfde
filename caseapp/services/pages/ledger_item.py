"""What the ledger item pages show: one item with its plan, cases and timeline for a
supervisor, and a department's items for its lead (DESIGN §5, §8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from caseapp.extensions import db
from caseapp.models import (
    Case,
    Ledger,
    LedgerCategory,
    LedgerItem,
    LedgerItemCase,
    LedgerItemEvent,
    User,
)
from caseapp.models.enums import LedgerItemStatus, Role
from caseapp.models.types import utcnow
from caseapp.services.casework import clocks as deadlines
from caseapp.services.directory import users_with_role
from caseapp.services.errors import NotAllowed, NotFound
from caseapp.workflow.ledger_items import (
    late_steps,
    may_manage_items,
    may_see_department_items,
    target_passed,
)
from caseapp.workflow.visibility import department_subtree


@dataclass(frozen=True)
class ItemMilestone:
    """A milestone of an item's plan as the page shows it (the shape of the case plan's
    milestones, so both use one template)."""

    due_on: date
    text: str
    done_on: date | None
    late: bool = False


@dataclass(frozen=True)
class ItemEvent:
    event: LedgerItemEvent
    actor: User | None
    case: Case | None


@dataclass(frozen=True)
class ItemPage:
    item: LedgerItem
    target_passed: bool
    milestones: list[ItemMilestone]
    cases: Sequence[Case]
    events: list[ItemEvent]

    @property
    def late(self) -> bool:
        return self.target_passed or any(m.late for m in self.milestones)


def local_today(now: datetime | None = None) -> date:
    """The city's date now: a target or milestone due today is late from tomorrow."""
    return deadlines.deadline_math().local_date(now or utcnow())


def item_for(user: User, item_id: int) -> LedgerItem:
    """The item, for a user who may manage items (NotAllowed) if it exists (NotFound)."""
    if not may_manage_items(user.roles):
        raise NotAllowed("only supervisors open ledger items")
    item = db.session.get(
        LedgerItem,
        item_id,
        options=[
            joinedload(LedgerItem.ledger),
            joinedload(LedgerItem.category),
            joinedload(LedgerItem.owner_department),
            joinedload(LedgerItem.responsible_leader),
            selectinload(LedgerItem.milestones),
        ],
    )
    if item is None:
        raise NotFound(f"no ledger item {item_id}")
    return item


def ledger_for(user: User, code: str) -> Ledger:
    """The ledger ``code`` names, for a user who may add items to it."""
    if not may_manage_items(user.roles):
        raise NotAllowed("only supervisors add ledger items")
    ledger = db.session.scalar(sa.select(Ledger).where(Ledger.code == code))
    if ledger is None:
        raise NotFound(f"no ledger {code}")
    return ledger


def item_milestones(item: LedgerItem, today: date) -> list[ItemMilestone]:
    """The item's milestones in order, the late ones marked (none once written off)."""
    zone = deadlines.deadline_math().tz
    rows = [
        ItemMilestone(m.due_date, m.title, m.done_at.astimezone(zone).date() if m.done_at else None)
        for m in item.milestones
    ]
    late = late_steps(item.status, rows, today)
    return [replace(row, late=row in late) for row in rows]


def item_page(item: LedgerItem, now: datetime | None = None) -> ItemPage:
    """The item with its plan, its linked cases and its events, oldest first."""
    today = local_today(now)
    cases = db.session.scalars(
        sa.select(Case)
        .join(LedgerItemCase, LedgerItemCase.case_id == Case.id)
        .where(LedgerItemCase.item_id == item.id)
        .order_by(LedgerItemCase.linked_at, Case.id)
    ).all()
    events = db.session.scalars(
        sa.select(LedgerItemEvent)
        .where(LedgerItemEvent.item_id == item.id)
        .order_by(LedgerItemEvent.id)
    ).all()
    actor_ids = {e.actor_id for e in events if e.actor_id}
    case_ids = {e.case_id for e in events if e.case_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))}
    event_cases = {
        c.id: c for c in db.session.scalars(sa.select(Case).where(Case.id.in_(case_ids)))
    }
    return ItemPage(
        item=item,
        target_passed=target_passed(item.status, item.target_date, today),
        milestones=item_milestones(item, today),
        cases=cases,
        events=[
            ItemEvent(
                e,
                actors.get(e.actor_id) if e.actor_id else None,
                event_cases.get(e.case_id) if e.case_id else None,
            )
            for e in events
        ],
    )


# --- the choices of the item form -----------------------------------------------------------


def categories(ledger: Ledger) -> Sequence[LedgerCategory]:
    return db.session.scalars(
        sa.select(LedgerCategory)
        .where(LedgerCategory.ledger_id == ledger.id)
        .order_by(LedgerCategory.sort_order, LedgerCategory.id)
    ).all()


def leaders() -> Sequence[User]:
    return users_with_role(Role.LEADER)


# --- a department's items, for its lead -------------------------------------------------------


@dataclass(frozen=True)
class DepartmentItem:
    item: LedgerItem
    target_passed: bool
    late_milestones: int

    @property
    def late(self) -> bool:
        return self.target_passed or self.late_milestones > 0


@dataclass(frozen=True)
class LedgerGroup:
    """One ledger's items of the department: late ones first, then by target date, the
    written-off ones last; with the counts the city reports."""

    ledger: Ledger
    items: list[DepartmentItem]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def written_off(self) -> int:
        return sum(1 for row in self.items if row.item.status is LedgerItemStatus.WRITTEN_OFF)

    @property
    def in_progress(self) -> int:
        return sum(1 for row in self.items if row.item.status is LedgerItemStatus.IN_PROGRESS)

    @property
    def open(self) -> int:
        return sum(1 for row in self.items if row.item.status is LedgerItemStatus.OPEN)

    @property
    def late(self) -> int:
        return sum(1 for row in self.items if row.late)

    @property
    def current(self) -> list[DepartmentItem]:
        return [row for row in self.items if row.item.status is not LedgerItemStatus.WRITTEN_OFF]

    @property
    def settled(self) -> list[DepartmentItem]:
        return [row for row in self.items if row.item.status is LedgerItemStatus.WRITTEN_OFF]


def department_items(user: User, now: datetime | None = None) -> list[LedgerGroup]:
    """The items the lead's department and the departments below it own, by ledger. Each
    item is one row, so each counts once whatever its history."""
    if not may_see_department_items(user.roles):
        raise NotAllowed("only a department's lead sees its ledger items")
    if user.department_id is None:
        return []
    today = local_today(now)
    items = db.session.scalars(
        sa.select(LedgerItem)
        .where(LedgerItem.owner_department_id.in_(department_subtree(user.department_id)))
        .options(
            joinedload(LedgerItem.ledger),
            joinedload(LedgerItem.category),
            joinedload(LedgerItem.owner_department),
            joinedload(LedgerItem.responsible_leader),
            selectinload(LedgerItem.milestones),
        )
        .order_by(LedgerItem.ledger_id, LedgerItem.id)
    ).all()
    groups: dict[int, list[DepartmentItem]] = {}
    for item in items:
        steps = item_milestones(item, today)
        groups.setdefault(item.ledger_id, []).append(
            DepartmentItem(
                item,
                target_passed(item.status, item.target_date, today),
                sum(1 for m in steps if m.late),
            )
        )
    ledgers = {item.ledger_id: item.ledger for item in items}
    return [
        LedgerGroup(ledgers[ledger_id], sorted(rows, key=_department_order))
        for ledger_id, rows in groups.items()
    ]


def _department_order(row: DepartmentItem) -> tuple[bool, bool, date, int]:
    return (
        not row.late,
        row.item.status is LedgerItemStatus.WRITTEN_OFF,
        row.item.target_date or date.max,
        row.item.id,
    )
