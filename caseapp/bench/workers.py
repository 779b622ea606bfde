"""What the worker does at scale (issue 19): the deadline sweep over the seeded clocks,
and draining a backlog of notices with the configured backend (the log by default).

Figures are printed, never asserted: clocks and notices per second, and the process's
peak resident memory (``resource.getrusage``) after each part.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import CaseClock, OutboxMessage
from caseapp.models.enums import OutboxChannel, OutboxStatus
from caseapp.models.types import utcnow

NOTICE_BATCH = 5000


@dataclass(frozen=True)
class SweepFigure:
    """One timed sweep: when it looked, the running clocks it covered, what it did."""

    at: datetime
    running_clocks: int
    due_clocks: int
    seconds: float
    report: str
    peak_rss_mb: float

    @property
    def clocks_per_second(self) -> float:
        return self.running_clocks / self.seconds if self.seconds else float("inf")


@dataclass(frozen=True)
class DeliveryFigure:
    """One timed drain of a backlog of ``queued`` notices."""

    queued: int
    sent: int
    seconds: float
    peak_rss_mb: float

    @property
    def notices_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else float("inf")


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux counts kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def time_sweep(at: datetime) -> SweepFigure:
    """Run one deadline sweep as if it were ``at`` and time it."""
    from caseapp.services.casework.sweep import run_sweep

    running = db.session.scalar(
        sa.select(sa.func.count()).select_from(CaseClock).where(CaseClock.stopped_at.is_(None))
    )
    due = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CaseClock)
        .where(CaseClock.next_escalation_at <= at, CaseClock.stopped_at.is_(None))
    )
    db.session.rollback()
    started = time.perf_counter()
    report = run_sweep(at)
    seconds = time.perf_counter() - started
    db.session.remove()
    return SweepFigure(at, running or 0, due or 0, seconds, str(report), peak_rss_mb())


def queue_notices(count: int, now: datetime | None = None) -> str:
    """Write ``count`` due SMS notices to the outbox in bulk; their keys' common prefix."""
    now = now or utcnow()
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    for first in range(0, count, NOTICE_BATCH):
        db.session.execute(
            sa.insert(OutboxMessage.__table__),
            [
                {
                    "idempotency_key": f"{prefix}-{i}",
                    "channel": OutboxChannel.SMS,
                    "recipient": f"138{i:08d}",
                    "template": "receipt",
                    "language": "zh_CN",
                    "params": {"number": f"YC2026-{i:06d}"},
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now - timedelta(seconds=1),
                    "last_error": "",
                    "created_at": now,
                }
                for i in range(first, min(first + NOTICE_BATCH, count))
            ],
        )
        db.session.commit()
    return prefix


def time_delivery(config: Mapping[str, Any], count: int) -> DeliveryFigure:
    """Queue ``count`` notices and time draining them as the worker does (one
    ``deliver_due`` without a time bound), the log backend writing to nowhere."""
    from caseapp.notify.delivery import deliver_due

    queue_notices(count)
    notify_log = logging.getLogger("caseapp.notify")
    level, propagate = notify_log.level, notify_log.propagate
    with open(os.devnull, "w", encoding="utf-8") as nowhere:
        handler = logging.StreamHandler(nowhere)
        notify_log.addHandler(handler)
        notify_log.setLevel(logging.INFO)
        notify_log.propagate = False
        try:
            started = time.perf_counter()
            report = deliver_due(config)
            seconds = time.perf_counter() - started
        finally:
            notify_log.removeHandler(handler)
            notify_log.setLevel(level)
            notify_log.propagate = propagate
    db.session.remove()
    return DeliveryFigure(count, report.sent, seconds, peak_rss_mb())
