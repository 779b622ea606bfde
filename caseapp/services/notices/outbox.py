"""What admins do with the outbox: see where it stands, retry or drop dead letters.
Every change is written to the admin audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import OutboxMessage, User
from caseapp.models.enums import OutboxStatus
from caseapp.models.types import utcnow
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound
from caseapp.services.transactions import one_transaction

AUDITED = ("status", "attempts", "next_attempt_at")


def counts() -> dict[str, int]:
    """How many notices are in each state."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    ).all()
    found = {str(status): count for status, count in rows}
    return {str(status): found.get(str(status), 0) for status in OutboxStatus}


def dead_letters(limit: int = 200) -> Sequence[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()


def _dead(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status is not OutboxStatus.DEAD:
        raise NotFound("no such dead notice")
    return message


def _audit(
    actor: User, message: OutboxMessage, action: str, before: dict[str, object], now: datetime
) -> None:
    audit.record(actor, "outbox", message.id, action, before, audit.snapshot(message, AUDITED), now)


@one_transaction
def retry(message_id: int, actor: User, now: datetime | None = None) -> OutboxMessage:
    """Send a dead notice again from the next worker round, with a fresh count of tries."""
    now = now or utcnow()
    message = _dead(message_id)
    before = audit.snapshot(message, AUDITED)
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    _audit(actor, message, "retry", before, now)
    db.session.commit()
    return message


@one_transaction
def drop(message_id: int, actor: User, now: datetime | None = None) -> OutboxMessage:
    """Give a dead notice up for good (it stays on record as dropped)."""
    now = now or utcnow()
    message = _dead(message_id)
    before = audit.snapshot(message, AUDITED)
    message.status = OutboxStatus.DROPPED
    _audit(actor, message, "drop", before, now)
    db.session.commit()
    return message
