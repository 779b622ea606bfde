"""Ledger items and cases (DESIGN §5): linking, marking legacy, and the automatic
write-off (销号) when the last linked case closes — undone when it is reopened."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, Ledger, LedgerItem, LedgerItemCase, LedgerItemEvent
from caseapp.models.enums import CaseStatus, CloseReason, LedgerItemStatus, LedgerKind
from caseapp.services.errors import NotFound

LEGACY_LEDGER_CODE = "legacy"
# Linked cases that no longer count for an item: they will never close with an answer.
OUT_OF_PICTURE = (CaseStatus.WITHDRAWN, CaseStatus.REJECTED)
ANSWERED_CLOSES = (CloseReason.RATED, CloseReason.NO_RATING)


def legacy_ledger() -> Ledger:
    ledger = db.session.scalar(
        sa.select(Ledger).where(Ledger.kind == LedgerKind.LEGACY).order_by(Ledger.id)
    )
    if ledger is None:
        raise NotFound("there is no legacy-issue ledger (理旧账)")
    return ledger


def items_of(case: Case) -> list[LedgerItem]:
    return list(
        db.session.scalars(
            sa.select(LedgerItem)
            .join(LedgerItemCase, LedgerItemCase.item_id == LedgerItem.id)
            .where(LedgerItemCase.case_id == case.id)
        )
    )


def item_event(
    item: LedgerItem,
    action: str,
    now: datetime,
    actor_id: int | None,
    *,
    to_status: LedgerItemStatus | None = None,
    note: str = "",
    case: Case | None = None,
) -> None:
    """Record a change of an item, setting its status when ``to_status`` is given."""
    from_status = item.status
    if to_status is not None:
        item.status = to_status
    item.updated_at = now
    db.session.add(
        LedgerItemEvent(
            item_id=item.id,
            at=now,
            actor_id=actor_id,
            action=action,
            from_status=from_status,
            to_status=item.status,
            note=note,
            case_id=case.id if case else None,
        )
    )


def link_case(item: LedgerItem, case: Case, now: datetime, actor_id: int | None) -> None:
    """Link ``case`` to ``item`` (idempotent); an open item goes in progress once a
    linked case has been accepted."""
    if db.session.get(LedgerItemCase, (item.id, case.id)) is None:
        db.session.add(LedgerItemCase(item_id=item.id, case_id=case.id, linked_at=now))
        item_event(item, "link_case", now, actor_id, case=case)
    if item.status is LedgerItemStatus.OPEN and case.accepted_at is not None:
        item_event(
            item, "in_progress", now, actor_id, to_status=LedgerItemStatus.IN_PROGRESS, case=case
        )
    if case.status is CaseStatus.CLOSED:
        # A case linked after its close counts as closed already.
        on_case_closed(case, now, actor_id)


def mark_legacy(case: Case, now: datetime, actor_id: int | None) -> LedgerItem:
    """Give a legacy case (历史遗留) an item in the legacy ledger, or return its item."""
    ledger = legacy_ledger()
    for item in items_of(case):
        if item.ledger_id == ledger.id:
            return item
    case.is_legacy = True
    item = LedgerItem(
        ledger_id=ledger.id,
        title=case.title,
        owner_department_id=case.lead_department_id,
        responsible_leader_id=case.responsible_leader_id,
        status=LedgerItemStatus.OPEN,
        created_at=now,
        updated_at=now,
        code=case.number,
    )
    db.session.add(item)
    db.session.flush()
    item_event(item, "created_from_case", now, actor_id, case=case)
    link_case(item, case, now, actor_id)
    return item


def on_case_accepted(case: Case, now: datetime, actor_id: int | None) -> None:
    for item in items_of(case):
        if item.status is LedgerItemStatus.OPEN:
            item_event(
                item,
                "in_progress",
                now,
                actor_id,
                to_status=LedgerItemStatus.IN_PROGRESS,
                case=case,
            )


def on_case_closed(case: Case, now: datetime, actor_id: int | None) -> None:
    """Write off every item whose counted cases have now all closed with an answer."""
    if case.close_reason not in ANSWERED_CLOSES:
        return
    db.session.flush()
    for item in items_of(case):
        if item.status is LedgerItemStatus.WRITTEN_OFF:
            continue
        cases = _linked_cases(item)
        counted = [c for c in cases if c.status not in OUT_OF_PICTURE]
        if counted and all(
            c.status is CaseStatus.CLOSED and c.close_reason in ANSWERED_CLOSES for c in counted
        ):
            item.written_off_at = now
            item.written_off_note = f"closed with case {case.number}"
            item_event(
                item,
                "write_off",
                now,
                actor_id,
                to_status=LedgerItemStatus.WRITTEN_OFF,
                note=item.written_off_note,
                case=case,
            )


def on_case_reopened(case: Case, now: datetime, actor_id: int | None) -> None:
    """A reopened case takes its items back off the written-off list."""
    for item in items_of(case):
        if item.status is LedgerItemStatus.WRITTEN_OFF:
            item.written_off_at = None
            item.written_off_note = ""
            item_event(
                item,
                "undo_write_off",
                now,
                actor_id,
                to_status=LedgerItemStatus.IN_PROGRESS,
                note=f"case {case.number} reopened",
                case=case,
            )


def move_links(source: Case, target: Case, now: datetime, actor_id: int | None) -> None:
    """On a merge, the merged case's ledger links move to the surviving case."""
    for link in list(
        db.session.scalars(sa.select(LedgerItemCase).where(LedgerItemCase.case_id == source.id))
    ):
        item = db.session.get(LedgerItem, link.item_id)
        db.session.delete(link)
        db.session.flush()
        assert item is not None
        item_event(
            item, "unlink_case", now, actor_id, note=f"merged into {target.number}", case=source
        )
        link_case(item, target, now, actor_id)


def _linked_cases(item: LedgerItem) -> list[Case]:
    return list(
        db.session.scalars(
            sa.select(Case)
            .join(LedgerItemCase, LedgerItemCase.case_id == Case.id)
            .where(LedgerItemCase.item_id == item.id)
        )
    )
