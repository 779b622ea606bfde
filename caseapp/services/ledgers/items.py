"""Ledger items and cases (DESIGN §5): linking, marking legacy, and the item's status as
its cases and a supervisor's hand make it (the rule is in ``caseapp.workflow.ledger_items``):
``reevaluate_items_of`` follows every change of a linked case, so the order in which cases
close, are withdrawn, rejected, reinstated, reopened, linked or unlinked never changes the
result. And the items a supervisor keeps by hand: create, edit (with the item's plan),
write off, reopen, unlink a case. Every change of an item is a ``LedgerItemEvent``;
``set_item_status`` is the one place that changes an item's status.

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
    CaseEvent,
    Department,
    Ledger,
    LedgerCategory,
    LedgerItem,
    LedgerItemCase,
    LedgerItemEvent,
    LedgerMilestone,
    User,
)
from caseapp.models.enums import (
    CloseReason,
    EventAction,
    LedgerItemAction,
    LedgerItemStatus,
    LedgerKind,
    Role,
)
from caseapp.models.types import utcnow
from caseapp.services.casework.plans import Milestone, checked_milestones
from caseapp.services.errors import NotAllowed, NotFound, StaleVersion, ValidationFailed
from caseapp.services.filing.validation import clean_text, has_control_characters, parse_id
from caseapp.services.messages import N_, Message
from caseapp.services.transactions import one_transaction
from caseapp.workflow.ledger_items import (
    HAND_ACTIONS,
    CasesChanged,
    HandMark,
    LinkedCase,
    item_status,
    may_manage_items,
)

LEGACY_LEDGER_CODE = "legacy"
# The case actions that can change what a case says about its items: each close (rated,
# no rating, a further redo refused), a rating (unsatisfied: a redo), a redo decision,
# reopen, withdraw, reject, reinstate, merge. The lifecycle services call
# ``reevaluate_items_of`` after each; linking and unlinking a case are changes too.
CASE_CHANGES = frozenset(
    {
        EventAction.RATE,
        EventAction.DECIDE_REDO,
        EventAction.FEEDBACK_WINDOW_PASSES,
        EventAction.REOPEN,
        EventAction.WITHDRAW,
        EventAction.REJECT,
        EventAction.REINSTATE,
        EventAction.MERGE,
    }
)
LINK_CHANGES = frozenset({LedgerItemAction.LINK_CASE, LedgerItemAction.UNLINK_CASE})


def legacy_ledger() -> Ledger:
    ledger = db.session.scalar(
        sa.select(Ledger).where(Ledger.kind == LedgerKind.LEGACY).order_by(Ledger.id)
    )
    if ledger is None:
        raise NotFound("there is no legacy-issue ledger (理旧账)")
    return ledger


def legacy_categories() -> list[LedgerCategory]:
    """The categories of the legacy-issue ledger (none if there is no such ledger)."""
    return list(
        db.session.scalars(
            sa.select(LedgerCategory)
            .join(Ledger)
            .where(Ledger.kind == LedgerKind.LEGACY)
            .order_by(LedgerCategory.ledger_id, LedgerCategory.sort_order, LedgerCategory.id)
        )
    )


def check_legacy_ledger() -> None:
    """Refuse to mark a case legacy before there is a legacy-issue ledger, on the form's
    ``legacy`` field, so a filing that asks for it is not made without it."""
    if db.session.scalar(sa.select(Ledger.id).where(Ledger.kind == LedgerKind.LEGACY).limit(1)):
        return
    raise ValidationFailed(
        "there is no legacy-issue ledger",
        {"legacy": N_("There is no legacy-issue ledger yet: an administrator sets it up first.")},
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
    action: LedgerItemAction,
    now: datetime,
    actor_id: int | None,
    *,
    note: str = "",
    case: Case | None = None,
    data: dict[str, Any] | None = None,
    from_status: LedgerItemStatus | None = None,
) -> None:
    """Record a change of an item (its status as it is now; ``from_status`` when the
    change set it)."""
    item.updated_at = now
    db.session.add(
        LedgerItemEvent(
            item_id=item.id,
            at=now,
            actor_id=actor_id,
            action=action,
            from_status=from_status or item.status,
            to_status=item.status,
            note=note,
            case_id=case.id if case else None,
            data=data or {},
        )
    )


def set_item_status(
    item: LedgerItem,
    status: LedgerItemStatus,
    action: LedgerItemAction,
    now: datetime,
    actor_id: int | None,
    *,
    note: str = "",
    case: Case | None = None,
    written_off_at: datetime | None = None,
) -> None:
    """Change an item's status with its event: the one place that writes an item off
    (when and why: ``written_off_at``, default now, and ``note``) or takes the write-off
    back. A change by hand names no ``case``; one by the item's cases names the case whose
    change caused it."""
    from_status = item.status
    item.status = status
    if status is LedgerItemStatus.WRITTEN_OFF:
        item.written_off_at = written_off_at or now
        item.written_off_note = note
    else:
        item.written_off_at = None
        item.written_off_note = ""
    item_event(item, action, now, actor_id, note=note, case=case, from_status=from_status)


def linked_cases(item: LedgerItem) -> list[LinkedCase]:
    """What the write-off rule reads of the cases linked to ``item``."""
    rows = db.session.execute(
        sa.select(Case.status, Case.close_reason, Case.accepted_at)
        .join(LedgerItemCase, LedgerItemCase.case_id == Case.id)
        .where(LedgerItemCase.item_id == item.id)
        .order_by(Case.id)
    )
    return [LinkedCase(status, reason, accepted is not None) for status, reason, accepted in rows]


def _hand_marks() -> sa.ColumnElement[bool]:
    """Item events that are a write-off or reopen by hand (no case named), or an import
    of a written-off item (the demo's campaign is imported so)."""
    return sa.or_(
        sa.and_(LedgerItemEvent.action.in_(HAND_ACTIONS), LedgerItemEvent.case_id.is_(None)),
        sa.and_(
            LedgerItemEvent.action == LedgerItemAction.IMPORTED,
            LedgerItemEvent.to_status == LedgerItemStatus.WRITTEN_OFF,
        ),
    )


def _last_hand_mark(item: LedgerItem) -> tuple[HandMark, datetime] | None:
    row = db.session.execute(
        sa.select(LedgerItemEvent.action, LedgerItemEvent.at)
        .where(LedgerItemEvent.item_id == item.id, _hand_marks())
        .order_by(LedgerItemEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    action, at = row
    if action == LedgerItemAction.IMPORTED:
        return HandMark(LedgerItemAction.WRITE_OFF), at
    return HandMark(LedgerItemAction(action)), at


def reevaluate_item(
    item: LedgerItem, case: Case, now: datetime, actor_id: int | None
) -> LedgerItemStatus:
    """After ``case`` changed (one of ``CASE_CHANGES``) or was linked to or unlinked from
    ``item``: set the item to what its cases and the last hand mark say now, with an event
    naming ``case`` only when the status changes. Returns the status."""
    mark = _last_hand_mark(item)
    history: list[HandMark | CasesChanged] = [mark[0]] if mark else []
    history.append(CasesChanged(tuple(linked_cases(item))))
    status = item_status(history, started=item.status is not LedgerItemStatus.OPEN)
    if status is not item.status:
        if status is LedgerItemStatus.WRITTEN_OFF:
            action = LedgerItemAction.WRITE_OFF
        elif item.status is LedgerItemStatus.WRITTEN_OFF:
            action = LedgerItemAction.UNDO_WRITE_OFF
        else:
            action = LedgerItemAction.IN_PROGRESS
        set_item_status(item, status, action, now, actor_id, case=case)
    return status


def reevaluate_items_of(case: Case, now: datetime, actor_id: int | None) -> None:
    """Follow a change of ``case`` (one of ``CASE_CHANGES``) on every item it is linked
    to; the lifecycle services call it after each such action."""
    for item in items_of(case):
        reevaluate_item(item, case, now, actor_id)


def expected_item_state(item: LedgerItem) -> LedgerItemStatus:
    """The status ``item`` should have, computed afresh from the database: its hand marks,
    the events of its linked cases and its links, not its status column. For tests (the
    lifecycle property test): a missed ``reevaluate_items_of`` shows as a difference.

    Order comes from the events' times, so the changes must carry increasing times; a hand
    mark at the very instant of a change of the cases counts as before it."""
    ids = list(
        db.session.scalars(
            sa.select(LedgerItemCase.case_id).where(LedgerItemCase.item_id == item.id)
        )
    )
    changed_at = db.session.scalar(
        sa.select(sa.func.max(LedgerItemEvent.at)).where(
            LedgerItemEvent.item_id == item.id, LedgerItemEvent.action.in_(LINK_CHANGES)
        )
    )
    if ids:
        case_changed_at = db.session.scalar(
            sa.select(sa.func.max(CaseEvent.at)).where(
                CaseEvent.case_id.in_(ids), CaseEvent.action.in_(CASE_CHANGES)
            )
        )
        linked_at = db.session.scalar(
            sa.select(sa.func.max(LedgerItemCase.linked_at)).where(
                LedgerItemCase.item_id == item.id
            )
        )
        changed_at = max(t for t in (changed_at, case_changed_at, linked_at) if t is not None)
    started = bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerItemEvent)
            .where(
                LedgerItemEvent.item_id == item.id,
                LedgerItemEvent.to_status != LedgerItemStatus.OPEN,
            )
        )
    )
    cases = CasesChanged(tuple(linked_cases(item)))
    mark = _last_hand_mark(item)
    history: list[HandMark | CasesChanged]
    if mark is None:
        history = [cases] if changed_at is not None else []
    elif changed_at is None or mark[1] > changed_at:
        history = [cases, mark[0]] if changed_at is not None else [mark[0]]
    else:
        history = [mark[0], cases]
    return item_status(history, started=started)


