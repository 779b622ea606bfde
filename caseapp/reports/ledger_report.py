"""Ledger reports (DESIGN §5): per ledger, by category and by owner department — total,
written off (销号), in progress, overdue and the share written off — in the shape the
city publishes ("32 in all, 19 settled, 13 in progress").

All the figures come from one grouped query over the items; no item is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Department, Ledger, LedgerCategory, LedgerItem, LedgerMilestone
from caseapp.models.enums import LedgerItemStatus

WRITTEN_OFF = LedgerItemStatus.WRITTEN_OFF


@dataclass(frozen=True)
class Tally:
    """How many items, and how far they are."""

    total: int = 0
    written_off: int = 0
    overdue: int = 0  # not written off, and past the target date

    @property
    def in_progress(self) -> int:
        """Not written off yet (open or under way)."""
        return self.total - self.written_off

    @property
    def percent(self) -> float | None:
        """The share written off, in percent to one place (halves up)."""
        if not self.total:
            return None
        share = Decimal(self.written_off) * 100 / self.total
        return float(share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.total + other.total,
            self.written_off + other.written_off,
            self.overdue + other.overdue,
        )


@dataclass(frozen=True)
class TallyRow:
    key: int | None  # the category's or department's id; None for "none given"
    name: str
    tally: Tally


@dataclass(frozen=True)
class LedgerReport:
    ledger: Ledger
    total: Tally
    by_category: list[TallyRow]  # in the ledger's category order
    by_department: list[TallyRow]  # most items first


@dataclass(frozen=True)
class _Cell:
    ledger_id: int
    category_id: int | None
    department_id: int | None
    tally: Tally


def overdue_condition(today: date) -> sa.ColumnElement[bool]:
    """An item is overdue (late) when it is not written off and its target date has
    passed or one of its milestones not done is past its day: the rule of
    ``workflow.ledger_items.item_is_late`` in SQL, so the ledger page, its exports and
    the department's item list count the same items."""
    late_milestone = sa.exists().where(
        LedgerMilestone.item_id == LedgerItem.id,
        LedgerMilestone.done_at.is_(None),
        LedgerMilestone.due_date < today,
    )
    return sa.and_(
        LedgerItem.status != WRITTEN_OFF,
        sa.or_(LedgerItem.target_date < today, late_milestone),
    )


def _cells(today: date, ledger_ids: Sequence[int] | None) -> list[_Cell]:
    written_off = sa.func.sum(sa.case((LedgerItem.status == WRITTEN_OFF, 1), else_=0))
    overdue = sa.func.sum(sa.case((overdue_condition(today), 1), else_=0))
    query = sa.select(
        LedgerItem.ledger_id,
        LedgerItem.category_id,
        LedgerItem.owner_department_id,
        sa.func.count(),
        written_off,
        overdue,
    ).group_by(LedgerItem.ledger_id, LedgerItem.category_id, LedgerItem.owner_department_id)
    if ledger_ids is not None:
        query = query.where(LedgerItem.ledger_id.in_(ledger_ids))
    return [
        _Cell(ledger, category, department, Tally(int(n), int(done or 0), int(late or 0)))
        for ledger, category, department, n, done, late in db.session.execute(query).tuples()
    ]


def _sum(tallies: Iterable[Tally]) -> Tally:
    return sum(tallies, Tally())


def ledger_reports(
    today: date, lang: str, ledgers: Sequence[Ledger] | None = None
) -> list[LedgerReport]:
    """A report for each ledger (all of them, oldest first, unless given)."""
    if ledgers is None:
        ledgers = list(db.session.scalars(sa.select(Ledger).order_by(Ledger.id)))
    cells = _cells(today, [ledger.id for ledger in ledgers])
    departments = {
        d.id: d.name(lang)
        for d in db.session.scalars(
            sa.select(Department).where(
                Department.id.in_({c.department_id for c in cells if c.department_id})
            )
        )
    }
    by_ledger: dict[int, list[_Cell]] = defaultdict(list)
    for cell in cells:
        by_ledger[cell.ledger_id].append(cell)
    reports = []
    for ledger in ledgers:
        mine = by_ledger[ledger.id]
        categories = [
            TallyRow(
                category.id,
                category.name(lang),
                _sum(c.tally for c in mine if c.category_id == category.id),
            )
            for category in ledger.categories
        ]
        uncategorised = _sum(c.tally for c in mine if c.category_id is None)
        if uncategorised.total:
            categories.append(TallyRow(None, "", uncategorised))
        per_department: dict[int | None, Tally] = defaultdict(Tally)
        for cell in mine:
            per_department[cell.department_id] += cell.tally
        by_department = sorted(
            (
                TallyRow(key, departments.get(key, "") if key else "", tally)
                for key, tally in per_department.items()
            ),
            key=lambda row: (-row.tally.total, row.name),
        )
        reports.append(LedgerReport(ledger, _sum(c.tally for c in mine), categories, by_department))
    return reports


@dataclass(frozen=True)
class ItemFilter:
    """Which items a figure of the report stands for."""

    category_id: int | None = None
    department_id: int | None = None
    state: str | None = None  # "written_off", "in_progress" or "overdue"
    no_category: bool = False
    no_department: bool = False


ITEM_STATES = ("written_off", "in_progress", "overdue")


def items_query(ledger: Ledger, chosen: ItemFilter, today: date) -> sa.Select[tuple[LedgerItem]]:
    """The ledger's items behind one figure, in code order."""
    query = sa.select(LedgerItem).where(LedgerItem.ledger_id == ledger.id)
    if chosen.no_category:
        query = query.where(LedgerItem.category_id.is_(None))
    elif chosen.category_id is not None:
        query = query.where(LedgerItem.category_id == chosen.category_id)
    if chosen.no_department:
        query = query.where(LedgerItem.owner_department_id.is_(None))
    elif chosen.department_id is not None:
        query = query.where(LedgerItem.owner_department_id == chosen.department_id)
    if chosen.state == "written_off":
        query = query.where(LedgerItem.status == WRITTEN_OFF)
    elif chosen.state == "in_progress":
        query = query.where(LedgerItem.status != WRITTEN_OFF)
    elif chosen.state == "overdue":
        query = query.where(overdue_condition(today))
    return query.order_by(LedgerItem.code, LedgerItem.id)


def category_names(ledger: Ledger, lang: str) -> dict[int, str]:
    return {
        c.id: c.name(lang)
        for c in db.session.scalars(
            sa.select(LedgerCategory).where(LedgerCategory.ledger_id == ledger.id)
        )
    }
