"""The admin audit log (DESIGN §8): every change made in the admin console, with who
made it, when, and the values before and after. Written in the change's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import AuditLog, User
from caseapp.models.types import utcnow


def _plain(value: Any) -> Any:
    """A value as JSON can hold it: dates as ISO text, enums as their value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value


def record(
    actor: User | None,
    entity: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime | None = None,
) -> AuditLog:
    """Add one audit row (the caller commits with the change itself)."""
    row = AuditLog(
        at=now or utcnow(),
        actor_id=actor.id if actor is not None else None,
        entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None,
        action=action,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    db.session.add(row)
    return row


Snapshot = Callable[[Any], dict[str, Any]]


class AuditedChange:
    """The subject of one ``audited`` change, and its values before the change."""

    def __init__(self, snapshot_of: Snapshot) -> None:
        self._snapshot_of = snapshot_of
        self.subject: Any = None
        self.before: dict[str, Any] | None = None
        self.values: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None

    def track(self, subject: object, *, new: bool = False) -> None:
        """Name what the change is about, once the input has passed its checks and
        before anything is applied (``new``: it did not exist before)."""
        self.subject = subject
        self.before = None if new else self._snapshot_of(subject)

    def record_as(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """Write these values instead of the snapshots (what must not be kept: a
        password, even hashed; ``after`` None for a row deleted)."""
        self.values = (before, after)

    def after(self) -> dict[str, Any]:
        return self._snapshot_of(self.subject)


@contextmanager
def audited(
    actor: User | None,
    entity: str,
    action: str,
    snapshot_of: Snapshot,
    now: datetime | None = None,
) -> Iterator[AuditedChange]:
    """One admin change as one unit of work: validate, snapshot, apply, audit, commit.

    The body checks the input (raising ``ValidationFailed`` before it writes), names the
    subject with ``change.track`` and applies the change. At the end the audit row
    (before and after; none when nothing changed) is added and all is committed in
    one transaction. Any error rolls everything back: no view has to."""
    change = AuditedChange(snapshot_of)
    try:
        yield change
        if change.subject is not None:
            db.session.flush()
            before, after = change.values or (change.before, change.after())
            if after != before:
                (key,) = sa.inspect(change.subject).identity
                record(actor, entity, key, action, before, after, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def snapshot(obj: object, fields: Sequence[str]) -> dict[str, Any]:
    """The named attributes of ``obj``, for the before and after of a change."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def recent(limit: int = 200, entity: str | None = None) -> Sequence[AuditLog]:
    """The newest audit rows first (of one kind of entity, when given)."""
    query = sa.select(AuditLog).options(joinedload(AuditLog.actor))
    if entity:
        query = query.where(AuditLog.entity == entity)
    return db.session.scalars(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    ).all()
