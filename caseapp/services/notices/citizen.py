"""Writing notices into the outbox, in the transaction of the change that causes them."""

from __future__ import annotations

import hashlib
from typing import Any

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, OutboxMessage
from caseapp.models.enums import NotifyBy, OutboxChannel

# The citizen notices of DESIGN §7; their texts live with the delivery (caseapp.notify).
CITIZEN_TEMPLATES = frozenset(
    {
        "receipt",
        "acceptance",
        "rejection",
        "question",
        "answer",
        "redo",
        "closing",
        "review",
        "deadline_moved",
        "extension",
    }
)
# Sent to one phone only, never to followers.
PERSONAL_TEMPLATES = frozenset({"access_code"})


def _recipients(case: Case) -> list[tuple[OutboxChannel, str, str]]:
    """(channel, address, language) of the filer and every follower who wants notices,
    each address once: the same person filing twice (a merged duplicate) gets one SMS."""
    people = [(case.notify_by, case.citizen_phone, case.citizen_email, case.language)]
    people += [(f.notify_by, f.phone, f.email, f.language) for f in case.followers]
    found: dict[tuple[OutboxChannel, str], str] = {}
    for notify_by, phone, email, language in people:
        if notify_by is NotifyBy.SMS and phone:
            found.setdefault((OutboxChannel.SMS, phone), language)
        elif notify_by is NotifyBy.EMAIL and email:
            found.setdefault((OutboxChannel.EMAIL, email), language)
    return [(channel, address, language) for (channel, address), language in found.items()]


def notify_citizens(
    case: Case, event: CaseEvent, template: str, params: dict[str, Any] | None = None
) -> list[OutboxMessage]:
    """Queue ``template`` for everyone following ``case``; one row per recipient."""
    if template not in CITIZEN_TEMPLATES:
        raise ValueError(f"unknown citizen notice {template!r}")
    if event.id is None:
        db.session.flush([event])
    rows = []
    for channel, address, language in _recipients(case):
        digest = hashlib.sha256(address.encode()).hexdigest()[:16]
        row = OutboxMessage(
            idempotency_key=f"case-{case.id}-event-{event.id}-{template}-{channel}-{digest}",
            channel=channel,
            recipient=address,
            template=template,
            language=language,
            params={"number": case.number, **(params or {})},
            case_id=case.id,
            next_attempt_at=event.at,
            created_at=event.at,
        )
        db.session.add(row)
        rows.append(row)
    return rows
