"""Ledger items and cases (DESIGN §5): linking, marking legacy, and the automatic
write-off (销号) when the last linked case closes — undone when it is reopened; and the
items a supervisor keeps by hand: create, edit (with the item's plan), write off, reopen,
unlink a case. Every change of an item is a ``LedgerItemEvent``.

An item's status is one row: however often its cases close and reopen, it counts once,
as what it is now; the events keep the history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import (
    Case,
    Department,
    Ledger,
    LedgerCategory,
    LedgerItem,
    LedgerItemCase,
    LedgerItemEvent,
    LedgerMilestone,
    User,
)
from caseapp.models.enums import CaseStatus, CloseReason, LedgerItemStatus, LedgerKind, Role
from caseapp.models.types import utcnow
from caseapp.services.errors import NotAllowed, NotFound, StaleVersion, ValidationFailed
from caseapp.services.messages import N_
from caseapp.services.milestones import Milestone, checked_milestones
from caseapp.services.validation import clean_text, has_control_characters, parse_id
from caseapp.workflow.ledger_items import may_manage_items

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


def check_legacy_ledger() -> None:
    """Refuse to mark a case legacy before there is a legacy-issue ledger, on the form's
    ``legacy`` field, so a filing that asks for it is not made without it."""
    if db.session.scalar(sa.select(Ledger.id).where(Ledger.kind == LedgerKind.LEGACY).limit(1)):
        return
    raise ValidationFailed(
        "there is no legacy-issue ledger",
        {
            "legacy": N_(
                "There is no legacy-issue ledger (理旧账) yet: an administrator sets it up first."
            )
        },
    )


def ledger_by_code(code: str) -> Ledger:
    """The ledger with this code, or NotFound."""
    ledger = db.session.scalar(sa.select(Ledger).where(Ledger.code == code))
    if ledger is None:
        raise NotFound(f"no ledger with the code {code!r}")
    return ledger


def items_of(case: Case) -> list[LedgerItem]:
    """The items ``case`` is linked to, oldest first."""
    return list(
        db.session.scalars(
            sa.select(LedgerItem)
            .join(LedgerItemCase, LedgerItemCase.item_id == LedgerItem.id)
            .where(LedgerItemCase.case_id == case.id)
            .order_by(LedgerItem.id)
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
    data: dict[str, Any] | None = None,
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
            data=data or {},
        )
    )


def link_case(item: LedgerItem, case: Case, now: datetime, actor_id: int | None) -> None:
    """Link ``case`` to ``item`` (idempotent); an open item goes in progress once a
    linked case has been accepted. A merged case is refused: its links live on the case
    it was merged into, and it never writes an item off."""
    if case.close_reason is CloseReason.MERGED:
        raise ValidationFailed(
            N_("A merged case is not linked to ledger items; link the case it was merged into.")
        )
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
        counted = [c for c in _linked_cases(item) if _counts(c)]
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


def _counts(case: Case) -> bool:
    """Whether a linked case holds its item back until it closes with an answer."""
    return case.status not in OUT_OF_PICTURE and case.close_reason is not CloseReason.MERGED


def _linked_cases(item: LedgerItem) -> list[Case]:
    return list(
        db.session.scalars(
            sa.select(Case)
            .join(LedgerItemCase, LedgerItemCase.case_id == Case.id)
            .where(LedgerItemCase.item_id == item.id)
        )
    )


# --- items by hand: a supervisor creates, edits, writes off, reopens and unlinks ----------

TITLE_MAX = 300
PLAN_TEXT_MAX = 4000
NOTE_MAX = 4000
CODE_MAX = 40


@dataclass(frozen=True)
class ItemFields:
    """An item's fields as a form gives them; ``create_item`` and ``update_item`` check
    them and report every reason a field is refused at once."""

    title: str
    category_id: int | None = None
    owner_department_id: int | None = None
    responsible_leader_id: int | None = None
    target_date: date | None = None
    plan_text: str = ""
    milestones: Sequence[Milestone] = ()


@dataclass(frozen=True)
class _Checked:
    title: str
    category_id: int | None
    owner_department_id: int | None
    responsible_leader_id: int | None
    target_date: date | None
    plan_text: str
    milestones: list[Milestone]


def find_item(reference: str) -> LedgerItem:
    """The item someone names by its code (``SS2021-0001``, a legacy case's number) or by
    its number (``#12`` or ``12``). A code that several items share is refused."""
    text = clean_text(reference)
    if not text:
        raise ValidationFailed("no item given", {"item": N_("This field is required.")})
    by_code = db.session.scalars(
        sa.select(LedgerItem)
        .where(LedgerItem.code.in_({text, text.upper()}))
        .order_by(LedgerItem.id)
        .limit(2)
    ).all()
    if len(by_code) > 1:
        raise ValidationFailed(
            "ambiguous code",
            {"item": N_("Several items have this code; give the item's number, e.g. #12.")},
        )
    if by_code:
        return by_code[0]
    number = text.removeprefix("#")
    item_id = parse_id(number)
    item = db.session.get(LedgerItem, item_id) if item_id is not None else None
    if item is None:
        raise ValidationFailed(
            "no such item", {"item": N_("There is no ledger item with this code or number.")}
        )
    return item


def create_item(
    ledger: Ledger,
    actor: User,
    fields: ItemFields,
    *,
    code: str = "",
    now: datetime | None = None,
) -> LedgerItem:
    """Add an item to ``ledger`` by hand (a campaign commitment needs no case); it starts
    open."""
    now = now or utcnow()
    _require_manager(actor)
    errors: dict[str, Any] = {}
    code = clean_text(code)
    if len(code) > CODE_MAX:
        errors["code"] = N_("At most 40 characters.")
    elif has_control_characters(code) or "\n" in code:
        errors["code"] = N_("Contains characters that are not allowed.")
    elif code and db.session.scalar(
        sa.select(LedgerItem.id).where(LedgerItem.ledger_id == ledger.id, LedgerItem.code == code)
    ):
        errors["code"] = N_("Another item of this ledger has this code.")
    checked = _checked_fields(ledger, fields, errors)
    item = LedgerItem(
        ledger_id=ledger.id,
        code=code,
        title=checked.title,
        category_id=checked.category_id,
        owner_department_id=checked.owner_department_id,
        responsible_leader_id=checked.responsible_leader_id,
        target_date=checked.target_date,
        plan_text=checked.plan_text,
        status=LedgerItemStatus.OPEN,
        created_at=now,
        updated_at=now,
    )
    item.milestones = _milestone_rows(item, checked.milestones, now)
    db.session.add(item)
    db.session.flush()
    item_event(item, "created", now, actor.id, data={"fields": _snapshot(item)})
    db.session.commit()
    return item


def update_item(
    item: LedgerItem,
    actor: User,
    title: str,
    category_id: int | None,
    owner_department_id: int | None,
    responsible_leader_id: int | None,
    target_date: date | None,
    plan_text: str,
    milestones: Sequence[Milestone],
    *,
    seen: datetime | None = None,
    now: datetime | None = None,
) -> LedgerItem:
    """Edit an item and its plan (一案一策: text and dated milestones); one ``update``
    event names what changed. ``seen`` is when the item was last changed as the editor
    saw it: a change since is refused (StaleVersion). An open item whose first
    milestone is done goes in progress."""
    now = now or utcnow()
    _require_manager(actor)
    checked = _checked_fields(
        item.ledger,
        ItemFields(
            title,
            category_id,
            owner_department_id,
            responsible_leader_id,
            target_date,
            plan_text,
            milestones,
        ),
        {},
    )
    before = _snapshot(item)
    rows = _milestone_rows(item, checked.milestones, now)
    after = {
        "title": checked.title,
        "category_id": checked.category_id,
        "owner_department_id": checked.owner_department_id,
        "responsible_leader_id": checked.responsible_leader_id,
        "target_date": checked.target_date.isoformat() if checked.target_date else None,
        "plan_text": checked.plan_text,
        "milestones": _milestones_data(rows),
    }
    changes = {
        name: {"from": before[name], "to": value}
        for name, value in after.items()
        if before[name] != value
    }
    if not changes:
        return item
    _claim(item, now, seen=seen)
    item.title = checked.title
    item.category_id = checked.category_id
    item.owner_department_id = checked.owner_department_id
    item.responsible_leader_id = checked.responsible_leader_id
    item.target_date = checked.target_date
    item.plan_text = checked.plan_text
    if "milestones" in changes:
        item.milestones = rows
    item_event(item, "update", now, actor.id, data={"changes": changes})
    if item.status is LedgerItemStatus.OPEN and any(row.done_at for row in rows):
        item_event(item, "in_progress", now, actor.id, to_status=LedgerItemStatus.IN_PROGRESS)
    db.session.commit()
    return item


def write_off_item(
    item: LedgerItem, actor: User, note: str, now: datetime | None = None
) -> LedgerItem:
    """销号 by hand, with a note saying why; refused when the item is written off
    already. Its open cases, if any, go on: a case closed later changes nothing."""
    now = now or utcnow()
    _require_manager(actor)
    note = _note(note)
    if item.status is LedgerItemStatus.WRITTEN_OFF:
        raise ValidationFailed(N_("This item is written off already."))
    _claim(item, now, unless_status=LedgerItemStatus.WRITTEN_OFF)
    item.written_off_at = now
    item.written_off_note = note
    item_event(item, "write_off", now, actor.id, to_status=LedgerItemStatus.WRITTEN_OFF, note=note)
    db.session.commit()
    return item


def reopen_item(
    item: LedgerItem, actor: User, note: str, now: datetime | None = None
) -> LedgerItem:
    """Take a written-off item back in progress, with a note saying why."""
    now = now or utcnow()
    _require_manager(actor)
    note = _note(note)
    if item.status is not LedgerItemStatus.WRITTEN_OFF:
        raise ValidationFailed(N_("Only a written-off item can be reopened."))
    _claim(item, now, status=LedgerItemStatus.WRITTEN_OFF)
    item.written_off_at = None
    item.written_off_note = ""
    item_event(item, "reopen", now, actor.id, to_status=LedgerItemStatus.IN_PROGRESS, note=note)
    db.session.commit()
    return item


def unlink_case(
    item: LedgerItem, case: Case, actor: User, note: str, now: datetime | None = None
) -> LedgerItem:
    """Take a case off an item (linked by mistake), with a note. The item's status stays:
    a supervisor writes off or reopens it by hand if the remaining cases call for it."""
    now = now or utcnow()
    _require_manager(actor)
    note = _note(note)
    link = db.session.get(LedgerItemCase, (item.id, case.id))
    if link is None:
        raise ValidationFailed(N_("This case is not linked to the item."))
    _claim(item, now)
    db.session.delete(link)
    item_event(item, "unlink_case", now, actor.id, note=note, case=case)
    db.session.commit()
    return item


def _require_manager(actor: User) -> None:
    if not may_manage_items(actor.roles):
        raise NotAllowed("only supervisors change ledger items")


def _note(note: str) -> str:
    text = clean_text(note)
    if not text:
        raise ValidationFailed("a note is required", {"note": N_("This field is required.")})
    if len(text) > NOTE_MAX:
        raise ValidationFailed("the note is too long", {"note": N_("At most 4,000 characters.")})
    if has_control_characters(text):
        raise ValidationFailed(
            "bad characters", {"note": N_("Contains characters that are not allowed.")}
        )
    return text


def _claim(
    item: LedgerItem,
    now: datetime,
    *,
    seen: datetime | None = None,
    status: LedgerItemStatus | None = None,
    unless_status: LedgerItemStatus | None = None,
) -> None:
    """Take the item for this change in one UPDATE that also checks what the actor saw
    (when it last changed, its status): of two concurrent changes one wins, and the
    other is refused with StaleVersion instead of both being written."""
    conditions: list[sa.ColumnElement[bool]] = [LedgerItem.id == item.id]
    if seen is not None:
        conditions.append(LedgerItem.updated_at == seen)
    if status is not None:
        conditions.append(LedgerItem.status == status)
    if unless_status is not None:
        conditions.append(LedgerItem.status != unless_status)
    result = db.session.execute(
        sa.update(LedgerItem)
        .where(*conditions)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise StaleVersion(f"ledger item {item.id} was changed by someone else")


def _checked_fields(ledger: Ledger, fields: ItemFields, errors: dict[str, Any]) -> _Checked:
    """The fields cleaned, or ValidationFailed with every reason (``errors`` may hold
    some already)."""
    title = clean_text(fields.title)
    if not title:
        errors["title"] = N_("This field is required.")
    elif len(title) > TITLE_MAX:
        errors["title"] = N_("At most 300 characters.")
    elif has_control_characters(title) or "\n" in title:
        errors["title"] = N_("Contains characters that are not allowed.")
    plan_text = clean_text(fields.plan_text)
    if len(plan_text) > PLAN_TEXT_MAX:
        errors["plan_text"] = N_("At most 4,000 characters.")
    elif has_control_characters(plan_text):
        errors["plan_text"] = N_("Contains characters that are not allowed.")
    if fields.category_id is not None:
        category = db.session.get(LedgerCategory, fields.category_id)
        if category is None or category.ledger_id != ledger.id:
            errors["category_id"] = N_("Choose a category of this ledger.")
    if fields.owner_department_id is not None:
        department = db.session.get(Department, fields.owner_department_id)
        if department is None or department.retired_at is not None:
            errors["owner_department_id"] = N_("Choose a department.")
    if fields.responsible_leader_id is not None:
        leader = db.session.get(User, fields.responsible_leader_id)
        if leader is None or not leader.active or not leader.has_role(Role.LEADER):
            errors["responsible_leader_id"] = N_("Choose a responsible leader.")
    try:
        milestones = checked_milestones(fields.milestones)
    except ValidationFailed as error:
        errors.update(error.field_errors)
        milestones = []
    if errors:
        raise ValidationFailed("the item's fields are not valid", errors)
    return _Checked(
        title,
        fields.category_id,
        fields.owner_department_id,
        fields.responsible_leader_id,
        fields.target_date,
        plan_text,
        milestones,
    )


def _milestone_rows(
    item: LedgerItem, milestones: list[Milestone], now: datetime
) -> list[LedgerMilestone]:
    """New rows for the item's milestones. A milestone already done (the same day and
    text) keeps the moment it was done; one newly done is done ``now``."""
    done_before: dict[tuple[date, str], list[datetime]] = {}
    for row in item.milestones if item.id is not None else ():
        if row.done_at is not None:
            done_before.setdefault((row.due_date, row.title), []).append(row.done_at)
    rows = []
    for milestone in milestones:
        assert milestone.due_on is not None  # checked
        done_at = None
        if milestone.done:
            earlier = done_before.get((milestone.due_on, milestone.text))
            done_at = earlier.pop(0) if earlier else now
        rows.append(
            LedgerMilestone(title=milestone.text, due_date=milestone.due_on, done_at=done_at)
        )
    return sorted(rows, key=lambda row: row.due_date)


def _milestones_data(rows: Sequence[LedgerMilestone]) -> list[dict[str, Any]]:
    return [
        {"due": row.due_date.isoformat(), "text": row.title, "done": row.done_at is not None}
        for row in rows
    ]


def _snapshot(item: LedgerItem) -> dict[str, Any]:
    """The item's editable fields as an event's data keeps them."""
    return {
        "title": item.title,
        "category_id": item.category_id,
        "owner_department_id": item.owner_department_id,
        "responsible_leader_id": item.responsible_leader_id,
        "target_date": item.target_date.isoformat() if item.target_date else None,
        "plan_text": item.plan_text,
        "milestones": _milestones_data(item.milestones),
    }
