"""The outbox worker: claim due notices under a lease, send them, mark them.

Delivery is at-least-once. A worker takes a lease on the rows it claims (with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, in an immediate transaction on SQLite), so two
workers never take the same row; it sends outside any transaction and marks what it
sent at least every ``MARK_EVERY`` seconds. A worker that dies (``kill -9``, a lost
host) leaves its lease to run out (``OUTBOX_LEASE_SECONDS``, 5 minutes by default), and
the next worker sends what it had not marked again, with the same idempotency key, which
the gateway can use to drop the repeat: at most the last fraction of a second's notices
go twice, never a whole batch. A worker sends from a batch only during the first half of
its lease and gives the rest back, so a row is never sent by a live worker and taken by
another at the same time, however slow the gateway.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import OutboxMessage
from caseapp.models.enums import OutboxStatus
from caseapp.models.types import utcnow
from caseapp.notify.backends import Backend, DeliveryError, Notice, backend_for

# The lease when OUTBOX_LEASE_SECONDS does not say: how long notices claimed by a worker
# that died wait before another worker takes them.
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
# Seconds between marks of what a batch has sent so far: one short transaction each, so
# a fast backend (the log) still marks a whole batch at once, while a slow gateway's
# notices are marked a few at a time and a killed worker repeats few of them.
MARK_EVERY = 0.2


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failure, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_of(config: Mapping[str, Any]) -> timedelta:
    """The lease a worker takes on the notices it claims (OUTBOX_LEASE_SECONDS)."""
    seconds = config.get("OUTBOX_LEASE_SECONDS")
    return LEASE if seconds is None else timedelta(seconds=int(seconds))


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    drained: bool = False  # nothing was left due (not stopped by the time budget)


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int
    notice: Notice


def claim(worker_id: str, now: datetime, limit: int, lease: timedelta = LEASE) -> list[Claimed]:
    """Take a lease on up to ``limit`` due notices, in one short transaction."""
    stmt = (
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = db.session.scalars(stmt).all()
    claimed = []
    for row in rows:
        row.claimed_by = worker_id
        row.claimed_until = now + lease
        claimed.append(
            Claimed(
                row.id,
                row.attempts,
                Notice(
                    idempotency_key=row.idempotency_key,
                    channel=str(row.channel),
                    recipient=row.recipient,
                    template=row.template,
                    language=row.language,
                    params=dict(row.params),
                ),
            )
        )
    db.session.commit()
    return claimed


def _settle(row_id: int, worker_id: str, values: Mapping[str, Any]) -> None:
    """Update a claimed row, only while this worker still holds its lease."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == worker_id)
        .values(claimed_by=None, claimed_until=None, **values)
    )
    db.session.commit()


def _release(worker_id: str, row_ids: Sequence[int]) -> None:
    """Give back the lease on claimed rows this worker did not send: due at once again."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids), OutboxMessage.claimed_by == worker_id)
        .values(claimed_by=None, claimed_until=None)
    )
    db.session.commit()


def _settle_all(worker_id: str, settled: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """``_settle`` for a batch, in one transaction: one UPDATE per kind of outcome."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in settled:
        by_columns.setdefault(tuple(sorted(values)), []).append(
            {"b_id": row_id, **{f"b_{name}": value for name, value in values.items()}}
        )
    table = OutboxMessage.__table__
    for columns, params in by_columns.items():
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"), table.c.claimed_by == worker_id)
            .values(
                claimed_by=None,
                claimed_until=None,
                **{name: sa.bindparam(f"b_{name}") for name in columns},
            ),
            params,
        )
    db.session.commit()


def deliver_due(
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    worker_id: str | None = None,
    limit: int = 100,
    budget: float | None = None,
    backends: Mapping[str, Backend] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Send the notices that are due, claiming ``limit`` at a time, until none is left
    or ``budget`` seconds have passed (0: one batch; None: no bound); return what
    happened. What a batch sent is marked at least every ``MARK_EVERY`` seconds: a
    worker that dies before that leaves its lease to run out, and those notices go
    again with the same keys (at-least-once). A batch is sent during the first half of
    its lease only; what is left then is given back and claimed again."""
    worker_id = worker_id or default_worker_id()
    report = DeliveryReport()
    cache: dict[str, Backend] = dict(backends or {})
    max_attempts = int(config["OUTBOX_MAX_ATTEMPTS"])
    lease = lease_of(config)
    started = time.monotonic()
    while True:
        claimed_at = time.monotonic()
        batch = claim(worker_id, now or clock(), limit, lease)
        # A send begun in the first half of the lease ends before the lease does (the
        # backends' own timeouts are far shorter), so no other worker takes the row
        # while it is being sent.
        send_until = claimed_at + lease.total_seconds() / 2
        settled: list[tuple[int, Mapping[str, Any]]] = []
        marked_at = time.monotonic()
        sent_up_to = 0  # items of the batch tried so far
        try:
            for item in batch:
                # The first item always goes, so that every batch makes progress.
                if sent_up_to and time.monotonic() >= send_until:
                    break
                sent_up_to += 1
                settled.append((item.id, _send(item, config, cache, max_attempts, report, clock)))
                if time.monotonic() - marked_at >= MARK_EVERY:
                    _settle_all(worker_id, settled)
                    settled, marked_at = [], time.monotonic()
        finally:
            # What was sent before an unexpected error is marked all the same, and
            # what was not tried is given back (the item that raised keeps its lease).
            if settled:
                _settle_all(worker_id, settled)
            given_back = [item.id for item in batch[sent_up_to:]]
            if given_back:
                _release(worker_id, given_back)
        if len(batch) < limit and not given_back:
            report.drained = True
            return report
        if budget is not None and time.monotonic() - started >= budget:
            return report


def _send(
    item: Claimed,
    config: Mapping[str, Any],
    cache: dict[str, Backend],
    max_attempts: int,
    report: DeliveryReport,
    clock: Callable[[], datetime],
) -> Mapping[str, Any]:
    """Send one claimed notice; the values its row is to be marked with."""
    report.claimed += 1
    channel = item.notice.channel
    try:
        backend = cache.get(channel) or cache.setdefault(channel, backend_for(channel, config))
        backend.send(item.notice)
    except (DeliveryError, ValueError, KeyError) as exc:
        attempts = item.attempts + 1
        dead = attempts >= max_attempts
        report.dead += dead
        report.retried += not dead
        report.errors.append(f"{item.notice.idempotency_key}: {exc}")
        return {
            "attempts": attempts,
            "last_error": str(exc)[:2000],
            "status": OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
            "next_attempt_at": clock() + backoff(attempts),
        }
    report.sent += 1
    return {"status": OutboxStatus.SENT, "sent_at": clock(), "attempts": item.attempts + 1}
