"""The staff member's in-app inbox: due-soon, overdue, urged and approval notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import InboxMessage, User
from caseapp.models.types import utcnow
from caseapp.services.errors import NotFound
from caseapp.services.transactions import one_transaction


def messages_for(user: User, limit: int = 100) -> Sequence[InboxMessage]:
    """The newest notices first, unread ones before read ones."""
    return db.session.scalars(
        sa.select(InboxMessage)
        .where(InboxMessage.user_id == user.id)
        .order_by(
            InboxMessage.read_at.is_not(None),
            InboxMessage.created_at.desc(),
            InboxMessage.id.desc(),
        )
        .limit(limit)
    ).all()


@one_transaction
def mark_read(user: User, message_id: int, now: datetime | None = None) -> InboxMessage:
    """Mark one of the user's own notices read (another's is NotFound)."""
    message = db.session.scalar(
        sa.select(InboxMessage).where(
            InboxMessage.id == message_id, InboxMessage.user_id == user.id
        )
    )
    if message is None:
        raise NotFound("no such notice")
    if message.read_at is None:
        message.read_at = now or utcnow()
        db.session.commit()
    return message
