"""Notices: the outbox delivered by the worker, and the staff in-app inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.models.enums import OutboxChannel, OutboxStatus
from caseapp.models.types import UTCDateTime, str_enum, utcnow


class OutboxMessage(db.Model):
    """A notice to send, written in the transaction of the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent with the notice so a gateway can drop a repeat (delivery is at-least-once).
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    channel: Mapped[OutboxChannel] = mapped_column(str_enum(OutboxChannel))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    template: Mapped[str] = mapped_column(sa.String(60))
    language: Mapped[str] = mapped_column(sa.String(8), default="zh_CN")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker's lease on the row while it sends: another worker takes the row only after
    # the lease ran out (the first one died), and then sends it with the same key.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboxMessage(db.Model):
    """A staff notice in the app (due soon, overdue, urged, approvals waiting)."""

    __tablename__ = "inbox_messages"
    __table_args__ = (sa.Index("ix_inbox_messages_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # One notice per cause: e.g. "esc:<case>:<clock>:<deadline>:<level>:<user>".
    dedupe_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