def link_case(item: LedgerItem, case: Case, now: datetime, actor_id: int | None) -> None:
    """Link ``case`` to ``item`` (idempotent) and follow the change: an open item goes in
    progress once a linked case has been accepted, a case linked open takes a written-off
    item back, one linked closed may complete it. A merged case is refused: its links live
    on the case it was merged into, and it never writes an item off."""
    if case.close_reason is CloseReason.MERGED:
        raise ValidationFailed(
            N_("A merged case is not linked to ledger items; link the case it was merged into.")
        )
    if _add_link(item, case, now, actor_id):
        reevaluate_item(item, case, now, actor_id)


def _add_link(item: LedgerItem, case: Case, now: datetime, actor_id: int | None) -> bool:
    if db.session.get(LedgerItemCase, (item.id, case.id)) is not None:
        return False
    db.session.add(LedgerItemCase(item_id=item.id, case_id=case.id, linked_at=now))
    item_event(item, LedgerItemAction.LINK_CASE, now, actor_id, case=case)
    return True


@dataclass(frozen=True)
class LegacyEntry:
    """How a case enters the legacy-issue ledger: as a new item of a category with a
    target date, or linked to an item already there for the same matter."""

    category_id: int | None = None
    target_date: date | None = None
    item_id: int | None = None


