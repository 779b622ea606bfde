"""Ledgers (台账) and their items, with milestones, case links and item events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.bilingual import BilingualName
from caseapp.models.enums import LedgerItemStatus, LedgerKind
from caseapp.models.org import Department, User
from caseapp.models.types import UTCDateTime, str_enum, utcnow


class Ledger(BilingualName, db.Model):
    """A named register the city reports on, e.g. 理旧账 (the legacy-issue ledger)."""

    __tablename__ = "ledgers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(160))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind))
    year: Mapped[int | None]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    categories: Mapped[list[LedgerCategory]] = relationship(
        back_populates="ledger", cascade="all, delete-orphan", order_by="LedgerCategory.sort_order"
    )


class LedgerCategory(BilingualName, db.Model):
    __tablename__ = "ledger_categories"
    __table_args__ = (
        sa.UniqueConstraint("ledger_id", "code", name="uq_ledger_categories_ledger_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_id: Mapped[int] = mapped_column(sa.ForeignKey("ledgers.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(160))
    sort_order: Mapped[int] = mapped_column(default=0)

    ledger: Mapped[Ledger] = relationship(back_populates="categories")


class LedgerItem(db.Model):
    """One entry of a ledger: open → in progress → written off (销号), reopenable."""

    __tablename__ = "ledger_items"
    __table_args__ = (
        sa.Index("ix_ledger_items_ledger_status", "ledger_id", "status"),
        sa.Index("ix_ledger_items_owner_department_status", "owner_department_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_id: Mapped[int] = mapped_column(sa.ForeignKey("ledgers.id"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_categories.id"))
    code: Mapped[str] = mapped_column(sa.String(40), default="")
    title: Mapped[str] = mapped_column(sa.String(300))
    owner_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    responsible_leader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    plan_text: Mapped[str] = mapped_column(sa.Text, default="")
    target_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[LedgerItemStatus] = mapped_column(
        str_enum(LedgerItemStatus), default=LedgerItemStatus.OPEN
    )
    written_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    written_off_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ledger: Mapped[Ledger] = relationship()
    category: Mapped[LedgerCategory | None] = relationship()
    owner_department: Mapped[Department | None] = relationship()
    responsible_leader: Mapped[User | None] = relationship()
    milestones: Mapped[list[LedgerMilestone]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="LedgerMilestone.due_date"
    )
    case_links: Mapped[list[LedgerItemCase]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )


class LedgerMilestone(db.Model):
    """A dated step of an item's case plan (一案一策)."""

    __tablename__ = "ledger_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_items.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    due_date: Mapped[date] = mapped_column(sa.Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item: Mapped[LedgerItem] = relationship(back_populates="milestones")


class LedgerItemCase(db.Model):
    """A case linked to a ledger item."""

    __tablename__ = "ledger_item_cases"

    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_items.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[LedgerItem] = relationship(back_populates="case_links")


class LedgerItemEvent(db.Model):
    """Every change of a ledger item (append-only)."""

    __tablename__ = "ledger_item_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_items.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[LedgerItemStatus | None] = mapped_column(str_enum(LedgerItemStatus))
    to_status: Mapped[LedgerItemStatus | None] = mapped_column(str_enum(LedgerItemStatus))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