def mark_legacy(
    case: Case, now: datetime, actor_id: int | None, entry: LegacyEntry | None = None
) -> LedgerItem:
    """Give a legacy case (历史遗留) its item in the legacy ledger — a new one, or the
    existing item ``entry`` names — or return the item it has."""
    ledger = legacy_ledger()
    for item in items_of(case):
        if item.ledger_id == ledger.id:
            return item
    entry = entry or LegacyEntry()
    if entry.item_id is not None:
        found = db.session.get(LedgerItem, entry.item_id)
        if found is None or found.ledger_id != ledger.id:
            raise ValidationFailed(
                "not a legacy item", {"item": N_("Choose an item of the legacy-issue ledger.")}
            )
        case.is_legacy = True
        link_case(found, case, now, actor_id)
        return found
    if entry.category_id is not None and entry.category_id not in {c.id for c in ledger.categories}:
        raise ValidationFailed(
            "not a legacy category",
            {"category": N_("Choose a category of the legacy-issue ledger.")},
        )
    case.is_legacy = True
    item = LedgerItem(
        ledger_id=ledger.id,
        category_id=entry.category_id,
        target_date=entry.target_date,
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
    item_event(item, LedgerItemAction.CREATED_FROM_CASE, now, actor_id, case=case)
    link_case(item, case, now, actor_id)
    return item


# How many items a case page suggests, and how many candidates it scores to find them.
SUGGESTED_ITEMS = 5
CANDIDATE_ITEMS = 200


def _bigrams(text: str) -> set[str]:
    """Pairs of neighbouring characters, the unit Chinese words share (圣惠路 → 圣惠, 惠路),
    without spaces and punctuation."""
    letters = [ch for ch in text.lower() if ch.isalnum()]
    return {a + b for a, b in zip(letters, letters[1:], strict=False)}


def matching_items(case: Case) -> list[LedgerItem]:
    """Items of the legacy ledger, not written off, that may be the same matter as
    ``case``: their titles share words with the case's title or name its place; the
    closest first."""
    ledger = db.session.scalar(
        sa.select(Ledger).where(Ledger.kind == LedgerKind.LEGACY).order_by(Ledger.id)
    )
    place = clean_text(case.public_location or "")
    words = _bigrams(case.title) | _bigrams(place)
    if ledger is None or not words:
        return []
    linked = sa.select(LedgerItemCase.item_id).where(LedgerItemCase.case_id == case.id)
    patterns = [LedgerItem.title.contains(w, autoescape=True) for w in sorted(words)[:40]]
    candidates = db.session.scalars(
        sa.select(LedgerItem)
        .where(
            LedgerItem.ledger_id == ledger.id,
            LedgerItem.status != LedgerItemStatus.WRITTEN_OFF,
            LedgerItem.id.not_in(linked),
            sa.or_(*patterns),
        )
        .order_by(LedgerItem.id.desc())
        .limit(CANDIDATE_ITEMS)
    ).all()

    def closeness(item: LedgerItem) -> int:
        shared = len(_bigrams(item.title) & words)
        return shared + (3 if place and place in item.title else 0)

    scored = [(closeness(item), item) for item in candidates]
    close = [(score, item) for score, item in scored if score >= 2]
    close.sort(key=lambda pair: (-pair[0], -pair[1].id))
    return [item for _, item in close[:SUGGESTED_ITEMS]]


def on_case_accepted(case: Case, now: datetime, actor_id: int | None) -> None:
    """The first dispatch of a linked case puts its open items in progress (it does not
    change what the case says about a write-off)."""
    for item in items_of(case):
        if item.status is LedgerItemStatus.OPEN:
            set_item_status(
                item,
                LedgerItemStatus.IN_PROGRESS,
                LedgerItemAction.IN_PROGRESS,
                now,
                actor_id,
                case=case,
            )


def move_links(source: Case, target: Case, now: datetime, actor_id: int | None) -> None:
    """On a merge, the merged case's ledger links move to the surviving case, and each
    item follows the change."""
    for link in list(
        db.session.scalars(sa.select(LedgerItemCase).where(LedgerItemCase.case_id == source.id))
    ):
        item = db.session.get(LedgerItem, link.item_id)
        assert item is not None
        db.session.delete(link)
        db.session.flush()
        item_event(
            item,
            LedgerItemAction.UNLINK_CASE,
            now,
            actor_id,
            note=f"merged into {target.number}",
            case=source,
        )
        _add_link(item, target, now, actor_id)
        reevaluate_item(item, target, now, actor_id)


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
    """The item someone names by its code (``SS2021-0001``, a legacy case's number), by
    its number (``#12`` or ``12``) or by words of its title (an item not written off).
    A code or words that several items share are refused, naming the items."""
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
    if item is not None:
        return item
    by_title = db.session.scalars(
        sa.select(LedgerItem)
        .where(
            LedgerItem.title.contains(text, autoescape=True),
            LedgerItem.status != LedgerItemStatus.WRITTEN_OFF,
        )
        .order_by(LedgerItem.id.desc())
        .limit(SUGGESTED_ITEMS + 1)
    ).all()
    if len(by_title) == 1:
        return by_title[0]
    if by_title:
        shown = "; ".join(f"#{i.id} {i.title}" for i in by_title[:SUGGESTED_ITEMS])
        raise ValidationFailed(
            "several items match",
            {"item": Message(N_("Several items match: %(items)s. Give the item's number."),
                             items=shown + ("; …" if len(by_title) > SUGGESTED_ITEMS else ""))},
        )  # fmt: skip
    raise ValidationFailed(
        "no such item",
        {"item": N_("There is no ledger item with this code, number or title.")},
    )


@one_transaction
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
    item_event(item, LedgerItemAction.CREATED, now, actor.id, data={"fields": _snapshot(item)})
    db.session.commit()
    return item


@one_transaction
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
    item_event(item, LedgerItemAction.UPDATE, now, actor.id, data={"changes": changes})
    if item.status is LedgerItemStatus.OPEN and any(row.done_at for row in rows):
        set_item_status(
            item, LedgerItemStatus.IN_PROGRESS, LedgerItemAction.IN_PROGRESS, now, actor.id
        )
    db.session.commit()
    return item


@one_transaction
def write_off_item(
    item: LedgerItem, actor: User, note: str, now: datetime | None = None
) -> LedgerItem:
    """销号 by hand, with a note saying why; refused when the item is written off
    already. It stands until the item's cases next change (see ``reevaluate_item``): a
    case closing with an answer leaves it, one still open after such a change, or newly
    linked open, takes it back."""
    return _mark_by_hand(item, actor, note, now, LedgerItemAction.WRITE_OFF)


@one_transaction
def reopen_item(
    item: LedgerItem, actor: User, note: str, now: datetime | None = None
) -> LedgerItem:
    """Take a written-off item back in progress, with a note saying why; it stands until
    the item's cases next change."""
    return _mark_by_hand(item, actor, note, now, LedgerItemAction.REOPEN)


def _mark_by_hand(
    item: LedgerItem, actor: User, note: str, now: datetime | None, action: LedgerItemAction
) -> LedgerItem:
    """A write-off or reopen by hand: the new status is what the rule gives after the
    mark (``item_status``); the item must be written off to reopen, and not to write off."""
    now = now or utcnow()
    _require_manager(actor)
    note = _note(note)
    written_off = item.status is LedgerItemStatus.WRITTEN_OFF
    if action is LedgerItemAction.WRITE_OFF and written_off:
        raise ValidationFailed(N_("This item is written off already."))
    if action is LedgerItemAction.REOPEN and not written_off:
        raise ValidationFailed(N_("Only a written-off item can be reopened."))
    if written_off:
        _claim(item, now, status=LedgerItemStatus.WRITTEN_OFF)
    else:
        _claim(item, now, unless_status=LedgerItemStatus.WRITTEN_OFF)
    status = item_status([HandMark(action)], started=True)
    set_item_status(item, status, action, now, actor.id, note=note)
    db.session.commit()
    return item


@one_transaction
def unlink_case(
    item: LedgerItem, case: Case, actor: User, note: str, now: datetime | None = None
) -> LedgerItem:
    """Take a case off an item (linked by mistake), with a note; the item then follows
    the cases that remain (unlinking the last open one writes it off when the others
    closed with an answer; with none left that counts, the last hand mark holds)."""
    now = now or utcnow()
    _require_manager(actor)
    note = _note(note)
    link = db.session.get(LedgerItemCase, (item.id, case.id))
    if link is None:
        raise ValidationFailed(N_("This case is not linked to the item."))
    _claim(item, now)
    db.session.delete(link)
    item_event(item, LedgerItemAction.UNLINK_CASE, now, actor.id, note=note, case=case)
    reevaluate_item(item, case, now, actor.id)
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
